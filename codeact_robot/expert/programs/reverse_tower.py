# ruff: noqa: F821  (sandbox names)
"""ReverseTower: unstack the tower and rebuild it bottom to top as <order>."""


def solve(order):
    finish(build_tower(order), "the tower is rebuilt, bottom to top: " + ", ".join(order))
