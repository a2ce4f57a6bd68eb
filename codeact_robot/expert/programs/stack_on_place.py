# ruff: noqa: F821  (sandbox names)
"""StackOnPlace: stack all the blocks on the <place>."""


def solve(place):
    target = get_location(place)
    blocks = names_of("block")
    at_place = [b for b in blocks if is_at(b, target) and get_object_position(b)[2] < 0.03]
    base = at_place[0] if at_place else blocks[0]
    if not at_place:
        move(base, target)
    tower = stack_onto(base, blocks)
    finish(len(tower) == len(blocks) and is_at(base, target), f"the blocks are stacked on the {place}")
