"""Gymnasium registration of every environment under the ``CodeActRobot/`` namespace."""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from codeact_robot.envs.tasks import FREE_SCENE, TASKS

NAMESPACE = "CodeActRobot"


def env_id(task: str) -> str:
    """Gymnasium id of a task's CodeAct environment: ``CodeActRobot/<Task>-v0``."""
    return f"{NAMESPACE}/{task}-v0"


def register_envs() -> None:
    """Register the control env, the free-scene env and one CodeAct env per task (idempotent)."""
    entries = {
        f"{NAMESPACE}/TabletopControl-v0": ("codeact_robot.envs.control_env:TabletopEnv", {}),
        env_id(FREE_SCENE): ("codeact_robot.gym_env:CodeActEnv", {"task": None}),
    }
    for name in TASKS:
        entries[env_id(name)] = ("codeact_robot.gym_env:CodeActEnv", {"task": name})
    for env_name, (entry_point, kwargs) in entries.items():
        if env_name not in registry:
            register(id=env_name, entry_point=entry_point, kwargs=kwargs, disable_env_checker=False)
