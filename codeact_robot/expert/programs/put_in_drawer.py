# ruff: noqa: F821  (sandbox names)
"""PutInDrawer: open the <drawer>, put the <object> in it and close it."""

STEP = 0.015  # a move_to shorter than 2 cm sideways goes straight, without lifting first
TRAVEL = 0.12  # how far the drawer slides out
INTO_TRAY = 0.06  # from the cabinet's front edge back to the middle of the drawer's open part
PUSH_FROM = 0.03  # closed fingers start a push this far in front of the knob's centre
CONTACT = 0.02  # and touch the knob when this far in front of it
PUSH_BEYOND = 0.005  # pushed this much past closed, against the cabinet: the drawer surely shuts
TRIES = 2


def knob_offset(drawer):
    """The knob's x relative to the cabinet's centre (more negative: further out)."""
    return float(get_object_position(drawer + " handle")[0] - get_object_position(drawer)[0])


def opening(drawer):
    """How far the drawer is out, from the knob's offset when it was first seen closed."""
    return memory["closed_offset"] - knob_offset(drawer)


def slide(drawer, to_opening):
    """Hold the knob and slide the drawer out, or push it in with closed fingers, to ``to_opening``.

    How far to go is measured before the gripper reaches the knob: over it, the gripper hides it from the top camera.
    """
    gap = to_opening - opening(drawer)
    knob = get_object_position(drawer + " handle")
    if gap > 0:
        open_gripper()
        move_to([knob[0], knob[1], knob[2]], 0.0)
        close_gripper()
        end = knob[0] - gap
    else:
        close_gripper()
        move_to([knob[0] - PUSH_FROM, knob[1], knob[2]], 0.0)
        end = knob[0] - gap - CONTACT + PUSH_BEYOND
    start = get_gripper_position()
    steps = int(abs(end - start[0]) / STEP) + 1
    for k in range(1, steps + 1):
        move_to([start[0] + (end - start[0]) * k / steps, start[1], start[2]])
    open_gripper()
    here = get_gripper_position()
    move_to([here[0], here[1], here[2] + 0.12])


def solve(drawer, object):
    if "closed_offset" not in memory:
        memory["closed_offset"] = knob_offset(drawer)  # the drawer starts closed
    if object in get_object_names() and not memory.get("placed"):
        for _ in range(TRIES):
            if opening(drawer) < TRAVEL - 0.01:
                slide(drawer, TRAVEL)
        front = get_object_position(drawer)[0] - (get_object_bbox(drawer)[1][0] - get_object_position(drawer)[0])
        centre = get_object_position(drawer)
        pick_and_place(object, [front - INTO_TRAY, centre[1], 0.06])
        inside = get_object_position(object)
        memory["placed"] = abs(inside[1] - centre[1]) < 0.05 and inside[0] < front
    for _ in range(TRIES):
        if opening(drawer) > 0.004:
            slide(drawer, 0.0)
    go_home()
    finish(
        memory.get("placed", False) and object not in get_object_names() and opening(drawer) < 0.008,
        f"the {object} is in the {drawer}, which is closed",
    )
