"""``CodeActRobot/TabletopControl-v0``: low-level continuous control of the tabletop world."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from codeact_robot.envs.robot import MAX_GRIPPER_WIDTH
from codeact_robot.envs.tasks import TABLETOP, TaskInstance, evaluate, get_task
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UsageError
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.task_episode import episode_instance

MAX_STEP = 0.05  # metres of end-effector motion per unit action
CONTROL_STEPS = 8  # physics steps per action (30 Hz at 240 Hz physics)
# fingertip position (3), gripper width (1), fingertip velocity (3)
ROBOT_LOW = np.array([-1.5, -1.5, -0.5, 0.0, -10.0, -10.0, -10.0], dtype=np.float32)
ROBOT_HIGH = np.array([1.5, 1.5, 1.5, MAX_GRIPPER_WIDTH, 10.0, 10.0, 10.0], dtype=np.float32)
# position (3), orientation quaternion (4)
OBJECT_LOW = np.array([-3.0, -3.0, -3.0, -1.0, -1.0, -1.0, -1.0], dtype=np.float32)
OBJECT_HIGH = np.array([3.0, 3.0, 3.0, 1.0, 1.0, 1.0, 1.0], dtype=np.float32)
OBJECT_FEATURES = len(OBJECT_LOW)


class TabletopControlEnv(gym.Env[dict[str, np.ndarray], np.ndarray]):
    """``CodeActRobot/TabletopControl-v0``: end-effector delta control of the Panda.

    The same scenes and success checks as the CodeAct environments, driven by continuous
    actions instead of programs: a baseline for learned policies and a way to script the
    arm directly.

    ## Action Space
    ``Box(-1, 1, (4,), float32)``: ``[dx, dy, dz, grip]``. The fingertip target moves by
    ``MAX_STEP * (dx, dy, dz)`` metres (kept inside the workspace); the gripper opens
    when ``grip > 0`` and closes otherwise. The gripper always points down.

    ## Observation Space
    ``Dict`` of ``robot`` (fingertip xyz, gripper width, fingertip velocity: 7 floats),
    ``objects`` (position and quaternion per object, zero-padded to ``max_objects`` rows)
    and ``object_mask`` (1 where a row is a real object, in the order of ``info["objects"]``).

    ## Rewards
    1.0 on a step where the task's success check holds, else 0.0.

    ## Episode End
    ``terminated`` when the success check holds; never ``truncated`` (wrap the env in
    ``gymnasium.wrappers.TimeLimit`` for a step budget).

    ## Arguments
    - ``task``: task name (see ``codeact-robot tasks``); ``"Tabletop"`` (the default) is
      the free scene that ``reset(options=...)`` lays out.
    - ``config``: an :class:`EnvConfig`; its ``colours``, ``camera_size`` and ``renderer``
      apply here. Keyword ``overrides`` of its fields work too.
    - ``max_objects``: rows of the ``objects`` observation.
    - ``render_mode``: None or ``"rgb_array"`` (the front camera).

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        task: str = TABLETOP.name,
        config: EnvConfig | None = None,
        max_objects: int = 8,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise UsageError(f"unknown render_mode {render_mode!r}; render modes are: None, rgb_array")
        self.config = (config or EnvConfig()).with_overrides(overrides)
        self.task = get_task(task)
        self.max_objects = max_objects
        self.render_mode = render_mode
        self.world = TabletopWorld(camera_size=self.config.camera_size, renderer=self.config.renderer)
        self.instance: TaskInstance | None = None
        self.action_space = spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self.observation_space = spaces.Dict(
            {
                "robot": spaces.Box(ROBOT_LOW, ROBOT_HIGH, dtype=np.float32),
                "objects": spaces.Box(
                    np.tile(OBJECT_LOW, (max_objects, 1)), np.tile(OBJECT_HIGH, (max_objects, 1)), dtype=np.float32
                ),
                "object_mask": spaces.MultiBinary(max_objects),
            }
        )
        self._target = np.zeros(3)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Lay out the episode's scene; the robot starts at home with the gripper open.

        Args:
            seed: episode seed; the same seed gives the same scene.
            options: the task's reset options (see ``Task.instance``): a free scene's layout,
                or a task's ``colours`` (default: the config's) and ``instruction``.
        """
        super().reset(seed=seed)
        episode_seed = int(self.np_random.integers(2**31 - 1)) if seed is None else int(seed)
        self.instance = episode_instance(self.config, self.task, episode_seed, options)
        if len(self.instance.placements) > self.max_objects:
            count = len(self.instance.placements)
            raise UsageError(f"the scene has {count} objects; max_objects is {self.max_objects}")
        self.world.build(self.instance.placements)
        self._target = self.world.robot.ee_position()
        return self._observation(), self._info()

    def step(self, action: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        """Move the fingertip target, open or close the gripper, run ``CONTROL_STEPS`` physics steps."""
        if self.instance is None:
            raise RuntimeError("call reset() before step()")
        action = np.clip(np.asarray(action, dtype=float), -1.0, 1.0)
        self._target = np.clip(self._target + MAX_STEP * action[:3], WORKSPACE.low, WORKSPACE.high)
        robot = self.world.robot
        robot.set_ee_target(self._target, yaw=0.0)
        robot.set_gripper_target(MAX_GRIPPER_WIDTH if action[3] > 0 else 0.0)
        self.world.step(CONTROL_STEPS)
        info = self._info()
        success = bool(info["success"])
        return self._observation(), float(success), success, False, info

    def render(self) -> np.ndarray | None:
        """The front camera's RGB image when ``render_mode == "rgb_array"``."""
        if self.render_mode == "rgb_array":
            return self.world.render("front").rgb
        return None

    def close(self) -> None:
        """Release the simulation; safe to call twice."""
        self.world.close()

    def _observation(self) -> dict[str, np.ndarray]:
        robot = self.world.robot
        robot_features = np.concatenate([robot.ee_position(), [robot.gripper_width()], robot.ee_velocity()])
        objects = np.zeros((self.max_objects, OBJECT_FEATURES), dtype=np.float32)
        mask = np.zeros(self.max_objects, dtype=np.int8)
        for row, state in enumerate(self.world.object_states().values()):
            objects[row] = np.clip((*state.position, *state.orientation), OBJECT_LOW, OBJECT_HIGH)
            mask[row] = 1
        robot_features = np.clip(robot_features, ROBOT_LOW, ROBOT_HIGH).astype(np.float32)
        return {"robot": robot_features, "objects": objects, "object_mask": mask}

    def _info(self) -> dict[str, Any]:
        assert self.instance is not None
        states = self.world.object_states()
        verdict = evaluate(self.instance, states)
        return {
            "instruction": self.instance.instruction,
            "success": bool(verdict),
            "check": verdict.detail,
            "objects": {name: s.to_dict() for name, s in states.items()},
        }
