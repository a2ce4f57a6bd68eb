"""The task suite: Code as Policies' tabletop families, tasks that need feedback, and tasks of many moves.

``TASKS`` maps each task name to its :class:`Task`; :func:`get_task` looks one up. The
groups it is made of are named too, for tests and benchmarks that take one group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks.arrangements import BuildPyramid, MakeLetter, MakeSquare, RowInColourOrder
from codeact_robot.envs.tasks.base import CheckResult, Task, TaskInstance
from codeact_robot.envs.tasks.bowls import BlocksInBowl, MatchingBowls, MismatchedBowls
from codeact_robot.envs.tasks.free import FreeScene
from codeact_robot.envs.tasks.hidden import FindHiddenBlock, SortHiddenBlocks
from codeact_robot.envs.tasks.long_horizon import ReverseTower, SortManyIntoBowls
from codeact_robot.envs.tasks.placing import (
    BlocksInCorners,
    BlocksInLine,
    BlocksOnPlace,
    PickPlace,
    PlaceRelativeToBowl,
)
from codeact_robot.envs.tasks.relations import PickByDirectionFromBowl, PickByDistanceToBowl, PickNthFromDirection
from codeact_robot.envs.tasks.sizes import SortBySize, StackBySize
from codeact_robot.envs.tasks.stacking import StackBlocks, StackOnPlace
from codeact_robot.errors import unknown_name_error

CAP_FAMILIES: tuple[Task, ...] = (
    # Code as Policies' seen instructions
    PickPlace(),
    StackBlocks(),
    BlocksOnPlace(),
    BlocksInBowl(),
    MatchingBowls(),
    PickByDirectionFromBowl(),
    PickByDistanceToBowl(),
    PickNthFromDirection(),
    # Code as Policies' unseen instructions
    BlocksInCorners(),
    MismatchedBowls(),
    StackOnPlace(),
    PlaceRelativeToBowl(),
    BlocksInLine(),
    # need feedback between turns
    FindHiddenBlock(),
    SortHiddenBlocks(),
)
"""Code as Policies' tabletop families and two with hidden blocks: one or a few pick-and-places each."""

ARRANGEMENT_FAMILIES: tuple[Task, ...] = (
    BuildPyramid(),
    MakeSquare(),
    RowInColourOrder(),
    MakeLetter(),
    SortBySize(),
    StackBySize(),
    ReverseTower(),
    SortManyIntoBowls(),
)
"""Precise arrangements, blocks of three sizes and long horizons: many moves each."""

TASKS: dict[str, Task] = {task.name: task for task in (*CAP_FAMILIES, *ARRANGEMENT_FAMILIES)}


TABLETOP = FreeScene()
"""The free scene: a task with no success check, laid out from reset options."""


def get_task(name: str) -> Task:
    """The task called ``name`` (case-insensitive; a ``CodeActRobot/<Name>-v0`` id also works).

    The free scene, ``Tabletop``, is a task too.

    Raises:
        UnknownNameError: listing the valid task names.
    """
    key = name.removeprefix("CodeActRobot/").removesuffix("-v0").replace("-", "").replace("_", "").lower()
    for task in (*TASKS.values(), TABLETOP):
        if task.name.lower() == key:
            return task
    raise unknown_name_error("task", name, [*TASKS, TABLETOP.name])


def sample_instance(task: str, seed: int, options: Mapping[str, Any] | None = None) -> TaskInstance:
    """The episode of ``task`` for ``seed`` with reset ``options`` (see :meth:`Task.instance`)."""
    return get_task(task).instance(seed, options)


def evaluate(instance: TaskInstance, objects: Mapping[str, ObjectState]) -> CheckResult:
    """The success check of an instance's task on object states."""
    return get_task(instance.task).check(objects, instance.params)


__all__ = [
    "ARRANGEMENT_FAMILIES",
    "CAP_FAMILIES",
    "TABLETOP",
    "TASKS",
    "CheckResult",
    "Task",
    "TaskInstance",
    "evaluate",
    "get_task",
    "sample_instance",
]
