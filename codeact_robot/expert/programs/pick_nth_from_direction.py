# ruff: noqa: F821  (sandbox names)
"""PickNthFromDirection: pick up the <nth> block from the <direction> and place it on the <place>."""


def solve(ordinal, direction, place):
    if "choice" not in memory:
        unit = np.array(DIRECTION_VECTORS[direction], dtype=float)
        from_that_side = sorted(names_of("block"), key=lambda b: -float(get_object_position(b)[:2] @ unit))
        memory["choice"] = from_that_side[ordinal - 1]
    block, target = memory["choice"], get_location(place)
    if not is_at(block, target):
        move(block, target)
    finish(is_at(block, target), f"the {block} is on the {place}")
