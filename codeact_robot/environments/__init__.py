"""The Gymnasium environments, registered under ``CodeActRobot/`` when the package is imported.

- ``CodeActRobot/<Task>-v0`` and ``CodeActRobot/Tabletop-v0`` (the free scene):
  :class:`~codeact_robot.environments.codeact.CodeActEnv`, whose action is a program;
- ``CodeActRobot/TabletopControl-v0``:
  :class:`~codeact_robot.environments.control.TabletopControlEnv`, end-effector deltas.

Both take an :class:`~codeact_robot.worker.config.EnvConfig` (``config=``) or keyword
overrides of its fields.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from codeact_robot.envs.tasks import TABLETOP, TASKS

NAMESPACE = "CodeActRobot"
CODEACT_ENTRY_POINT = "codeact_robot.environments.codeact:CodeActEnv"
CONTROL_ENTRY_POINT = "codeact_robot.environments.control:TabletopControlEnv"


def env_id(task: str) -> str:
    """Gymnasium id of a task's CodeAct environment: ``CodeActRobot/<Task>-v0``."""
    return f"{NAMESPACE}/{task}-v0"


def register_envs() -> None:
    """Register the control env and one CodeAct env per task and for the free scene (idempotent)."""
    entries = {f"{NAMESPACE}/TabletopControl-v0": (CONTROL_ENTRY_POINT, {})}
    for name in (*TASKS, TABLETOP.name):
        entries[env_id(name)] = (CODEACT_ENTRY_POINT, {"task": name})
    for env_name, (entry_point, kwargs) in entries.items():
        if env_name not in registry:
            register(id=env_name, entry_point=entry_point, kwargs=kwargs, disable_env_checker=False)
