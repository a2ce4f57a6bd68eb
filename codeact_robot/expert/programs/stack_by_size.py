# ruff: noqa: F821  (sandbox names)
"""StackBySize: one tower of all the blocks, largest at the bottom."""


def solve():
    order = sorted(names_of("block"), key=lambda b: (-round(height(b), 3), b))  # bottom to top
    finish(build_tower(order), "the blocks stand in one tower, largest at the bottom: " + ", ".join(order))
