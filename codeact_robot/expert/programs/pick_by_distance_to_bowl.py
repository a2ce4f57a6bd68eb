# ruff: noqa: F821  (sandbox names)
"""PickByDistanceToBowl: pick up the block <closest to|farthest from> the <bowl> and place it on the <place>."""


def solve(extreme, bowl, place):
    if "choice" not in memory:
        centre = get_object_position(bowl)
        by_distance = sorted(names_of("block"), key=lambda b: xy_distance(get_object_position(b), centre))
        memory["choice"] = by_distance[0] if extreme == "closest" else by_distance[-1]
    block, target = memory["choice"], get_location(place)
    if not is_at(block, target):
        move(block, target)
    finish(is_at(block, target), f"the {block} is on the {place}")
