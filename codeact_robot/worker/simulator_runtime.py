"""The simulator's side of an episode: the world, the skills, the recordings and the verdict's data.

Everything here runs inside the simulator process (:mod:`simulator_process`), which runs
project code only. Programs run in the executor; their skill calls arrive over the
executor channel (:mod:`channel`) and are answered here, one at a time, while an action
runs. The simulator reports to the host only through :mod:`protocol`.
"""

from __future__ import annotations

import contextlib
import math
import select
import time
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from codeact_robot.envs.camera import VIDEO_CAMERA, Camera
from codeact_robot.envs.events import SceneEvent, SceneScript
from codeact_robot.envs.objects import KINDS
from codeact_robot.envs.physics import SIM_RATE_HZ
from codeact_robot.envs.robot import ARM_JOINTS, CLOSED_WIDTH, FINGER_JOINTS, OPEN_WIDTH
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UsageError
from codeact_robot.sandbox.limits import LimitExceeded, StepBudget, time_message
from codeact_robot.sandbox.output import CappedOutput, plain_text
from codeact_robot.skills import bind, skills_for
from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.episode import EPISODE_SKILLS
from codeact_robot.skills.imperfections import Imperfections
from codeact_robot.worker.channel import (
    MAX_CALL_BYTES,
    RAISABLE,
    ChannelError,
    Finished,
    Run,
    Start,
    checked,
    decode_value,
    encode_value,
    receive_message,
    send_message,
    send_model,
)
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import (
    MAX_EVENTS,
    MAX_NOTE_CHARS,
    MAX_NOTES,
    MAX_OUTPUT_CHARS,
    MAX_POSES,
    MAX_RENDER_POSES,
    STOP_GRACE_S,
    ActionReport,
    EpisodeProgress,
    ExecutorLoss,
    GripperSummary,
    LiveView,
    ScenePose,
    SceneSummary,
    Timings,
    WorkerReply,
    WorldState,
    receive_request,
    send_live_pose,
)

GRACE_S = 5.0  # beyond the action's time limit before the simulator gives up on the executor
START_TIMEOUT_S = 60.0  # an executor is started (and has imported) before it is attached
STOPPED = "StoppedByUser: the action was stopped by the user; the scene is where the arm left it"


