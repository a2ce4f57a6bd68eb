# ruff: noqa: F821  (sandbox names)
"""MismatchedBowls: put the blocks in the bowls with mismatched colors."""


def solve():
    if "plan" not in memory:
        blocks, bowls = names_of("block"), names_of("bowl")
        # Shift the bowls by one so that no block gets the bowl of its own colour.
        memory["plan"] = {block: bowls[(i + 1) % len(bowls)] for i, block in enumerate(blocks)}
        for block, bowl in memory["plan"].items():
            if bowl.split()[0] == block.split()[0]:
                memory["plan"][block] = next(b for b in bowls if b.split()[0] != block.split()[0])
    for block, bowl in memory["plan"].items():
        if not is_in(block, bowl):
            move(block, bowl)
    finish(all(is_in(b, w) for b, w in memory["plan"].items()), "every block is in a bowl of another colour")
