"""Motion skills: move, grasp, place, push. Each steps the simulation until the motion settles.

Motions go up to a carry height above everything, across, and down, so the arm does
not sweep through objects. Invalid requests raise before anything moves; physical
failures (a missed grasp, an object that fell) return False.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from codeact_robot.envs.objects import KINDS, split_name
from codeact_robot.envs.robot import HOME_JOINTS, MAX_GRIPPER_WIDTH
from codeact_robot.envs.tasks.checks import BOWL_INNER_RADIUS
from codeact_robot.envs.workspace import DIRECTIONS, WORKSPACE
from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.controller import APPROACH_SPEED
from codeact_robot.skills.perception import ObjectEstimate
from codeact_robot.skills.registry import skill
from codeact_robot.skills.validation import as_name, as_number, as_vector, as_workspace_position

MIN_CARRY_HEIGHT = 0.25  # above a four-block tower with a block in hand
CLEARANCE = 0.06  # above the tallest object while carrying
HOVER = 0.08  # above the grasp or release point before the slow final approach
GRASP_BELOW_TOP = 0.02  # fingertips close this far below an object's top (a block's centre)
MIN_FINGERTIP_Z = 0.012  # fingertips never go lower (the table is at 0)
EMPTY_GRIP = 0.005  # closed narrower than this: nothing between the fingers
DROP_ABOVE_RIM = 0.012  # release height above a bowl's rim
PUSH_GAP = 0.03  # start a push this far behind the object
PUSHER_DEPTH = 0.015  # the closed fingers' front face is this far ahead of the fingertip point
PUSH_SPEED = 0.1
PUSH_STROKES = 3
PUSH_TOLERANCE = 0.02
MAX_PUSH = 0.3


def _carry_height(ctx: SkillContext, held: str | None) -> float:
    tops = [e.top for e in ctx.perception.estimates().values() if e.name != held]
    hang = KINDS[split_name(held)[1]].size[2] if held else 0.0
    height = max([MIN_CARRY_HEIGHT, *(top + hang + CLEARANCE for top in tops)])
    return min(height, WORKSPACE.high[2])


def _travel(ctx: SkillContext, target: np.ndarray, yaw: float | None, carry: float) -> bool:
    """Up to ``carry``, across, then down to ``target`` (straight when it is below the gripper)."""
    controller = ctx.controller
    here = ctx.world.robot.ee_position()
    if np.hypot(*(target[:2] - here[:2])) > 0.02:
        if here[2] < carry - 0.01:
            controller.move_line((here[0], here[1], carry))
        controller.move_line((target[0], target[1], max(carry, target[2])), yaw)
    return controller.move_line(target, yaw)


def _grasp_yaw(object_yaw: float) -> float:
    """Gripper yaw aligned with a square object's faces, as close to 0 as possible."""
    return (object_yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4


def _fingertip_for_centre(kind: str, centre_z: float) -> float:
    """Fingertip height that holds a ``kind`` object with its centre at ``centre_z``."""
    return centre_z + KINDS[kind].half_height - GRASP_BELOW_TOP


def _touching_other(ctx: SkillContext, held: str) -> bool:
    """Whether the held object touches anything but the robot."""
    return bool(ctx.world.sim.contact_bodies(held) - {ctx.world.robot.name})


def _retreat(ctx: SkillContext, carry: float) -> None:
    here = ctx.world.robot.ee_position()
    ctx.controller.move_line((here[0], here[1], max(here[2] + 0.05, carry)))


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
    yaw = None if yaw is None else as_number(yaw, "yaw")
    return bool(_travel(ctx, target, yaw, _carry_height(ctx, ctx.held_object())))


@skill("motion")
def open_gripper(ctx: SkillContext) -> bool:
    """Open the fingers fully (8 cm), releasing whatever is held.

    Returns:
        True once the fingers are open.

    Example:
        open_gripper()
    """
    return bool(ctx.controller.open_gripper() > MAX_GRIPPER_WIDTH - 0.005)


@skill("motion")
def close_gripper(ctx: SkillContext) -> bool:
    """Close the fingers until they stop on an object or meet.

    Returns:
        True if something is between the fingers, False if they closed on nothing.

    Example:
        move_to(get_object_position("red block")); close_gripper()
    """
    return bool(ctx.controller.close_gripper() > EMPTY_GRIP)


@skill("motion")
def pick(ctx: SkillContext, name: str) -> bool:
    """Pick up an object: open, approach from above, grasp, lift to a safe height.

    Blocks and cups can be picked; bowls are too wide for the gripper.

    Args:
        name: object to pick, e.g. "red block".

    Returns:
        True if the object is held afterwards; False if the grasp missed or it slipped.

    Raises:
        ValueError: unknown object, an object that cannot be grasped, or the gripper
            already holds another object.

    Example:
        if not pick("red block"): pick("red block")  # try again
    """
    target = ctx.perception.locate(as_name(name))
    spec = KINDS[target.kind]
    if not spec.graspable:
        graspable = ", ".join(k for k, v in KINDS.items() if v.graspable)
        raise ValueError(
            f"the {target.name} is {spec.size[0] * 100:.0f} cm wide and cannot be grasped "
            f"(the gripper opens {MAX_GRIPPER_WIDTH * 100:.0f} cm); graspable kinds: {graspable}"
        )
    held = ctx.held_object()
    if held == target.name:
        return True
    if held is not None:
        raise ValueError(f"the gripper already holds the {held}; place it before picking the {target.name}")
    if not WORKSPACE.contains(target.position[:2]):
        raise ValueError(
            f"the {target.name} at {np.round(target.position, 3).tolist()} is outside the workspace "
            f"({WORKSPACE.describe()}) and cannot be reached"
        )
    carry = _carry_height(ctx, None)
    yaw = _grasp_yaw(target.orientation[2])
    grasp = np.array([*target.position[:2], max(target.top - GRASP_BELOW_TOP, MIN_FINGERTIP_Z)])
    controller = ctx.controller
    controller.open_gripper()
    _travel(ctx, grasp + [0.0, 0.0, HOVER], yaw, carry)
    controller.move_line(grasp, yaw, speed=APPROACH_SPEED)
    if controller.close_gripper() < EMPTY_GRIP:
        controller.open_gripper()
        _retreat(ctx, carry)
        return False
    controller.move_line((grasp[0], grasp[1], carry))
    return ctx.held_object() == target.name


@skill("motion")
def place(ctx: SkillContext, target: str | Sequence[float]) -> bool:
    """Put the held object down and release it, then move the arm back home.

    Args:
        target: an object name (on top of a block or cup, into a bowl), a table
            position [x, y] (on the table, or on whatever stands there), or [x, y, z]
            (the object's centre is lowered towards z until it touches something).

    Returns:
        True if the object came to rest where asked; False if nothing was held or it
        ended elsewhere.

    Raises:
        TypeError, ValueError: an unknown object, the held object itself, or a position
            that is malformed or outside the workspace.

    Example:
        pick("red block"); place("blue bowl")
    """
    destination = _resolve_target(ctx, target)
    held = ctx.held_object()
    if isinstance(destination, ObjectEstimate) and destination.name == held:
        raise ValueError(f"cannot place the {held} on itself")
    if held is None:
        return False
    kind = split_name(held)[1]
    half = KINDS[kind].half_height
    carry = _carry_height(ctx, held)
    yaw = ctx.world.robot.ee_yaw()
    if isinstance(destination, ObjectEstimate) and destination.kind == "bowl":
        spot = _free_spot_in_bowl(ctx, destination, held)
        release = np.array([*spot, _fingertip_for_centre(kind, destination.top + half + DROP_ABOVE_RIM)])
        _travel(ctx, release, yaw, carry)
    else:
        if isinstance(destination, ObjectEstimate):
            spot = destination.position[:2]
            centre_z = destination.top + half
        elif len(destination) == 2:
            spot = destination
            centre_z = _surface_height(ctx, destination, held) + half
        else:
            spot, centre_z = destination[:2], max(destination[2], half)
        bottom = np.array([*spot, _fingertip_for_centre(kind, centre_z - 0.01)])
        _travel(ctx, bottom + [0.0, 0.0, HOVER], yaw, carry)
        ctx.controller.move_line(bottom, yaw, speed=APPROACH_SPEED, stop=lambda: _touching_other(ctx, held))
    ctx.controller.open_gripper()
    _retreat(ctx, carry)
    ctx.controller.move_joints(HOME_JOINTS)  # out of the cameras' view, so the next look is clear
    return bool(_placed_as_asked(ctx, held, destination))


def _resolve_target(ctx: SkillContext, target: object) -> ObjectEstimate | np.ndarray:
    if isinstance(target, str):
        return ctx.perception.locate(target)
    return as_workspace_position(target, "target position", sizes=(2, 3))


def _surface_height(ctx: SkillContext, xy: np.ndarray, held: str) -> float:
    """Top of whatever stands at ``xy`` (0 for the bare table)."""
    tops = [
        e.top
        for e in ctx.perception.estimates().values()
        if e.name != held and np.all(xy >= e.bbox[0][:2]) and np.all(xy <= e.bbox[1][:2])
    ]
    return max(tops, default=0.0)


def _free_spot_in_bowl(ctx: SkillContext, bowl: ObjectEstimate, held: str) -> np.ndarray:
    """The point inside the bowl farthest from the objects already in it."""
    centre = bowl.position[:2]
    inside = [
        e.position[:2]
        for e in ctx.perception.estimates().values()
        if e.name not in (held, bowl.name) and np.hypot(*(e.position[:2] - centre)) < BOWL_INNER_RADIUS
    ]
    if not inside:
        return centre
    offset = BOWL_INNER_RADIUS - 0.03
    candidates = [centre] + [centre + offset * np.array([math.cos(a), math.sin(a)]) for a in np.arange(8) * math.pi / 4]
    return max(candidates, key=lambda c: min(np.hypot(*(c - p)) for p in inside))


def _placed_as_asked(ctx: SkillContext, held: str, destination: ObjectEstimate | np.ndarray) -> bool:
    estimates = ctx.perception.estimates()
    if held not in estimates:
        return True  # hidden from view now (e.g. dropped into a same-coloured bowl); it was released on target
    placed = estimates[held].position
    if isinstance(destination, ObjectEstimate):
        if destination.name not in estimates:
            return True
        below = estimates[destination.name]
        distance = float(np.hypot(*(placed[:2] - below.position[:2])))
        if below.kind == "bowl":
            return distance < BOWL_INNER_RADIUS and placed[2] < below.top + 0.05
        return distance < 0.025 and placed[2] > below.position[2]
    return float(np.hypot(*(placed[:2] - destination[:2]))) < 0.03


@skill("motion")
def pick_and_place(ctx: SkillContext, obj: str, target: str | Sequence[float]) -> bool:
    """Pick up an object and place it on a target (see pick and place).

    Args:
        obj: object to move, e.g. "red block".
        target: object name or position, as for place().

    Returns:
        True if both the grasp and the placement succeeded.

    Raises:
        TypeError, ValueError: as pick() and place(), checked before anything moves.

    Example:
        pick_and_place("red block", "blue bowl")
    """
    obj = as_name(obj, "obj")
    ctx.perception.locate(obj)
    if isinstance(_resolve_target(ctx, target), ObjectEstimate) and target == obj:
        raise ValueError(f"cannot place the {obj} on itself")
    return bool(pick(ctx, obj) and place(ctx, target))


@skill("motion")
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
        True if the object ended within 2 cm of the point it was pushed towards.

    Raises:
        TypeError, ValueError: unknown object or direction, a distance out of range, or
            a push that would start or end outside the workspace.

    Example:
        push("red block", "left", 0.1)
    """
    target = ctx.perception.locate(as_name(name))
    unit = _push_direction(direction)
    distance = as_number(distance, "distance")
    if not 0.0 < distance <= MAX_PUSH:
        raise ValueError(f"distance must be in (0, {MAX_PUSH}] metres, got {distance}")
    goal = target.position[:2] + unit * distance
    half = KINDS[target.kind].size[0] / 2
    for point, label in ((target.position[:2] - unit * (half + PUSH_GAP), "start"), (goal, "end")):
        if not WORKSPACE.contains(point):
            raise ValueError(
                f"the push would {label} at {np.round(point, 3).tolist()}, outside the workspace "
                f"({WORKSPACE.describe()})"
            )
    height = max(target.bbox[0][2] + 0.015, MIN_FINGERTIP_Z + 0.003)
    carry = _carry_height(ctx, ctx.held_object())  # a push does not make anything taller
    ctx.controller.close_gripper()
    current = target
    for _ in range(PUSH_STROKES):
        remaining = goal - current.position[:2]
        if float(np.linalg.norm(remaining)) < PUSH_TOLERANCE:
            break
        stroke = remaining / float(np.linalg.norm(remaining))
        start = np.array([*(current.position[:2] - stroke * (half + PUSH_GAP)), height])
        end = np.array([*(goal - stroke * (half + PUSHER_DEPTH)), height])
        yaw = (math.atan2(stroke[1], stroke[0]) + math.pi / 2) % math.pi - math.pi / 2  # fingers side by side
        _travel(ctx, start, yaw, carry)
        ctx.controller.move_line(end, yaw, speed=PUSH_SPEED)
        _retreat(ctx, carry)
        moved = ctx.perception.estimates().get(target.name)
        if moved is None:
            return False
        current = moved
    return bool(np.linalg.norm(goal - current.position[:2]) < PUSH_TOLERANCE)


def _push_direction(direction: object) -> np.ndarray:
    if isinstance(direction, str):
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {direction!r}; directions are: {', '.join(DIRECTIONS)} or [dx, dy]")
        return np.array(DIRECTIONS[direction], dtype=float)
    vector = as_vector(direction, "direction", sizes=(2,))
    norm = float(np.linalg.norm(vector))
    if norm < 1e-9:
        raise ValueError("direction vector must not be zero")
    return vector / norm


@skill("motion")
def go_home(ctx: SkillContext) -> bool:
    """Move the arm back to its home pose, clear of the cameras' view.

    Returns:
        True once the arm is home.

    Example:
        go_home()
    """
    here = ctx.world.robot.ee_position()
    carry = _carry_height(ctx, ctx.held_object())
    if here[2] < carry - 0.01:
        ctx.controller.move_line((here[0], here[1], carry))
    return bool(ctx.controller.move_joints(HOME_JOINTS))
