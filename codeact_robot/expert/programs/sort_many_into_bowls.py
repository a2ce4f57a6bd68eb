# ruff: noqa: F821  (sandbox names)
"""SortManyIntoBowls: every block into the bowl of its colour; some start stacked."""

MAX_MOVES = 20  # each of at most nine blocks moved twice, and a spare


def solve():
    def bowl_of(block):
        return block.split(" ")[-2] + " bowl"  # "large red block" -> "red bowl"

    # The blocks are looked up afresh each round: a block piled under others in its bowl may be out
    # of sight, and one under another at the start may only show its true size once uncovered.
    for _ in range(MAX_MOVES):
        blocks = names_of("block")
        pending = [b for b in blocks if not is_in(b, bowl_of(b))]
        if not pending:
            break
        uncovered = [b for b in pending if not any(o != b and rests_on(o, b) for o in blocks)]
        # Smaller blocks first: a block is let go just above a bowl's rim, so one carried over a large block
        # already in the bowl (which stands higher than the rim) would be pushed into it and scatter the scene.
        block = min(uncovered or pending, key=lambda b: (round(height(b), 3), -float(get_object_position(b)[2])))
        move(block, bowl_of(block))
    finish(all(is_in(b, bowl_of(b)) for b in names_of("block")), "every block is in the bowl of its colour")