class ExecutorLost(Exception):
    """The executor went away, stopped answering or broke the channel."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.loss = ExecutorLoss(kind=kind, detail=detail[:500])


class _Episode:
    """One episode's skills, step budget, scene events and recordings; ended before the next episode's scene exists.

    Args:
        runtime: the runtime whose world the episode runs in.
        seed: the episode seed.
        events: the scene events still to happen (checked).
        resumed: where a restored episode stood (None: a new episode).
    """

    def __init__(
        self, runtime: SimulatorRuntime, seed: int, events: list[SceneEvent], resumed: EpisodeProgress | None = None
    ) -> None:
        config = runtime.config
        self.script = SceneScript(runtime.world, events, resumed.events_done if resumed is not None else 0)
        streams = [s.model_dump() for s in resumed.streams] if resumed is not None else []
        self.imperfections = (
            None if config.physics.perfect else Imperfections(seed, **config.physics.model_dump(), streams=streams)
        )
        if self.imperfections is not None:  # the world was just built (or rebuilt): the same factors again
            self.imperfections.vary(runtime.world)
        slipping = resumed is not None and resumed.slipping
        self.context = SkillContext(runtime.world, config.perception, self.imperfections, slipping)
        # The tier is enforced here: an executor that escaped its sandbox can call only what is served.
        self.skills = bind(self.context, [s for s in skills_for(config.api) if s.name not in EPISODE_SKILLS])
        self.budget = StepBudget(config.limits.max_sim_steps, config.limits.max_sim_s)
        self.deadline = float("inf")  # time.monotonic() at which the running action's time is up
        self.poses: list[ScenePose] = []
        self.pose_every = 0  # physics steps between recorded poses in the current action
        self.calls = self.false = 0
        self.live_every = 0.0  # wall-clock seconds between live poses of the current action (0: none)
        self.live_due = 0.0
        self.stopped = False  # the host stopped the current action

    def progress(self) -> EpisodeProgress:
        """What a restore of the episode as it is now continues: pending events, random streams, a slipped grasp."""
        return EpisodeProgress.model_validate(
            {
                "pending_events": [e.to_dict() for e in self.script.pending],
                "events_done": self.script.done,
                "streams": self.imperfections.streams() if self.imperfections is not None else [],
                "slipping": self.context.controller.slipping,
            }
        )


class SimulatorRuntime:
    """The world of an episode slot, the episode it currently runs, and the executor attached to it.

    Args:
        config: the environment's settings (perception, rendering, limits ...).
        host: the connection to the host, watched while an action runs for a ``stop`` and
            sent live poses (None: actions can be neither stopped nor watched).
    """

    def __init__(self, config: EnvConfig, host: Connection | None = None) -> None:
        self.config = config
        self.host = host
        self.world = TabletopWorld(camera_size=config.camera_size, renderer=config.renderer, on_step=self._on_step)
        self._frame_every = round(SIM_RATE_HZ / config.video_fps) if config.video_fps else 0
        self._video_cameras = self._video_views(config) if config.video_fps else ()
        self._episode: _Episode | None = None
        self._channel: Connection | None = None

    # --- requests ----------------------------------------------------------------------------

    def reset(
        self,
        placements: list[dict[str, Any]],
        channel: Connection,
        seed: int,
        skills: list[str],
        events: list[dict[str, Any]],
    ) -> WorkerReply:
        """End the current episode, lay out a new scene and attach the episode's fresh executor.

        Args:
            placements: the objects of the scene (``ObjectPlacement.to_dict()`` each).
            channel: the simulator's end of the new executor's channel.
            seed: seeds the executor's sandbox ``random``.
            skills: sources of the learned skills the executor loads.
            events: the scene's events (``SceneEvent.to_dict()`` each), in order; at most
                ``MAX_EVENTS``, as many as a reply's state can say are pending.

        Raises:
            UsageError: a malformed event, or too many.
        """
        self._episode = None
        if len(events) > MAX_EVENTS:
            raise UsageError(f"an episode has at most {MAX_EVENTS} scene events, got {len(events)}")
        checked_events = [SceneEvent.from_dict(e) for e in events]
        self.world.build([ObjectPlacement.from_dict(p) for p in placements])
        self._episode = _Episode(self, seed, checked_events)
        return self.attach(channel, seed, skills)

    def restore(self, state: dict[str, Any], channel: Connection, seed: int, skills: list[str]) -> WorkerReply:
        """Put the world into ``state`` and attach a fresh executor: the program's variables are gone, the
        episode goes on where the state's ``episode`` left it (its pending scene events, its random streams).

        The state was stored by the host: its episode is checked as a reset's events are.
        """
        self._episode = None
        resumed = EpisodeProgress.model_validate(state.get("episode", {}))
        events = [SceneEvent.from_dict(e.model_dump()) for e in resumed.pending_events]
        self.world.set_state(state)
        self._episode = _Episode(self, seed, events, resumed)
        return self.attach(channel, seed, skills)

    def attach(self, channel: Connection, seed: int, skills: list[str]) -> WorkerReply:
        """Serve a fresh executor from now on (the last one is gone); the scene stays as it is."""
        self._current()
        if self._channel is not None:
            self._channel.close()
        self._channel = channel
        try:
            self._send(Start(seed, tuple(skills)))
            started = self._receive(time.monotonic() + START_TIMEOUT_S, "started")
        except ExecutorLost as lost:
            return self._reply(None, 0, loss=lost.loss)
        return self._reply(None, 0, notes=started.notes)

    def execute(self, code: str, turn: int, live: dict[str, Any] | None = None) -> WorkerReply:
        """Have the executor run one code action (turn ``turn``), answering its skill calls, and report.

        Args:
            code: the program.
            turn: names the program in tracebacks.
            live: a :class:`LiveView` as plain data: send the host the scene's pose while it runs.

        Raises:
            ValueError: a live view without a host to send it to.
        """
        episode = self._current()
        if live is not None and self.host is None:
            raise ValueError("a live view needs a host to send it to")
        episode.live_every = 1.0 / LiveView.model_validate(live).fps if live is not None else 0.0
        episode.live_due, episode.stopped = 0.0, False
        episode.poses.clear()
        episode.pose_every = self._frame_every
        episode.calls = episode.false = 0
        start = self.world.sim.step_count
        limit_s = self.config.limits.time_limit_s
        episode.budget.start()
        episode.deadline = time.monotonic() + limit_s
        try:
            if self._channel is None:
                raise ExecutorLost("crash", "no executor is attached")
            sent = time.perf_counter()
            self._send(Run(code, turn))
            finished = self._receive(episode.deadline + GRACE_S, "finished")
            ran_s = time.perf_counter() - sent  # measured here: the executor's own figure is not trusted
        except ExecutorLost as lost:
            return self._reply(None, self.world.sim.step_count - start, episode.script.told(), lost.loss)
        finally:
            episode.budget.stop()
            episode.deadline = float("inf")
            episode.live_every = 0.0
        steps = self.world.sim.step_count - start
        disturbed = None if finished.done else episode.context.disturb()
        notes = (f"Between turns, an object was {disturbed}; the scene below shows it now.",) if disturbed else ()
        return self._reply(finished, steps, episode.script.told() + notes, ran_s=ran_s)

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
        checked_poses = [ScenePose.model_validate(pose) for pose in poses]
        bodies = [self.world.sim.body_id(name) for name in self.world.object_names]
        if any(len(pose.objects) != len(bodies) for pose in checked_poses):
            raise ValueError(f"the poses are of another scene: this one has {len(bodies)} objects")
        self._episode = None
        client, robot = self.world.sim.client, self.world.robot.body
        frames = []
        for pose in checked_poses:
            for body, (*position, qx, qy, qz, qw) in zip(bodies, pose.objects):
                client.resetBasePositionAndOrientation(body, position, (qx, qy, qz, qw))
            for joint, angle in zip(ARM_JOINTS + FINGER_JOINTS, pose.joints):
                client.resetJointState(robot, joint, angle, 0.0)
            frames.append(self._video_frame())
        return frames

    def close(self) -> None:
        """End the episode, let go of the executor and release the world."""
        self._episode = None
        if self._channel is not None:
            self._channel.close()
        self.world.close()

    # --- the executor's skill calls ----------------------------------------------------------

    def _send(self, message: Start | Run) -> None:
        """Send the executor a message (raises :class:`ExecutorLost` when it is gone)."""
        assert self._channel is not None
        try:
            send_model(self._channel, message)
        except OSError as error:
            raise ExecutorLost("crash", str(error)) from None

    def _receive(self, until: float, expected: str) -> Any:
        """The executor's next ``expected`` message (checked), by ``until``; while a program runs
        (``finished`` is expected), its skill calls are answered meanwhile.

        Raises:
            ExecutorLost: the executor went away, broke the channel, or sent nothing in time.
        """
        channel = self._channel
        assert channel is not None
        # One poll object for the whole action: a skill call costs one poll, not a selector made per message.
        poller = select.poll()
        poller.register(channel.fileno(), select.POLLIN)
        host = self.host.fileno() if self.host is not None and expected == "finished" else None
        if host is not None:
            poller.register(host, select.POLLIN)
        try:
            while True:
                ready = {fd for fd, _ in poller.poll(math.ceil(max(0.0, until - time.monotonic()) * 1000))}
                if host in ready and self._stop_asked():
                    # A program that calls no skill is not stopped by the skills: it has the grace to end.
                    poller.unregister(host)
                    host, until = None, min(until, time.monotonic() + STOP_GRACE_S)
                    continue
                if channel.fileno() not in ready or time.monotonic() > until:  # silent, or calling on and on
                    raise ExecutorLost("stopped" if self._current().stopped else "time")
                header, data = receive_message(channel, MAX_CALL_BYTES)
                if header["op"] != "call" or expected != "finished":
                    return checked(header, (expected,))
                self._answer(channel, header, data)
        except ChannelError as error:
            raise ExecutorLost("protocol", str(error)) from None
        except (EOFError, OSError) as error:
            raise ExecutorLost("crash", str(error)) from None

    def _answer(self, channel: Connection, header: dict[str, Any], data: Any) -> None:
        """Run one skill call for the executor and send back the value, the exception or the limit."""
        episode = self._current()
        name, args, kwargs = header.get("name"), decode_value(header.get("args"), data), header.get("kwargs")
        kwargs = decode_value(kwargs, data)
        if type(args) is not list or type(kwargs) is not dict or not all(type(k) is str for k in kwargs):
            raise ChannelError("a call's arguments must be a list and a dict with string keys")
        skill = episode.skills.get(name) if type(name) is str else None
        printed = CappedOutput(MAX_OUTPUT_CHARS)
        buffers: list[memoryview] = []
        answer: dict[str, Any]
        with contextlib.redirect_stdout(printed):
            try:
                if episode.stopped:
                    raise LimitExceeded("stopped", STOPPED)
                if time.monotonic() > episode.deadline:  # a skill that steps no physics is stopped here
                    raise LimitExceeded("time", time_message(self.config.limits.time_limit_s))
                if skill is None:
                    raise ValueError(f"there is no skill named {str(name)[:60]!r}")
                episode.calls += 1
                value = skill(*args, **kwargs)
                encoded = encode_value(value, buffers)
                episode.false += value is False
                answer = {"op": "answer", "value": encoded}
            except LimitExceeded as stop:
                answer = {"op": "limit", "kind": stop.kind, "message": stop.message}
            except Exception as error:
                buffers.clear()  # of a value that could not be encoded whole
                answer = {"op": "raise", "type": _raisable(error), "args": _arguments(error, buffers)}
        answer["printed"] = printed.shown()[0]
        send_message(channel, answer, buffers)

    # --- episodes ----------------------------------------------------------------------------

    def _current(self) -> _Episode:
        if self._episode is None:
            raise RuntimeError("no episode: reset first")
        return self._episode

    def _on_step(self, step: int) -> None:
        episode = self._episode
        if episode is None:
            return
        episode.budget(step)
        episode.script.on_step(step)
        now = time.monotonic()
        if now > episode.deadline:  # the executor stops the program at the same moment
            raise LimitExceeded("time", time_message(self.config.limits.time_limit_s))
        if episode.budget.armed and self._stop_asked():
            raise LimitExceeded("stopped", STOPPED)
        if episode.live_every and now >= episode.live_due and self.host is not None:
            episode.live_due = now + episode.live_every
            send_live_pose(self.host, self._pose())
        if episode.pose_every and step % episode.pose_every == 0:
            if len(episode.poses) >= MAX_POSES - 1:  # the last place is kept for the scene as the action ends
                # A long action: keep every other pose and record half as often from now on, so
                # its video shows all of it, faster, rather than stopping part way.
                del episode.poses[1::2]
                episode.pose_every *= 2
            if step % episode.pose_every == 0:
                episode.poses.append(self._pose())

    def _stop_asked(self) -> bool:
        """Whether the host has stopped the running action (reading its ``stop`` if one came)."""
        episode = self._current()
        if not episode.stopped and self.host is not None and self.host.poll(0):
            receive_request(self.host)  # while an action runs the host sends nothing but a stop
            episode.stopped = True
        return episode.stopped

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

    # --- replies -----------------------------------------------------------------------------

    def _reply(
        self,
        finished: Finished | None,
        sim_steps: int,
        notes: tuple[str, ...] = (),
        loss: ExecutorLoss | None = None,
        ran_s: float = 0.0,
    ) -> WorkerReply:
        episode = self._current()
        context = episode.context
        done = finished or Finished(op="finished")
        report = ActionReport(
            stdout=done.stdout,
            stdout_cut=done.stdout_cut,
            error=done.error,
            error_type=done.error_type,
            limit=done.limit,
            said=done.said,
            origin=done.origin,
            skill_calls=episode.calls + done.local_calls,
            skill_false=episode.false,
            done=done.done,
            timings=Timings(ran_s, sim_steps, sim_steps * self.world.sim.time_step),
        )
        return WorkerReply(
            report=report,
            state=WorldState.model_validate({**self.world.get_state(exact=True), "episode": episode.progress()}),
            scene=self._scene(context),
            images={camera: context.frame(camera).rgb for camera in self.config.cameras},
            poses=(*episode.poses, self._pose()) if self._video_cameras else (),
            notes=_notes(notes),
            saved_skills=done.saved_skills,
            executor_lost=loss,
        )

    def _scene(self, context: SkillContext) -> SceneSummary:
        robot = self.world.robot
        width = robot.gripper_width()
        estimates = context.perception.estimates()
        openings = {name: self.world.opening(name) for name, e in estimates.items() if KINDS[e.kind].fixed}
        held = self.world.held_object()
        # A hand that holds nothing and is not closed is open as far as a program is concerned
        # (place lets go at the object's width, not wide open: "partly open" misled).
        state = "closed" if width < CLOSED_WIDTH else "open" if width > OPEN_WIDTH or held is None else "partly open"
        return SceneSummary(
            objects={
                name: tuple(round(float(v), 3) for v in estimate.position) for name, estimate in estimates.items()
            },
            openings={name: round(float(opening), 3) for name, opening in openings.items() if opening is not None},
            gripper=GripperSummary(
                position=tuple(round(float(v), 3) for v in robot.ee_position()),
                width=round(width, 3),
                state=state,
                holding=held,
            ),
        )


def _notes(notes: tuple[str, ...]) -> tuple[str, ...]:
    """Notes within the protocol's caps: each cut to its length, the last saying how many more there were."""
    if len(notes) > MAX_NOTES:
        notes = (*notes[: MAX_NOTES - 1], f"... and {len(notes) - MAX_NOTES + 1} more notes like these")
    return tuple(
        note if len(note) <= MAX_NOTE_CHARS else note[: MAX_NOTE_CHARS - 3] + "..." for note in map(plain_text, notes)
    )


def _raisable(error: Exception) -> str:
    """The name of the nearest class of ``error`` the executor recreates (a ``UsageError`` is a ValueError)."""
    return next((k.__name__ for k in type(error).__mro__ if RAISABLE.get(k.__name__) is k), type(error).__name__)


def _arguments(error: Exception, buffers: list[memoryview]) -> Any:
    """An exception's arguments as channel data; its message alone where they cannot cross."""
    try:
        return encode_value(list(error.args), buffers)
    except (TypeError, ValueError):
        buffers.clear()
        return [str(error)]
