"""Motion skills: move, grasp, place, push. Each steps the simulation until the motion settles.

These functions are the API as code actions see it: signatures, documentation and
argument checks. How the arm carries them out is :mod:`manipulation`'s business.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from codeact_robot.envs.workspace import DIRECTIONS
from codeact_robot.skills.registry import HIGH_ONLY, skill
from codeact_robot.skills.validation import as_name, as_number, as_vector, as_workspace_position

if TYPE_CHECKING:
    from codeact_robot.skills.context import SkillContext


@skill("motion")
def move_to(ctx: SkillContext, position: Sequence[float], yaw: float | None = None) -> bool:
    """Move the fingertips to a position, gripper pointing down.

    The gripper rises above all objects before travelling sideways, then descends.

    Args:
        position: [x, y, z] in metres, inside get_workspace_bounds().
        yaw: gripper rotation about the vertical axis in radians; None keeps the current one.

    Returns:
        True if the fingertips reached the position (within 6 mm); False if blocked.

    Raises:
        TypeError, ValueError: a malformed position, or one outside the workspace.

    Example:
        move_to([0.45, 0.0, 0.2])
    """
    target = as_workspace_position(position)
    return bool(ctx.manipulator.move_to(target, None if yaw is None else as_number(yaw, "yaw")))


@skill("motion")
def open_gripper(ctx: SkillContext) -> bool:
    """Open the fingers fully (8 cm), releasing whatever is held.

    Returns:
        True once the fingers are open.

    Example:
        open_gripper()
    """
    return bool(ctx.manipulator.open_gripper())


@skill("motion")
def close_gripper(ctx: SkillContext) -> bool:
    """Close the fingers until they stop on an object or meet.

    Returns:
        True if something is between the fingers, False if they closed on nothing.

    Example:
        move_to([0.45, 0.1, 0.02]); close_gripper()
    """
    return bool(ctx.manipulator.close_gripper())


@skill("motion", HIGH_ONLY)
def pick(ctx: SkillContext, name: str) -> bool:
    """Pick up an object: open, approach from above, grasp, lift to a safe height.

    Blocks and cups can be picked; bowls are too wide for the gripper. The wrist turns so
    the fingers keep clear of the objects around, and they open no wider than needed.

    Args:
        name: object to pick, e.g. "red block".

    Returns:
        True if the object is held afterwards and nothing else was touched; False if the
        grasp missed, it slipped, or the arm touched another object (a line printed
        names it; check where it is now).

    Raises:
        ValueError: unknown object, an object that cannot be grasped, or the gripper
            already holds another object.

    Example:
        if not pick("red block"): pick("red block")  # try again
    """
    return bool(ctx.manipulator.pick(as_name(name)))


@skill("motion", HIGH_ONLY)
def place(ctx: SkillContext, target: str | Sequence[float]) -> bool:
    """Put the held object down and release it, then move the arm back home.

    The wrist turns so the fingers keep clear of the objects around the target.

    Args:
        target: an object name (on top of a block or cup, into a bowl), a table
            position [x, y] (on the table, or on whatever stands there), or [x, y, z]
            (the object's centre is lowered towards z until it touches something).

    Returns:
        True if the object came to rest where asked and nothing else was touched; False
        if nothing was held, it ended elsewhere, or the arm or the object touched
        anything but the target (a line printed names it; check where it is now).

    Raises:
        TypeError, ValueError: an unknown object, the held object itself, or a position
            that is malformed or outside the workspace.

    Example:
        pick("red block"); place("blue bowl")
    """
    return bool(ctx.manipulator.place(target))


@skill("motion", HIGH_ONLY)
def pick_and_place(ctx: SkillContext, obj: str, target: str | Sequence[float]) -> bool:
    """Pick up an object and place it on a target (see pick and place).

    Args:
        obj: object to move, e.g. "red block".
        target: object name or position, as for place().

    Returns:
        True if both the grasp and the placement succeeded without touching anything
        else. An object grasped is placed even if the pick touched a neighbour.

    Raises:
        TypeError, ValueError: as pick() and place(), checked before anything moves.

    Example:
        pick_and_place("red block", "blue bowl")
    """
    return bool(ctx.manipulator.pick_and_place(as_name(obj, "obj"), target))


@skill("motion", HIGH_ONLY)
def push(ctx: SkillContext, name: str, direction: str | Sequence[float], distance: float) -> bool:
    """Push an object along the table with the closed gripper.

    The push is closed-loop: it goes in up to three strokes, each aimed from where the
    object is now towards where it should end, so a block that turns is brought back
    on course.

    Args:
        name: object to push.
        direction: "left", "right", "top" or "bottom" (as seen from the top camera),
            or a vector [dx, dy].
        distance: how far to move the object, metres (at most 0.3).

    Returns:
        True if the object ended within 2 cm of the point it was pushed towards and
        neither it nor the arm touched another object (a line printed names it).

    Raises:
        TypeError, ValueError: unknown object or direction, a distance out of range, or
            a push that would start or end outside the workspace.

    Example:
        push("red block", "left", 0.1)
    """
    name = as_name(name)
    unit = _push_direction(direction)
    return bool(ctx.manipulator.push(name, unit, as_number(distance, "distance")))


def _push_direction(direction: object) -> np.ndarray:
    if isinstance(direction, str):
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}; directions are: {', '.join(DIRECTIONS)} or [dx, dy]")
        return np.array(DIRECTIONS[direction], dtype=float)
    vector = as_vector(direction, "direction", sizes=(2,))
    norm = float(np.hypot(*vector))  # not the norm's sum of squares, which overflows for huge finite components
    if norm < 1e-9:
        raise ValueError("direction vector must not be zero")
    return vector / norm


@skill("motion", HIGH_ONLY)
def go_home(ctx: SkillContext) -> bool:
    """Move the arm back to its home pose, clear of the cameras' view.

    Returns:
        True once the arm is home.

    Example:
        go_home()
    """
    return bool(ctx.manipulator.go_home())
