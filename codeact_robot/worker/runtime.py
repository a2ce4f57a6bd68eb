"""The worker's side of an episode: the world, the skills and the sandbox together.

Everything here runs inside the episode worker process (:mod:`process`), next to the
model's code; it reports to the host only through :mod:`protocol`.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from codeact_robot.envs.camera import VIDEO_CAMERA, Camera
from codeact_robot.envs.physics import SIM_RATE_HZ
from codeact_robot.envs.robot import ARM_JOINTS, CLOSED_WIDTH, FINGER_JOINTS, OPEN_WIDTH
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.sandbox.executor import ActionResult, Sandbox
from codeact_robot.sandbox.output import plain_text
from codeact_robot.sandbox.skill_rule import SkillRejected, check_skill_source
from codeact_robot.skills import bind
from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.imperfections import Imperfections
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import (
    MAX_ERROR_CHARS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_NOTES,
    MAX_POSES,
    MAX_RENDER_POSES,
    MAX_SAVED_SKILLS,
    ActionReport,
    GripperSummary,
    SavedSkill,
    ScenePose,
    SceneSummary,
    Timings,
    WorkerReply,
    WorldState,
)


class _Episode:
    """One episode's skills, sandbox and recordings; ended before the next episode's scene exists."""

    def __init__(self, runtime: EpisodeRuntime, seed: int) -> None:
        config = runtime.config
        imperfections = None if config.physics.perfect else Imperfections(seed, **config.physics.model_dump())
        if imperfections is not None:  # the world was just built (or rebuilt): the same factors again
            imperfections.vary(runtime.world)
        self.context = SkillContext(
            runtime.world,
            config.perception,
            runtime.save_skill if config.skills_top_k else None,
            imperfections,
        )
        self.sandbox = Sandbox(bind(self.context, config.api), config.limits, seed)
        self.poses: list[ScenePose] = []
        self.pose_every = 0  # physics steps between recorded poses in the current action
        self.saved: list[SavedSkill] = []


class EpisodeRuntime:
    """The world of an episode worker and the episode it currently runs.

    Args:
        config: the environment's settings (perception, rendering, limits ...).
    """

    def __init__(self, config: EnvConfig) -> None:
        self.config = config
        self.world = TabletopWorld(camera_size=config.camera_size, renderer=config.renderer, on_step=self._on_step)
        self._frame_every = round(SIM_RATE_HZ / config.video_fps) if config.video_fps else 0
        self._video_cameras = self._video_views(config) if config.video_fps else ()
        self._episode: _Episode | None = None

    # --- requests ----------------------------------------------------------------------------

    def reset(self, placements: list[dict[str, Any]], seed: int, skills: list[str]) -> WorkerReply:
        """End the current episode, lay out a new scene and start a fresh sandbox.

        Args:
            placements: the objects of the scene (``ObjectPlacement.to_dict()`` each).
            seed: seeds the sandbox's ``random``.
            skills: sources of the learned skills to load.
        """
        self._end_episode()
        self.world.build([ObjectPlacement.from_dict(p) for p in placements])
        return self._start_episode(seed, skills)

    def restore(self, state: dict[str, Any], seed: int, skills: list[str]) -> WorkerReply:
        """Put the world into ``state`` and start a fresh sandbox (earlier variables are gone)."""
        self._end_episode()
        self.world.set_state(state)
        return self._start_episode(seed, skills)

    def execute(self, code: str, turn: int) -> WorkerReply:
        """Run one code action (turn ``turn`` of the episode) and report what happened."""
        episode = self._current()
        episode.context.start_action()
        episode.poses.clear()
        episode.pose_every = self._frame_every
        episode.saved.clear()
        start = self.world.sim.step_count
        result = episode.sandbox.run(code, f"<action {int(turn)}>")
        steps = self.world.sim.step_count - start
        disturbed = None if episode.context.done_requested else episode.context.disturb()
        notes = (f"Between turns, an object was {disturbed}; the scene below shows it now.",) if disturbed else ()
        return self._reply(result, steps, notes)

    def render(self, poses: list[dict[str, Any]]) -> list[np.ndarray]:
        """Video frames of the scene in each pose (``ScenePose`` data), as recorded in this world.

        Drawing a pose moves the world's bodies there, so the episode ends: a reset or a
        restore comes next.

        Raises:
            ValueError: no video is configured, too many poses, or poses of another scene.
        """
        if not self._video_cameras:
            raise ValueError("no video is recorded in this worker (video_fps is not set)")
        if len(poses) > MAX_RENDER_POSES:
            raise ValueError(f"at most {MAX_RENDER_POSES} poses can be rendered at once, got {len(poses)}")
        checked = [ScenePose.model_validate(pose) for pose in poses]
        bodies = [self.world.sim.body_id(name) for name in self.world.object_names]
        if any(len(pose.objects) != len(bodies) for pose in checked):
            raise ValueError(f"the poses are of another scene: this one has {len(bodies)} objects")
        self._end_episode()
        client, robot = self.world.sim.client, self.world.robot.body
        frames = []
        for pose in checked:
            for body, (*position, qx, qy, qz, qw) in zip(bodies, pose.objects):
                client.resetBasePositionAndOrientation(body, position, (qx, qy, qz, qw))
            for joint, angle in zip(ARM_JOINTS + FINGER_JOINTS, pose.joints):
                client.resetJointState(robot, joint, angle, 0.0)
            frames.append(self._video_frame())
        return frames

    def close(self) -> None:
        """End the episode and release the world."""
        self._end_episode()
        self.world.close()

    # --- episodes ----------------------------------------------------------------------------

    def _start_episode(self, seed: int, skills: list[str]) -> WorkerReply:
        self._episode = episode = _Episode(self, seed)
        notes = []
        for source in skills:
            # A library file is untrusted however it got there: the rule is checked again here.
            try:
                skill = check_skill_source(source, episode.sandbox.api_names)
            except SkillRejected as rejected:
                notes.append(f"a learned skill was not loaded: {rejected}")
                continue
            loaded = episode.sandbox.run_compiled(skill.compiled)
            if loaded.error:
                notes.append(f"learned skill {skill.name} did not load: {loaded.error.splitlines()[-1]}")
        return self._reply(ActionResult(), sim_steps=0, notes=tuple(notes))

    def _end_episode(self) -> None:
        if self._episode is not None:
            self._episode.sandbox.close()
            self._episode = None

    def _current(self) -> _Episode:
        if self._episode is None:
            raise RuntimeError("no episode: reset first")
        return self._episode

    def _on_step(self, step: int) -> None:
        episode = self._episode
        if episode is None:
            return
        episode.sandbox.step_budget(step)
        if episode.pose_every and step % episode.pose_every == 0:
            if len(episode.poses) >= MAX_POSES - 1:  # the last place is kept for the scene as the action ends
                # A long action: keep every other pose and record half as often from now on, so
                # its video shows all of it, faster, rather than stopping part way.
                del episode.poses[1::2]
                episode.pose_every *= 2
            if step % episode.pose_every == 0:
                episode.poses.append(self._pose())

    # --- video -------------------------------------------------------------------------------

    def _video_views(self, config: EnvConfig) -> tuple[Camera, ...]:
        """The cameras a video frame shows, left to right."""
        front = Camera(VIDEO_CAMERA.resized(*config.camera_size), self.world.renderer)
        top = self.world.cameras["top"]
        return {"front": (front,), "top": (top,), "both": (front, top)}[config.video_camera]

    def _video_frame(self) -> np.ndarray:
        """One video frame of the scene as it is now: each video camera's image, side by side."""
        return np.concatenate([camera.render().rgb for camera in self._video_cameras], axis=1)

    def _pose(self) -> ScenePose:
        """Where the objects and the arm are now (what a video frame needs, without drawing it)."""
        sim = self.world.sim
        client = sim.client
        objects = []
        for name in self.world.object_names:
            position, orientation = client.getBasePositionAndOrientation(sim.body_id(name))
            objects.append((*position, *orientation))
        joints = tuple(state[0] for state in client.getJointStates(self.world.robot.body, ARM_JOINTS + FINGER_JOINTS))
        return ScenePose.model_construct(objects=tuple(objects), joints=joints)  # checked where it is received

    def save_skill(self, function: Any) -> str:
        """``save_skill(f)``: hand a function the program defined to the host, which stores it."""
        episode = self._current()
        sandbox = episode.sandbox
        if type(function) is not types.FunctionType or function.__globals__ is not sandbox.namespace:
            raise TypeError("save_skill needs a function you defined with def in a code action")
        name = function.__name__
        source = sandbox.functions.get(name)
        if not source:
            raise ValueError(f"save_skill needs a function defined with def at the top level; {name} was not")
        try:
            check_skill_source(source, sandbox.api_names)
        except SkillRejected as rejected:
            raise ValueError(f"save_skill refused {name}: {rejected}") from None
        if len(episode.saved) >= MAX_SAVED_SKILLS:
            raise ValueError(f"at most {MAX_SAVED_SKILLS} skills can be saved by one code action")
        episode.saved.append(SavedSkill(name=name, source=source))
        return f"saved skill {name}; once it is verified, later episodes can call it"

    # --- replies -----------------------------------------------------------------------------

    def _reply(self, result: ActionResult, sim_steps: int, notes: tuple[str, ...] = ()) -> WorkerReply:
        episode = self._current()
        context = episode.context
        report = ActionReport(
            stdout=result.stdout,
            stdout_cut=result.stdout_cut,
            error=_clip(result.error),
            error_type=result.error_type[:MAX_NAME_CHARS] if result.error_type else None,  # a program's class name
            limit=result.limit,
            said=tuple(plain_text(message) for message in context.said),
            origin=result.origin,
            skill_calls=result.skill_calls,
            skill_false=result.skill_false,
            done=context.done_requested,
            timings=Timings(result.duration_s, sim_steps, sim_steps * self.world.sim.time_step),
        )
        return WorkerReply(
            report=report,
            state=WorldState.model_validate(self.world.get_state(exact=True)),
            scene=self._scene(context),
            images={camera: context.frame(camera).rgb for camera in self.config.cameras},
            poses=(*episode.poses, self._pose()) if self._video_cameras else (),
            notes=_notes(notes),
            saved_skills=tuple(episode.saved),
        )

    def _scene(self, context: SkillContext) -> SceneSummary:
        robot = self.world.robot
        width = robot.gripper_width()
        return SceneSummary(
            objects={
                name: tuple(round(float(v), 3) for v in estimate.position)
                for name, estimate in context.perception.estimates().items()
            },
            gripper=GripperSummary(
                position=tuple(round(float(v), 3) for v in robot.ee_position()),
                width=round(width, 3),
                state="open" if width > OPEN_WIDTH else "closed" if width < CLOSED_WIDTH else "partly open",
                holding=self.world.held_object(),
            ),
        )


def _notes(notes: tuple[str, ...]) -> tuple[str, ...]:
    """Notes within the protocol's caps: each cut to its length, the last saying how many more there were."""
    if len(notes) > MAX_NOTES:
        notes = (*notes[: MAX_NOTES - 1], f"... and {len(notes) - MAX_NOTES + 1} more notes like these")
    return tuple(
        note if len(note) <= MAX_NOTE_CHARS else note[: MAX_NOTE_CHARS - 3] + "..." for note in map(plain_text, notes)
    )


def _clip(error: str | None) -> str | None:
    """An error text within the protocol's cap: its start and, above all, its end (the exception)."""
    if error is None or len(error) <= MAX_ERROR_CHARS:
        return error
    keep = MAX_ERROR_CHARS // 2 - 20
    return f"{error[:keep]}\n[... {len(error) - 2 * keep} characters cut ...]\n{error[-keep:]}"
