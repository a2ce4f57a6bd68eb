# ruff: noqa: F821  (sandbox names)
"""SortHiddenBlocks: some cups hide blocks; put every hidden block in the bowl of its color."""


def solve():
    for cup in names_of("cup"):
        if cup not in memory.setdefault("lifted", []):
            print(f"looking under the {cup}")
            if pick(cup) and place(free_spot()):
                memory["lifted"].append(cup)
    blocks = names_of("block")
    print(f"found {len(blocks)} hidden block(s): {', '.join(blocks)}")
    for block in blocks:
        bowl = block.replace(" block", " bowl")
        if not is_in(block, bowl):
            move(block, bowl)
    lifted_all = len(memory["lifted"]) == len(names_of("cup"))
    finish(
        lifted_all and all(is_in(b, b.replace(" block", " bowl")) for b in blocks),
        "every hidden block is in the bowl of its colour",
    )
