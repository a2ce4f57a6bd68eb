"""``CodeActRobot/<Task>-v0``: the action is a Python program, the observation what it did."""

from __future__ import annotations

import string
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pydantic import ValidationError

from codeact_robot.config import validation_message
from codeact_robot.envs.errors import UsageError
from codeact_robot.envs.scene import ObjectState
from codeact_robot.envs.tasks import TaskInstance, evaluate, sample_instance
from codeact_robot.observation import format_observation, task_message
from codeact_robot.sandbox.executor import ActionResult
from codeact_robot.sandbox.limits import Limits
from codeact_robot.worker.client import EpisodeWorker, WorkerCrashed
from codeact_robot.worker.config import WorkerConfig
from codeact_robot.worker.episode import WorkerReply

MAX_CODE_CHARS = 100_000
MAX_TEXT_CHARS = 1_000_000


@dataclass(frozen=True)
class Timings:
    """How long an action took. Wall time is a measurement, not state: equality ignores it.

    Attributes:
        exec_s: wall-clock seconds the code ran in the worker.
        sim_steps: physics steps it ran.
        sim_s: simulated seconds it ran.
    """

    exec_s: float = field(compare=False)
    sim_steps: int
    sim_s: float


class AnyText(spaces.Text):
    """A text space that contains every string up to ``max_length`` (samples printable ASCII)."""

    def __init__(self, max_length: int) -> None:
        super().__init__(max_length=max_length, min_length=0, charset=string.printable)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length


