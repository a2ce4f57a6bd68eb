# ruff: noqa: F821  (sandbox names)
"""FindHiddenBlock: the <colour> block is hidden under one of the cups; put it in the <bowl>."""


def solve(object, bowl):
    for cup in names_of("cup"):
        if object in get_object_names():
            break
        print(f"looking under the {cup}")
        if pick(cup):
            place(free_spot())
    if object not in get_object_names():
        print(f"the {object} is not under any cup I could lift")
        return
    if not is_in(object, bowl):
        move(object, bowl)
    finish(is_in(object, bowl), f"found the {object} and put it in the {bowl}")
