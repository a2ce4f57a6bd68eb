"""One episode inside a worker process: the world, the skills and the sandbox together."""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from codeact_robot.envs.scene import ObjectPlacement
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.sandbox.executor import ActionResult, Sandbox
from codeact_robot.skills import bind
from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.library import SkillLibrary
from codeact_robot.worker.config import WorkerConfig


@dataclass
class WorkerReply:
    """Everything the host learns after a reset, a restore or a code action.

    Attributes:
        result: output, error and limit of the code action (empty for resets).
        said: what the program said to the user.
        done: whether the program called ``done()``.
        state: the world state as plain data (exact; the next action's snapshot).
        scene: what perception reports: objects (name, position) and the gripper.
        images: camera name -> RGB image, for the configured cameras.
        frames: front-camera video frames recorded during the action.
        sim_steps: physics steps the action ran.
        notes: messages about the episode set-up (a learned skill that failed to load).
        restarted: set by the host when the worker had to be restarted for this reply.
    """

    result: ActionResult = field(default_factory=ActionResult)
    said: list[str] = field(default_factory=list)
    done: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    scene: dict[str, Any] = field(default_factory=dict)
    images: dict[str, np.ndarray] = field(default_factory=dict)
    frames: list[np.ndarray] = field(default_factory=list)
    sim_steps: int = 0
    notes: list[str] = field(default_factory=list)
    restarted: bool = False

    @property
    def objects(self) -> list[dict[str, Any]]:
        """Ground-truth object states (for success checks, never shown to the agent)."""
        return self.state.get("objects", [])


class WorkerEpisode:
    """The world, skill context and sandbox of the current episode.

    Args:
        config: perception, rendering, limits and skill library.
    """

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.world = TabletopWorld(camera_size=config.camera_size, renderer=config.renderer)  # type: ignore[arg-type]
        self.library = SkillLibrary(config.skill_library) if config.skill_library else None
        self.context = SkillContext(self.world, config.perception)
        self.sandbox = Sandbox({}, config.limits)
        self._frames: list[np.ndarray] = []

    def reset(self, placements: list[dict[str, Any]], seed: int) -> WorkerReply:
        """Lay out a new scene and start a fresh sandbox."""
        self.world.build([ObjectPlacement.from_dict(p) for p in placements])
        return self._start_sandbox(seed)

    def restore(self, state: dict[str, Any], seed: int) -> WorkerReply:
        """Put the world into ``state`` and start a fresh sandbox (earlier variables are gone)."""
        self.world.set_state(state)
        return self._start_sandbox(seed)

    def execute(self, code: str) -> WorkerReply:
        """Run one code action and report what happened."""
        self.context.said.clear()
        self.context.done_requested = False
        self._frames = []
        start = self.world.sim.step_count
        result = self.sandbox.run(code)
        return self._reply(result, sim_steps=self.world.sim.step_count - start)

    def _start_sandbox(self, seed: int) -> WorkerReply:
        self.context = SkillContext(self.world, self.config.perception)
        self.context.save_skill_hook = self._save_skill
        self.sandbox = Sandbox(bind(self.context), self.config.limits, seed)
        self.world.step_listeners[:] = [self.sandbox.step_budget]
        if self.config.video_fps:
            every = max(1, round(1.0 / (self.config.video_fps * self.world.sim.time_step)))
            self.world.step_listeners.append(lambda step: self._record(step, every))
        notes = []
        for learned in self.library.skills() if self.library else []:
            loaded = self.sandbox.run(learned.source, filename=f"<skill {learned.name}>")
            if loaded.error:
                notes.append(f"learned skill {learned.name} did not load: {loaded.error.splitlines()[-1]}")
        reply = self._reply(ActionResult(), sim_steps=0)
        reply.notes = notes
        return reply

    def _record(self, step: int, every: int) -> None:
        if step % every == 0:
            self._frames.append(self.world.render("front").rgb)

    def _save_skill(self, function: Any) -> str:
        if type(function) is not types.FunctionType or function.__globals__ is not self.sandbox.namespace:
            raise TypeError("save_skill needs a function you defined with def in a code action")
        name = function.__name__
        source = self.sandbox.functions.get(name)
        if not source:
            raise ValueError(f"save_skill needs a function defined with def at the top level; {name} was not")
        if self.library is None:
            raise RuntimeError("this episode has no skill library to save to (set skill_library)")
        path = self.library.save(name, source)
        return f"saved skill {name} to {path}; later episodes can call it"

    def _reply(self, result: ActionResult, sim_steps: int) -> WorkerReply:
        return WorkerReply(
            result=result,
            said=list(self.context.said),
            done=self.context.done_requested,
            state=self.world.get_state(exact=True),
            scene=self._scene(),
            images={camera: self.context.frame(camera).rgb for camera in self.config.images},
            frames=self._frames,
            sim_steps=sim_steps,
        )

    def _scene(self) -> dict[str, Any]:
        robot = self.world.robot
        return {
            "objects": {
                name: [round(float(v), 3) for v in estimate.position]
                for name, estimate in self.context.perception.estimates().items()
            },
            "gripper": {
                "position": [round(float(v), 3) for v in robot.ee_position()],
                "width": round(robot.gripper_width(), 3),
                "holding": self.context.held_object(),
            },
        }

    def close(self) -> None:
        """Release the world."""
        self.world.close()
