# ruff: noqa: F821  (sandbox names)
"""ClosestOnSide: put the block closest to the <bowl> among the blocks to the <direction> of the <anchor> into it."""


def solve(bowl, anchor, direction):
    if "answer" not in memory:  # decided once: moving the block changes where it is
        unit = np.array(DIRECTION_VECTORS[direction])
        a, w = get_object_position(anchor), get_object_position(bowl)
        candidates = [
            b for b in names_of("block") if b != anchor and float((get_object_position(b)[:2] - a[:2]) @ unit) > 0
        ]
        memory["answer"] = min(candidates, key=lambda b: xy_distance(get_object_position(b), w))
        print(f"to the {direction} of the {anchor}: {', '.join(candidates)}; nearest the {bowl}: {memory['answer']}")
    answer = memory["answer"]
    if not is_in(answer, bowl):
        move(answer, bowl)
    finish(is_in(answer, bowl), f"the {answer} is in the {bowl}")
