# ruff: noqa: F821  (sandbox names)
"""StackBlocks: stack all the blocks into one tower."""


def solve():
    blocks = names_of("block")
    standing = [b for b in blocks if get_object_position(b)[2] < 0.03]
    # Build on the block that already carries the tallest tower (the first one if none).
    base = max(standing, key=lambda b: len(tower_from(b, blocks)))
    tower = stack_onto(base, blocks)
    finish(len(tower) == len(blocks), "all the blocks are stacked")
