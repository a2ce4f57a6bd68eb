# ruff: noqa: F821  (sandbox names)
"""PutBackInBowl: put all the blocks in the <bowl>; a block placed may be taken out again, so look again."""


def solve(bowl):
    for round in range(3):
        outside = [b for b in names_of("block") if not is_in(b, bowl)]
        if not outside:
            break
        print(f"round {round + 1}: {', '.join(outside)} not in the {bowl} yet")
        for block in outside:
            move(block, bowl)
    finish(all(is_in(b, bowl) for b in names_of("block")), f"every block is in the {bowl}")
