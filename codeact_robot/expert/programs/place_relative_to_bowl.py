# ruff: noqa: F821  (sandbox names)
"""PlaceRelativeToBowl: place the <object> <a little|a lot> to the <direction> of the <bowl>."""

DIRECTION_VECTORS = {"left": (0, 1), "right": (0, -1), "top": (1, 0), "bottom": (-1, 0)}
DISTANCES = {"a little": 0.12, "a lot": 0.24}


def solve(object, amount, direction, bowl):
    if "target" not in memory:
        offset = DISTANCES[amount] * np.array(DIRECTION_VECTORS[direction], dtype=float)
        memory["target"] = get_object_position(bowl)[:2] + offset
    target = memory["target"]
    if not is_at(object, target, 0.02):
        move(object, target)
    finish(is_at(object, target, 0.03), f"the {object} is {amount} to the {direction} of the {bowl}")