class CodeActEnv(gym.Env[dict[str, Any], str]):
    """A tabletop task whose actions are Python programs run in a sandboxed worker.

    Observation: ``{"text": what the agent sees, "rgb": front camera image}``. Reward 1.0
    when the task's success check holds. ``terminated`` on success (when
    ``end_on_success``) or when the program calls ``done()``; ``truncated`` when the
    turn budget is spent. ``info`` carries ``success``, ``stdout``, ``error``,
    ``objects`` (true states), ``timings`` (:class:`Timings`), ``limit`` and ``outcome``.

    Args:
        task: task name, or None for the free scene (``reset(options=...)`` lays it out).
        perception: ``"state"`` or ``"vision"``.
        colours: colour split of task scenes (``"seen"``, ``"unseen"``, ``"all"``).
        max_turns: turn budget (default: the task's own).
        end_on_success: end the episode as soon as the success check holds.
        time_limit_s, memory_limit_mb, max_output_chars, max_sim_steps: per-action limits.
        camera_size: (width, height) of camera images.
        renderer: ``"auto"``, ``"tiny"`` or ``"egl"``.
        video_fps: record front-camera frames at this rate into ``info["frames"]``.
        skill_library: folder of learned skills (loaded at reset; ``save_skill`` writes there).
        cameras: cameras whose images come back after each action (``info["images"]``);
            the observation's ``rgb`` is always the front camera.
        render_mode: None or ``"rgb_array"``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        task: str | None = None,
        perception: str = "state",
        colours: str = "seen",
        max_turns: int | None = None,
        end_on_success: bool = True,
        time_limit_s: float = 60.0,
        memory_limit_mb: int = 4096,
        max_output_chars: int = 2000,
        max_sim_steps: int = 240 * 300,
        camera_size: tuple[int, int] = (320, 240),
        renderer: str = "auto",
        video_fps: float | None = None,
        skill_library: str | None = None,
        cameras: tuple[str, ...] = ("front",),
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise UsageError(f"unknown render_mode {render_mode!r}; render modes are: None, rgb_array")
        try:
            limits = Limits(
                time_limit_s=time_limit_s,
                memory_limit_mb=memory_limit_mb,
                max_output_chars=max_output_chars,
                max_sim_steps=max_sim_steps,
            )
            self.config = WorkerConfig(
                perception=perception,
                colours=colours,
                camera_size=tuple(camera_size),
                renderer=renderer,
                limits=limits,
                video_fps=video_fps,
                skill_library=str(Path(skill_library).resolve()) if skill_library else None,
                images=tuple(dict.fromkeys(("front", *cameras))),
            )
        except ValidationError as error:
            raise UsageError(validation_message("invalid environment settings", error)) from None
        if task is not None:
            sample_instance(task, 0, {"colours": colours})  # fail now on an unknown task or split
        self.task = task
        self.colours = colours
        self.max_turns = max_turns
        self.end_on_success = end_on_success
        self.render_mode = render_mode
        self.worker = EpisodeWorker(self.config)
        width, height = self.config.camera_size
        self.action_space = AnyText(MAX_CODE_CHARS)
        self.observation_space = spaces.Dict(
            {"text": AnyText(MAX_TEXT_CHARS), "rgb": spaces.Box(0, 255, (height, width, 3), dtype=np.uint8)}
        )
        self.instance: TaskInstance | None = None
        self.turn = 0
        self.budget = 0
        self._last: WorkerReply | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Lay out the episode's scene and start a fresh sandbox.

        Args:
            seed: the episode seed (same seed, same scene).
            options: for the free scene, its layout (``blocks``, ``bowls``, ``cups``,
                ``positions``, ``instruction``); for tasks, optionally ``{"colours": ...}``.
        """
        super().reset(seed=seed)
        episode_seed = int(self.np_random.integers(2**31 - 1)) if seed is None else int(seed)
        task_options = dict(options or {})
        if self.task is not None:
            task_options.setdefault("colours", self.colours)
        self.instance = sample_instance(self.task, episode_seed, task_options)
        self.turn = 0
        self.budget = self.max_turns or self.instance.max_turns
        reply = self.worker.reset([p.to_dict() for p in self.instance.placements], episode_seed)
        self._last = reply
        text = task_message(self.instance.instruction, reply.scene, self.budget)
        if reply.notes:
            text += "\n" + "\n".join(reply.notes)
        return self._observation(text, reply), self._info(reply)

    def step(self, action: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Run one code action in the sandbox and observe the result."""
        if self.instance is None or self._last is None:
            raise RuntimeError("call reset() before step()")
        if not isinstance(action, str):
            raise TypeError(f"the action must be a Python program as a str, got {type(action).__name__}")
        self.turn += 1
        try:
            reply = self.worker.execute(action)
        except WorkerCrashed as crash:
            info = self._info(self._last)
            info.update(outcome="worker_crash", error=str(crash))
            text = f"Observation:\nThe episode ended: {crash}"
            return self._observation(text, self._last), 0.0, True, False, info
        self._last = reply
        info = self._info(reply)
        success = bool(info["success"])
        terminated = (success and self.end_on_success) or reply.done
        truncated = not terminated and self.turn >= self.budget
        info["outcome"] = _outcome(success, reply.done) if terminated or truncated else None
        notes = [f"The episode ends: {info['outcome'].replace('_', ' ')}."] if terminated or truncated else []
        text = format_observation(reply.result, reply.scene, self.budget - self.turn, notes)
        return self._observation(text, reply), float(success), terminated, truncated, info

    def step_without_action(self, note: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Spend a turn that ran no code (the model's reply held no valid action).

        Args:
            note: what the observation tells the model (the expected format, say).
        """
        if self.instance is None or self._last is None:
            raise RuntimeError("call reset() before step_without_action()")
        self.turn += 1
        truncated = self.turn >= self.budget
        unchanged = replace(
            self._last, result=ActionResult(), said=[], done=False, frames=[], sim_steps=0, restarted=False
        )
        info = self._info(unchanged)
        info["outcome"] = "turn_limit" if truncated else None
        notes = [note] + (["The episode ends: turn limit."] if truncated else [])
        text = format_observation(None, self._last.scene, self.budget - self.turn, notes)
        return self._observation(text, self._last), float(info["success"]), False, truncated, info

    def render(self) -> np.ndarray | None:
        """The front camera's latest image when ``render_mode == "rgb_array"``."""
        if self.render_mode == "rgb_array" and self._last is not None:
            return self._last.images["front"]
        return None

    def close(self) -> None:
        """Stop the worker process; safe to call twice."""
        self.worker.close()

    @property
    def world_state(self) -> dict[str, Any]:
        """The latest plain-data world state (exact), e.g. to compare or restore later."""
        return self._last.state if self._last is not None else {}

    def _observation(self, text: str, reply: WorkerReply) -> dict[str, Any]:
        return {"text": text, "rgb": reply.images["front"]}

    def _info(self, reply: WorkerReply) -> dict[str, Any]:
        assert self.instance is not None
        objects = {o["name"]: o for o in reply.objects}
        verdict = evaluate(self.instance, {n: ObjectState.from_dict(o) for n, o in objects.items()})
        result = reply.result
        return {
            "instruction": self.instance.instruction,
            "task": self.instance.task,
            "seed": self.instance.seed,
            "turn": self.turn,
            "max_turns": self.budget,
            "success": bool(verdict) if verdict is not None else False,
            "check": verdict.detail if verdict is not None else "",
            "stdout": result.stdout,
            "stdout_cut": result.stdout_cut,
            "error": result.error,
            "error_type": result.error_type,
            "limit": result.limit,
            "said": reply.said,
            "done": reply.done,
            "restarted": reply.restarted,
            "objects": objects,
            "scene": reply.scene,
            "frames": reply.frames,
            "images": reply.images,
            "timings": Timings(result.duration_s, reply.sim_steps, reply.sim_steps * reply.state.get("time_step", 0.0)),
        }


def _outcome(success: bool, done: bool) -> str:
    if success:
        return "success"
    return "done" if done else "turn_limit"
