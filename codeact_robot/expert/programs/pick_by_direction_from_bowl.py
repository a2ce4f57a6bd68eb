# ruff: noqa: F821  (sandbox names)
"""PickByDirectionFromBowl: pick up the block to the <direction> of the <bowl> and place it on the <place>."""


def solve(direction, bowl, place):
    if "choice" not in memory:
        centre = get_object_position(bowl)
        unit = np.array(DIRECTION_VECTORS[direction], dtype=float)

        def angle_off(block):
            offset = get_object_position(block)[:2] - centre[:2]
            return math.acos(float(np.clip(offset @ unit / np.linalg.norm(offset), -1, 1)))

        memory["choice"] = min(names_of("block"), key=angle_off)
    block, target = memory["choice"], get_location(place)
    if not is_at(block, target):
        move(block, target)
    finish(is_at(block, target), f"the {block} is on the {place}")
