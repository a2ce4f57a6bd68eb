# ruff: noqa: F821  (sandbox names)
"""MakeSquare: the four blocks at the corners of a square of <side> metres centred at <centre>."""


def solve(side, centre):
    h = side / 2
    corners = [np.array([centre[0] + dx * h, centre[1] + dy * h]) for dx, dy in ((1, 1), (1, -1), (-1, -1), (-1, 1))]
    if "goal" not in memory:  # each corner takes the nearest block still free
        goal, free = {}, list(names_of("block"))
        for corner in corners:
            block = min(free, key=lambda b: xy_distance(get_object_position(b), corner))
            free.remove(block)
            goal[block] = corner
        memory["goal"] = goal
    arrange(memory["goal"])
    ok = all(on_table(b) and is_at(b, c, 0.015) for b, c in memory["goal"].items())
    finish(ok, f"the blocks stand at the corners of a {side * 100:.0f} cm square")
