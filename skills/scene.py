"""Scene skills: what objects there are, where they are, and the table's named places."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from codeact_robot.envs.workspace import WORKSPACE, place_position
from codeact_robot.skills.registry import WITH_OBJECT_STATE, skill
from codeact_robot.skills.validation import as_name

if TYPE_CHECKING:
    from codeact_robot.skills.context import SkillContext


@skill("scene", WITH_OBJECT_STATE)
def get_object_names(ctx: SkillContext) -> list[str]:
    """Names of the objects the robot can see, sorted.

    Objects are named "<colour> <kind>", kinds being block, bowl and cup. An object
    nothing can see (a block hidden under a cup) is not listed.

    Returns:
        A list of names, e.g. ["blue bowl", "red block"].

    Example:
        blocks = [n for n in get_object_names() if n.endswith("block")]
    """
    return ctx.perception.names()


@skill("scene", WITH_OBJECT_STATE)
def get_object_position(ctx: SkillContext, name: str) -> np.ndarray:
    """Position of an object's centre (the centre of its bounding box).

    Args:
        name: object name, e.g. "red block".

    Returns:
        np.array([x, y, z]) in metres. A block standing on the table has z = 0.02.

    Raises:
        ValueError: no visible object has that name; the message lists the visible ones.

    Example:
        x, y, z = get_object_position("red block")
    """
    return ctx.perception.locate(as_name(name)).position.copy()


@skill("scene", WITH_OBJECT_STATE)
def get_object_orientation(ctx: SkillContext, name: str) -> tuple[float, float, float]:
    """Orientation of an object as (roll, pitch, yaw) in radians.

    An upright object has roll and pitch near 0; yaw is its rotation about the
    vertical axis (a block looks the same every 90 degrees, a round cup at every yaw).

    Args:
        name: object name.

    Returns:
        (roll, pitch, yaw) in radians.

    Raises:
        ValueError: no visible object has that name.

    Example:
        roll, pitch, yaw = get_object_orientation("red block")
    """
    return ctx.perception.locate(as_name(name)).orientation


@skill("scene", WITH_OBJECT_STATE)
def get_object_bbox(ctx: SkillContext, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounding box of an object.

    Args:
        name: object name.

    Returns:
        (min_corner, max_corner), each np.array([x, y, z]) in metres.

    Raises:
        ValueError: no visible object has that name.

    Example:
        low, high = get_object_bbox("blue bowl"); height = high[2] - low[2]
    """
    low, high = ctx.perception.locate(as_name(name)).bbox
    return low.copy(), high.copy()


@skill("scene")
def get_location(ctx: SkillContext, name: str) -> np.ndarray:
    """Position of a named place on the table.

    Places: "top left corner", "top side", "top right corner", "left side", "middle",
    "right side", "bottom left corner", "bottom side", "bottom right corner". As seen
    from the top camera, top is the far edge (+x) and left is the robot's left (+y).

    Args:
        name: the place's name.

    Returns:
        np.array([x, y]) in metres (on the table surface).

    Raises:
        ValueError: unknown place; the message lists the valid names.

    Example:
        x, y = get_location("top left corner"); move_to([x, y, 0.1])
    """
    return np.array(place_position(as_name(name, "place name")), dtype=float)


@skill("scene")
def get_workspace_bounds(ctx: SkillContext) -> dict[str, tuple[float, float]]:
    """The box the gripper can reach with its fingers pointing down.

    Returns:
        {"x": (min, max), "y": (min, max), "z": (min, max)} in metres.

    Example:
        bounds = get_workspace_bounds(); x_min, x_max = bounds["x"]
    """
    return {axis: (float(lo), float(hi)) for axis, lo, hi in zip("xyz", WORKSPACE.low, WORKSPACE.high)}
