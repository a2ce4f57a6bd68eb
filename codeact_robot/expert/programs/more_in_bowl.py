# ruff: noqa: F821  (sandbox names)
"""MoreInBowl: using all the blocks, put <more> more blocks in the <bowl> than in the <other>."""


def solve(bowl, other, more):
    blocks = names_of("block")
    in_other = (len(blocks) - more) // 2
    wanted = {bowl: len(blocks) - in_other, other: in_other}
    print(f"{len(blocks)} blocks: {wanted[bowl]} in the {bowl}, {wanted[other]} in the {other}")
    for block in blocks:
        if is_in(block, bowl) or is_in(block, other):
            continue
        counts = {b: len([x for x in blocks if is_in(x, b)]) for b in (bowl, other)}
        target = bowl if counts[bowl] < wanted[bowl] else other
        move(block, target)
    counts = {b: len([x for x in blocks if is_in(x, b)]) for b in (bowl, other)}
    finish(counts == wanted, f"the {bowl} holds {counts[bowl]} blocks, the {other} {counts[other]}")
