# ruff: noqa: F821  (sandbox names)
"""BlocksInBowl: put the blocks in the <bowl>."""


def solve(bowl):
    for block in names_of("block"):
        if not is_in(block, bowl):
            move(block, bowl)
    finish(all(is_in(b, bowl) for b in names_of("block")), f"the blocks are in the {bowl}")
