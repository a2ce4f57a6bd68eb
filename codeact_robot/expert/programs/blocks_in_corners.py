# ruff: noqa: F821  (sandbox names)
"""BlocksInCorners: put all the blocks in different corners."""

CORNERS = ["top left corner", "top right corner", "bottom left corner", "bottom right corner"]


def solve():
    blocks = names_of("block")
    owner = {}
    for block in blocks:
        corner = next((c for c in CORNERS if c not in owner and is_at(block, get_location(c))), None)
        if corner:
            owner[corner] = block
    for block in blocks:
        if block in owner.values():
            continue
        corner = next(c for c in CORNERS if c not in owner)
        move(block, get_location(corner))
        owner[corner] = block
    ok = all(is_at(b, get_location(c)) for c, b in owner.items()) and len(owner) == len(blocks)
    finish(ok, "every block is in its own corner")
