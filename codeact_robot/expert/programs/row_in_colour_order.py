# ruff: noqa: F821  (sandbox names)
"""RowInColourOrder: the blocks in a left-to-right row in the instruction's <order>."""

SPACING = 0.08  # centre to centre (the instruction allows 5-12 cm)


def solve(order):
    middle = np.array(get_location("middle"), dtype=float)
    first = (len(order) - 1) / 2
    goal = {b: middle + [0.0, (first - i) * SPACING] for i, b in enumerate(order)}  # left is +y
    arrange(goal)
    ok = all(on_table(b) and is_at(b, goal[b], 0.015) for b in order)
    finish(ok, "the blocks stand in a row: " + ", ".join(order))
