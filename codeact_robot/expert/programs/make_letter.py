# ruff: noqa: F821  (sandbox names)
"""MakeLetter: an upright letter <letter> of blocks on an 8 cm grid, centred on the middle of the table."""

SPACING = 0.08
CELLS = {  # (row, column): rows run top to bottom (-x), columns left to right (-y), as in the top camera
    "L": [(0, 0), (1, 0), (2, 0), (2, 1)],
    "T": [(0, 0), (0, 1), (0, 2), (1, 1), (2, 1)],
}


def solve(letter):
    cells = np.array(CELLS[letter], dtype=float)
    cells -= (cells.min(axis=0) + cells.max(axis=0)) / 2  # the letter's box centred
    points = [np.array(get_location("middle"), dtype=float) - SPACING * c for c in cells]
    if "goal" not in memory:  # each cell takes the nearest block still free
        goal, free = {}, list(names_of("block"))
        for point in points:
            block = min(free, key=lambda b: xy_distance(get_object_position(b), point))
            free.remove(block)
            goal[block] = point
        memory["goal"] = goal
    arrange(memory["goal"])
    ok = all(on_table(b) and is_at(b, p, 0.015) for b, p in memory["goal"].items())
    finish(ok, f"the blocks form the letter {letter}")
