# ruff: noqa: F821  (sandbox names)
"""FindUnderCrate: the <colour> block is under one of the crates; find it and put it in the <bowl>."""

KNOB_BELOW_TOP = 0.01  # hold the knob this far below the crate's top


def lift_away(crate):
    """Lift a crate by its knob and set it down on a free spot."""
    p = get_object_position(crate)
    grip_z = get_object_bbox(crate)[1][2] - KNOB_BELOW_TOP
    open_gripper()
    move_to([p[0], p[1], grip_z])
    if not close_gripper():
        open_gripper()
        return False
    move_to([p[0], p[1], grip_z + 0.12])
    spot = free_spot(avoid=[p[:2]], clearance=0.13)
    if spot is None:
        spot = free_spot(avoid=[p[:2]], clearance=0.1)
    move_to([spot[0], spot[1], grip_z + 0.003])
    open_gripper()
    move_to([spot[0], spot[1], grip_z + 0.12])
    return True


def solve(object, bowl):
    block = object
    for crate in names_of("crate"):
        if block in get_object_names():
            break
        if crate not in memory.setdefault("lifted", []):
            print(f"looking under the {crate}")
            if lift_away(crate):
                memory["lifted"].append(crate)
    if block not in get_object_names():
        print(f"the {block} is not under any crate I could lift")
        return
    if not is_in(block, bowl):
        move(block, bowl)
    finish(is_in(block, bowl), f"found the {block} and put it in the {bowl}")
