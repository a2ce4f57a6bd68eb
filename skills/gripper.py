"""Gripper skills: where the gripper is, how open it is, what it holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from codeact_robot.skills.registry import WITH_OBJECT_STATE, skill
from codeact_robot.skills.validation import as_name

if TYPE_CHECKING:
    from codeact_robot.skills.context import SkillContext


@skill("gripper")
def get_gripper_position(ctx: SkillContext) -> np.ndarray:
    """Position of the point between the fingertips.

    Returns:
        np.array([x, y, z]) in metres.

    Example:
        x, y, z = get_gripper_position()
    """
    return ctx.world.robot.ee_position()


@skill("gripper")
def get_gripper_width(ctx: SkillContext) -> float:
    """Distance between the fingers: 0.08 when fully open, about 0.04 around a block.

    Returns:
        Width in metres.

    Example:
        if get_gripper_width() < 0.005: print("closed on nothing")
    """
    return ctx.world.robot.gripper_width()


@skill("gripper", WITH_OBJECT_STATE)
def is_holding(ctx: SkillContext, name: str | None = None) -> bool:
    """Whether the gripper holds an object (sensed by touch, between both fingers).

    Args:
        name: the object to ask about; None asks whether anything is held.

    Returns:
        True if the named object (or any object, for None) is held.

    Example:
        if not is_holding("red block"): print("the red block slipped")
    """
    held = ctx.world.held_object()
    if name is None:
        return held is not None
    return held == as_name(name)
