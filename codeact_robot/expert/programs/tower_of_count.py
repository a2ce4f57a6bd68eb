# ruff: noqa: F821  (sandbox names)
"""TowerOfCount: make a tower of as many blocks as there are bowls, plus one."""


def solve():
    height = len(names_of("bowl")) + 1
    blocks = names_of("block")
    print(f"{height - 1} bowl(s): a tower of {height} blocks")
    tower = stack_onto(blocks[0], blocks[:height])
    finish(len(tower) == height, f"a tower of {len(tower)}: " + ", ".join(tower))
