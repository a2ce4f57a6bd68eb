# ruff: noqa: F821  (sandbox names)
"""MatchingBowls: put all the blocks in the bowls with matching colors."""


def solve():
    def bowl_of(block):
        return block.replace(" block", " bowl")

    blocks = list(memory.setdefault("blocks", names_of("block")))
    for block in blocks:
        if block in get_object_names() and not is_in(block, bowl_of(block)):
            move(block, bowl_of(block))
    placed = [b for b in blocks if b not in get_object_names() or is_in(b, bowl_of(b))]
    finish(len(placed) == len(blocks), "every block is in the bowl of its colour")
