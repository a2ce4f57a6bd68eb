# ruff: noqa: F821  (sandbox names)
"""PutInDrawer: open the <drawer>, put the <object> in it and close it."""

STEP = 0.015  # a move_to shorter than 2 cm sideways goes straight, without lifting first
TRAVEL = 0.12  # how far the drawer slides out
INTO_TRAY = 0.06  # from the cabinet's front edge back to the middle of the drawer's open part


def knob_offset(drawer):
    """The knob's x relative to the cabinet's centre (more negative: further out)."""
    return float(get_object_position(drawer + " handle")[0] - get_object_position(drawer)[0])


def opening(drawer):
    """How far the drawer is out, from the knob's offset when it was first seen closed."""
    return memory["closed_offset"] - knob_offset(drawer)


def slide(drawer, to_opening):
    """Hold the knob and slide the drawer out, or push it in with closed fingers, to ``to_opening``."""
    knob = get_object_position(drawer + " handle")
    pulling = to_opening > opening(drawer)
    if pulling:
        open_gripper()
        move_to([knob[0], knob[1], knob[2]], 0.0)
        close_gripper()
    else:
        close_gripper()
        move_to([knob[0] - 0.03, knob[1], knob[2]], 0.0)
    for _ in range(int(abs(to_opening - opening(drawer)) / STEP) + 2):
        gap = to_opening - opening(drawer)
        if abs(gap) < 0.004:
            break
        here = get_gripper_position()
        move_to([here[0] - np.sign(gap) * min(abs(gap), STEP), here[1], here[2]])
    open_gripper()
    here = get_gripper_position()
    move_to([here[0], here[1], here[2] + 0.12])


def solve(drawer, object):
    if "closed_offset" not in memory:
        memory["closed_offset"] = knob_offset(drawer)  # the drawer starts closed
    if object in get_object_names() and not memory.get("placed"):
        if opening(drawer) < TRAVEL - 0.01:
            slide(drawer, TRAVEL)
        front = get_object_position(drawer)[0] - (get_object_bbox(drawer)[1][0] - get_object_position(drawer)[0])
        centre = get_object_position(drawer)
        pick_and_place(object, [front - INTO_TRAY, centre[1], 0.06])
        inside = get_object_position(object)
        memory["placed"] = abs(inside[1] - centre[1]) < 0.05 and inside[0] < front
    if opening(drawer) > 0.004:
        slide(drawer, 0.0)
    go_home()
    finish(
        memory.get("placed", False) and object not in get_object_names() and opening(drawer) < 0.008,
        f"the {object} is in the {drawer}, which is closed",
    )
