"""The task suite: Code as Policies' tabletop families plus tasks that need feedback.

``TASKS`` maps each task name to its :class:`Task`; :func:`get_task` looks one up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeact_robot.envs.errors import UsageError, unknown_name_error
from codeact_robot.envs.scene import ObjectState
from codeact_robot.envs.tasks.base import CheckResult, Task, TaskInstance
from codeact_robot.envs.tasks.bowls import BlocksInBowl, MatchingBowls, MismatchedBowls
from codeact_robot.envs.tasks.free import FREE_SCENE, free_scene
from codeact_robot.envs.tasks.hidden import FindHiddenBlock, SortHiddenBlocks
from codeact_robot.envs.tasks.placing import (
    BlocksInCorners,
    BlocksInLine,
    BlocksOnPlace,
    PickPlace,
    PlaceRelativeToBowl,
)
from codeact_robot.envs.tasks.relations import PickByDirectionFromBowl, PickByDistanceToBowl, PickNthFromDirection
from codeact_robot.envs.tasks.stacking import StackBlocks, StackOnPlace

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        # seen instructions
        PickPlace(),
        StackBlocks(),
        BlocksOnPlace(),
        BlocksInBowl(),
        MatchingBowls(),
        PickByDirectionFromBowl(),
        PickByDistanceToBowl(),
        PickNthFromDirection(),
        # unseen instructions
        BlocksInCorners(),
        MismatchedBowls(),
        StackOnPlace(),
        PlaceRelativeToBowl(),
        BlocksInLine(),
        # need feedback between turns
        FindHiddenBlock(),
        SortHiddenBlocks(),
    )
}


def get_task(name: str) -> Task:
    """The task called ``name`` (case-insensitive; a ``CodeActRobot/<Name>-v0`` id also works).

    Raises:
        UnknownNameError: listing the valid task names.
    """
    key = name.removeprefix("CodeActRobot/").removesuffix("-v0").replace("-", "").replace("_", "").lower()
    for task_name, task in TASKS.items():
        if task_name.lower() == key:
            return task
    raise unknown_name_error("task", name, TASKS)


def sample_instance(task: str | None, seed: int, options: Mapping[str, Any] | None = None) -> TaskInstance:
    """The episode for ``task`` and ``seed``; ``task=None`` (or "Tabletop") gives a free scene.

    Args:
        task: task name, or None for a free scene laid out from ``options``.
        seed: episode seed.
        options: for tasks, ``{"colours": "seen" | "unseen" | "all"}``; for free scenes,
            see :func:`free_scene`.
    """
    options = dict(options or {})
    if task is None or task == FREE_SCENE:
        return free_scene(seed, options)
    colours = options.pop("colours", "seen")
    if options:
        raise UsageError(f"unknown option(s) for task {task}: {', '.join(sorted(options))}; options are: colours")
    return get_task(task).sample(seed, colours)


def evaluate(instance: TaskInstance, objects: Mapping[str, ObjectState]) -> CheckResult | None:
    """The success check of an instance's task on object states (None for a free scene)."""
    if instance.task == FREE_SCENE:
        return None
    return get_task(instance.task).check(objects, instance.params)


__all__ = ["FREE_SCENE", "TASKS", "CheckResult", "Task", "TaskInstance", "evaluate", "get_task", "sample_instance"]
