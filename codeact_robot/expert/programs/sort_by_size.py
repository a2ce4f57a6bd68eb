# ruff: noqa: F821  (sandbox names)
"""SortBySize: the blocks in a left-to-right row, the smallest at the <smallest> end."""

SPACING = 0.08  # centre to centre (the instruction allows 5-12 cm)


def solve(smallest):
    if "order" not in memory:  # left to right; blocks of one size in name order
        by_size = sorted(names_of("block"), key=lambda b: (round(height(b), 3), b))
        memory["order"] = by_size if smallest == "left" else by_size[::-1]
    order = memory["order"]
    middle = np.array(get_location("middle"), dtype=float)
    first = (len(order) - 1) / 2
    goal = {b: middle + [0.0, (first - i) * SPACING] for i, b in enumerate(order)}  # left is +y
    arrange(goal)
    ok = all(on_table(b) and is_at(b, goal[b], 0.015) for b in order)
    finish(ok, f"the blocks stand in a row by size, the smallest on the {smallest}")
