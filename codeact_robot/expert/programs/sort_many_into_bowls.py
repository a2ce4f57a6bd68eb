# ruff: noqa: F821  (sandbox names)
"""SortManyIntoBowls: every block into the bowl of its colour; some start stacked."""


def solve():
    def bowl_of(block):
        return block.split(" ")[-2] + " bowl"  # "large red block" -> "red bowl"

    blocks = list(memory.setdefault("blocks", names_of("block")))
    for _ in range(2 * len(blocks)):
        seen = get_object_names()  # a block piled under others in its bowl may be out of sight
        pending = [b for b in blocks if b in seen and not is_in(b, bowl_of(b))]
        if not pending:
            break
        uncovered = [b for b in pending if not any(o != b and o in seen and rests_on(o, b) for o in blocks)]
        # Larger blocks first, so smaller ones find room beside or on them rather than a big one dropped on a pile.
        block = max(uncovered or pending, key=lambda b: (round(height(b), 3), float(get_object_position(b)[2])))
        move(block, bowl_of(block))
    seen = get_object_names()
    placed = [b for b in blocks if b not in seen or is_in(b, bowl_of(b))]
    finish(len(placed) == len(blocks), "every block is in the bowl of its colour")
