"""A task's episode in an episode worker, from the host: lay out its scene, judge a reply by the task's check.

The environments and the skill library's verification both run episodes of tasks in
workers; this is where a task instance becomes a reset, and a reply's world state the
task's verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import CheckResult, Task, TaskInstance, evaluate
from codeact_robot.worker.client import WorkerClient
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import WorkerReply


def episode_instance(config: EnvConfig, task: Task, seed: int, options: dict[str, Any] | None = None) -> TaskInstance:
    """The episode of ``task`` for ``seed`` under the environment's settings (colour split, perturbation)."""
    return task.instance(seed, options, config.colours, config.perturbation.plain())


def start_episode(worker: WorkerClient, instance: TaskInstance, skills: Sequence[str] = ()) -> WorkerReply:
    """Lay out the instance's scene in a fresh sandbox (seeded with the instance's seed).

    Args:
        worker: the episode worker.
        instance: the episode.
        skills: sources of the learned skills to load into the sandbox.

    Raises:
        WorkerCrashed: the worker cannot be started.
    """
    placements = [p.to_dict() for p in instance.placements]
    return worker.reset(placements, instance.seed, list(skills), instance.events)


def task_check(instance: TaskInstance, reply: WorkerReply) -> CheckResult:
    """The task's success check on the world state a reply reports (true, with the reason)."""
    return evaluate(instance, {o.name: ObjectState.from_dict(o.model_dump()) for o in reply.state.objects})
