"""The host's side of an episode slot: start its two processes, talk to them, recover them.

An episode slot is a *simulator* (trusted: the world, the skills, the task's data; one per
slot, reused across episodes) and an *executor* (untrusted: the sandbox where programs
run; a fresh one for every episode, started ahead of time). The host starts both, makes
the socket pair between them and hands each its end (:mod:`channel`).

Before every code action the host holds the world state the simulator last reported. If
an action crashes or hangs the executor, the simulator says so, the host kills it and
attaches a fresh one: the scene stays as the action left it, the program's variables
are gone. If the simulator dies, hangs or answers with anything but a well-formed reply,
the host kills both, starts them again, restores that state (the world, and the episode's
pending scene events and random streams) and tells the agent. A slot
that keeps dying ends the episode with :class:`WorkerCrashed`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar

import numpy as np

from codeact_robot import EXECUTOR_MODULE
from codeact_robot.sandbox.limits import time_message
from codeact_robot.worker.child import ChildProcess
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import (
    MAX_RENDER_POSES,
    STOP_GRACE_S,
    ActionReport,
    Hello,
    LiveView,
    PoseCallback,
    ProtocolError,
    ScenePose,
    WorkerFailed,
    WorkerReply,
    receive_frames,
    receive_hello,
    receive_reply,
    send_request,
)

log = logging.getLogger(__name__)
_reported: set[tuple[str, ...]] = set()  # confinement gaps already logged by this process

GRACE_S = 5.0  # beyond the action's time limit before the host kills the simulator (twice: the executor's first)
START_TIMEOUT_S = 120.0  # a cold start imports PyBullet, numpy and OpenCV
MAX_RESTARTS = 3  # per episode
WORKER_COMMAND = (sys.executable, "-m", "codeact_robot.worker.simulator_process")
EXECUTOR_COMMAND = (sys.executable, "-m", EXECUTOR_MODULE)
Answer = TypeVar("Answer")
RESTARTED = (
    "The interpreter was restarted: variables and functions from earlier actions are lost; "
    "the scene is as it was before this action."
)
EXECUTOR_RESTARTED = (
    "The interpreter was restarted: variables and functions from earlier actions are lost; "
    "the scene is as this action left it."
)


class WorkerCrashed(RuntimeError):
    """The episode slot died more often than an episode allows, or could not be started."""


class _WorkerLost(Exception):
    def __init__(self, reason: str, limit: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class _Executor:
    """An executor process and the simulator's end of its channel (until handed over)."""

    def __init__(self, command: Sequence[str], config: EnvConfig) -> None:
        self.channel, executor_end = socket.socketpair()
        self.child = ChildProcess(command, [executor_end.fileno()], [str(executor_end.fileno())])
        executor_end.close()
        with contextlib.suppress(OSError):  # it died at once: ready() says why
            self.child.connection.send_bytes(config.model_dump_json().encode())

    def ready(self) -> Hello:
        """Its hello, once it has imported everything and confined itself.

        Raises:
            WorkerCrashed: it did not start.
        """
        try:
            return receive_hello(self.child.connection, time.monotonic() + START_TIMEOUT_S)
        except (TimeoutError, ProtocolError, EOFError, OSError):
            reason = self.child.death_reason("executor")
            self.kill()
            raise WorkerCrashed(f"the executor could not start: {reason}") from None

    def kill(self) -> None:
        self.child.kill()
        self.channel.close()


class WorkerClient:
    """An episode slot: the simulator (world, skills) and the executor (sandbox), each a process.

    Args:
        config: the environment's settings, sent to both processes whole.
        command: the program that serves as the simulator, started with the socket's file
            descriptor and a scratch folder appended (tests start a hostile stand-in).
        gate: held while the simulator starts or answers a request (never while the host
            waits for anything else), so that an evaluation with many episodes in flight
            can bound how many workers compute at once (a ``threading.Semaphore``).
        executor_command: the program that serves as the executor, started with the
            socket's and the channel's file descriptors appended (tests start a stand-in
            for an escaped sandbox; no setting or file can choose it).
    """

    def __init__(
        self,
        config: EnvConfig,
        command: Sequence[str] = WORKER_COMMAND,
        gate: AbstractContextManager[Any] | None = None,
        executor_command: Sequence[str] = EXECUTOR_COMMAND,
    ) -> None:
        self.config = config
        self.command = tuple(command)
        self.executor_command = tuple(executor_command)
        self.gate = gate if gate is not None else nullcontext()
        self.restarts = 0
        width, height = config.camera_size
        self._image_shape = (height, width, 3)
        video_width, video_height = config.video_size
        self._frame_shape = (video_height, video_width, 3)
        self._simulator: ChildProcess | None = None
        self._scratch: str | None = None
        self._executor: _Executor | None = None  # attached to the simulator
        self._spare: _Executor | None = None  # started ahead of time for the next attach
        self._terminated = False  # by terminate(): never started again
        self._seed = 0
        self._skills: list[str] = []
        self._snapshot: dict[str, Any] | None = None
        self._live: tuple[LiveView, PoseCallback] | None = None
        self._sending = threading.Lock()  # Stop sends from another thread than the requests
        self._running = False  # an action is running (a stop may be sent)

    # --- requests ------------------------------------------------------------------------

    def reset(
        self, placements: list[dict[str, Any]], seed: int, skills: list[str], events: Sequence[dict[str, Any]] = ()
    ) -> WorkerReply:
        """Lay out a new scene with a fresh executor (starting the simulator if needed).

        Args:
            placements: the scene's objects as plain data.
            seed: the episode seed (seeds the sandbox's ``random``).
            skills: sources of the learned skills to load into the sandbox.
            events: the scene's events as plain data (``envs/events.py``); each reply's
                state says which are still pending, so a restore from it continues them.

        Raises:
            WorkerCrashed: when the simulator or the executor cannot be started.
        """
        self.restarts = 0
        self._seed = seed
        self._skills = list(skills)
        return self._set_up("reset", placements=placements, events=list(events))

    def restore(self, state: dict[str, Any]) -> WorkerReply:
        """Put the world into a state from an earlier reply; a fresh executor starts afresh.

        The episode goes on where the state left it: its pending scene events, its imperfect
        physics' random streams (the state's ``episode``, checked again by the simulator).

        Raises:
            WorkerCrashed: when the simulator or the executor cannot be started.
        """
        return self._set_up("restore", state=state)

    def _set_up(self, verb: str, **payload: Any) -> WorkerReply:
        if self._terminated:
            raise WorkerCrashed("the worker was stopped: the evaluation it ran for is ending")
        if not self.alive:
            if self._spare is None:  # it imports while the simulator does
                self._spare = _Executor(self.executor_command, self.config)
            with self.gate:
                self._start()
        try:
            reply = self._attached(verb, **payload)
        except _WorkerLost as lost:
            self._kill()
            raise WorkerCrashed(f"the worker could not {verb}: {lost.reason}") from None
        if reply.executor_lost is not None:
            reason = self._executor_reason(reply)
            self._kill()
            raise WorkerCrashed(f"the worker could not {verb}: {reason}")
        return reply

    def _attached(self, verb: str, **payload: Any) -> WorkerReply:
        """Send a request that hands the simulator a fresh executor's channel."""
        if self._executor is not None:
            self._executor.kill()  # nothing of an earlier program outlives it
        executor = self._executor = self._next_executor()
        try:
            return self._checked(
                verb,
                START_TIMEOUT_S,
                channel=executor.channel.fileno(),
                seed=self._seed,
                skills=self._skills,
                **payload,
            )
        finally:
            executor.channel.close()  # the simulator holds its end now

    def _next_executor(self) -> _Executor:
        """The spare executor (or a new one), ready; then the next spare starts, to import while the episode runs."""
        spare, self._spare = self._spare, None
        if spare is not None and not spare.child.alive:  # ended meanwhile (terminate(), a stray signal)
            spare.kill()
            spare = None
        executor = spare or _Executor(self.executor_command, self.config)
        _report_gaps("executors", executor.ready())
        self._spare = _Executor(self.executor_command, self.config)
        return executor

    def watch(self, live: LiveView | None, on_pose: PoseCallback | None = None) -> None:
        """Have the next actions send the scene's pose to ``on_pose`` while they run (None: no live view).

        ``on_pose`` runs in the thread that called :meth:`execute`, while the action runs.
        """
        if (live is None) != (on_pose is None):
            raise ValueError("a live view and what takes its poses come together")
        self._live = (live, on_pose) if live is not None and on_pose is not None else None

    def stop(self) -> bool:
        """Stop the action that is running, from any thread; the scene stays where the arm left it.

        The simulator stops the program at its next physics step or skill call, with a
        ``StoppedByUser`` error; a program that calls no skill is ended with its executor
        after ``STOP_GRACE_S`` (its variables are lost, as after a crash).

        Returns:
            Whether an action was running to stop.
        """
        with self._sending:
            if not self._running or self._simulator is None:
                return False
            send_request(self._simulator.connection, "stop")
            return True

    def execute(self, code: str, turn: int) -> WorkerReply:
        """Run a code action; recover the slot if the action takes a process down.

        Args:
            code: the program.
            turn: the episode's turn number, which names the program in tracebacks
                (``<action 3>``) as the model and the user count turns.

        Raises:
            WorkerCrashed: when a process had to be restarted more than ``MAX_RESTARTS``
                times in this episode, or does not come back.
        """
        if self._snapshot is None:
            raise RuntimeError("call reset() before execute()")
        live = self._live
        timeout = self.config.limits.time_limit_s + 2 * GRACE_S
        try:
            reply = self._checked(
                "execute", timeout, live[1] if live else None, code=code, turn=turn, live=live and live[0].model_dump()
            )
        except _WorkerLost as lost:
            return self._recover(lost)
        if reply.executor_lost is not None:
            return self._replace_executor(reply)
        return reply

    def _replace_executor(self, reply: WorkerReply) -> WorkerReply:
        """The executor was lost during the action: attach a fresh one to the scene as it is."""
        assert reply.executor_lost is not None
        kind = reply.executor_lost.kind
        reason = self._executor_reason(reply)
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            self._kill()
            raise WorkerCrashed(f"the worker died {self.restarts} times in this episode; last: {reason}")
        try:
            attached = self._attached("attach")
        except _WorkerLost as lost:
            return self._recover(lost)
        if attached.executor_lost is not None:
            self._kill()
            raise WorkerCrashed(f"the executor could not be replaced: {self._executor_reason(attached)}")
        limit = kind if kind in ("time", "stopped") else "crash"
        report = ActionReport(
            error=f"{reason}. {EXECUTOR_RESTARTED}",
            error_type={"time": "TimeoutError", "stopped": "StoppedByUser"}.get(kind, "WorkerCrash"),
            limit=limit,
            origin="crash" if limit == "crash" else "limit",
            said=reply.report.said,
            skill_calls=reply.report.skill_calls,
            skill_false=reply.report.skill_false,
            restarted=True,
            timings=reply.report.timings,
        )
        return dataclasses.replace(reply, report=report, executor_lost=None, notes=attached.notes)

    def _executor_reason(self, reply: WorkerReply) -> str:
        """What happened to the executor the simulator lost, as the agent is told; the executor is ended."""
        assert reply.executor_lost is not None and self._executor is not None
        loss, child = reply.executor_lost, self._executor.child
        if loss.kind == "time":
            reason = time_message(self.config.limits.time_limit_s)
        elif loss.kind == "stopped":
            reason = f"StoppedByUser: the action was stopped by the user and did not end within {STOP_GRACE_S:g} s"
        elif loss.kind == "protocol":
            reason = f"WorkerCrash: the executor broke the protocol ({loss.detail})"
        else:
            reason = child.death_reason("executor")
        self._executor.kill()
        self._executor = None
        return reason

    def _recover(self, lost: _WorkerLost) -> WorkerReply:
        self._kill()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise WorkerCrashed(f"the worker died {self.restarts} times in this episode; last: {lost.reason}")
        assert self._snapshot is not None
        restored = self.restore(self._snapshot)
        report = ActionReport(
            error=f"{lost.reason}. {RESTARTED}",
            error_type="TimeoutError" if lost.limit == "time" else "WorkerCrash",
            limit=lost.limit,
            origin="limit" if lost.limit == "time" else "crash",
            restarted=True,
        )
        return WorkerReply(
            report=report,
            state=restored.state,
            scene=restored.scene,
            images=restored.images,
            poses=restored.poses,  # the restored scene, for a video
            notes=restored.notes,
        )

    def render(self, poses: Sequence[ScenePose]) -> list[np.ndarray]:
        """Video frames of poses the simulator recorded (``EnvConfig.video_camera``), one per pose.

        Drawing them moves the world, so the episode ends: a reset comes next. A simulator
        that died is started again first (any simulator of the episode's scene draws it).

        Args:
            poses: at most ``MAX_RENDER_POSES`` poses from this episode's replies.

        Raises:
            ValueError: more than ``MAX_RENDER_POSES`` poses.
            RuntimeError: no episode has been reset yet.
            WorkerCrashed: the simulator could not draw them.
        """
        if len(poses) > MAX_RENDER_POSES:
            raise ValueError(f"at most {MAX_RENDER_POSES} poses can be rendered at once, got {len(poses)}")
        if self._snapshot is None:
            raise RuntimeError("call reset() before render()")
        if not self.alive:
            self.restore(self._snapshot)
        assert self._simulator is not None
        connection = self._simulator.connection
        try:
            return self._request(
                "render",
                START_TIMEOUT_S,
                lambda deadline: receive_frames(connection, self._frame_shape, len(poses), deadline),
                poses=[pose.model_dump(mode="json") for pose in poses],
            )
        except _WorkerLost as lost:
            self._kill()
            raise WorkerCrashed(f"the worker could not render the video: {lost.reason}") from None

    # --- process management --------------------------------------------------------------

    def terminate(self) -> None:
        """End the slot's processes now, from any thread, and start no others.

        The request the simulator is answering (if any) fails as a crash in the thread that
        made it, which then closes the client (removing its scratch folder) as it always does.
        """
        self._terminated = True
        for child in (self._simulator, *(e.child for e in (self._executor, self._spare) if e is not None)):
            if child is not None and child.alive:
                child.process.kill()

    @property
    def alive(self) -> bool:
        """Whether the simulator process is running."""
        return self._simulator is not None and self._simulator.alive

    @property
    def pid(self) -> int | None:
        """Process id of the simulator (None when not running)."""
        return self._simulator.process.pid if self.alive and self._simulator is not None else None

    @property
    def executor_pid(self) -> int | None:
        """Process id of the executor attached to the simulator (None when there is none)."""
        executor = self._executor
        return executor.child.process.pid if executor is not None and executor.child.alive else None

    def _start(self) -> None:
        self._scratch = tempfile.mkdtemp(prefix="codeact-worker-")
        self._simulator = simulator = ChildProcess(self.command, extra_args=[self._scratch])
        simulator.connection.send_bytes(self.config.model_dump_json().encode())
        try:
            hello = receive_hello(simulator.connection, time.monotonic() + START_TIMEOUT_S)
        except (TimeoutError, ProtocolError, EOFError, OSError):
            reason = simulator.death_reason("worker")
            self._kill()
            raise WorkerCrashed(f"the worker could not start: {reason}") from None
        _report_gaps("simulators", hello)

    def _kill(self) -> None:
        """End the simulator and the executor attached to it (the spare stays, for the next start)."""
        if self._executor is not None:
            self._executor.kill()
        if self._simulator is not None:
            self._simulator.kill()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._simulator = self._executor = self._scratch = None

    def _checked(self, verb: str, timeout: float, on_pose: PoseCallback | None = None, **payload: Any) -> WorkerReply:
        assert self._simulator is not None
        connection = self._simulator.connection

        def receive(deadline: float) -> WorkerReply:
            video = self.config.video_fps is not None
            return receive_reply(connection, self._image_shape, self.config.cameras, video, deadline, on_pose)

        reply = self._request(verb, timeout, receive, **payload)
        self._snapshot = reply.state.model_dump()
        return reply

    def _request(self, verb: str, timeout: float, receive: Callable[[float], Answer], **payload: Any) -> Answer:
        with self.gate:
            return self._exchange(verb, timeout, receive, **payload)

    def _exchange(self, verb: str, timeout: float, receive: Callable[[float], Answer], **payload: Any) -> Answer:
        simulator = self._simulator
        assert simulator is not None
        # The watchdog ends a simulator that stalls in the middle of a reply, where a blocking
        # read would otherwise wait for the rest forever.
        watchdog = threading.Timer(timeout + GRACE_S, simulator.process.kill)
        watchdog.start()
        try:
            with self._sending:
                send_request(simulator.connection, verb, **payload)
                self._running = verb == "execute"
            return receive(time.monotonic() + timeout)
        except TimeoutError:
            reason = (
                time_message(self.config.limits.time_limit_s) if verb == "execute" else f"no answer in {timeout:g} s"
            )
            raise _WorkerLost(reason, "time") from None
        except ProtocolError as error:
            raise _WorkerLost(f"WorkerCrash: the worker broke the protocol ({error})", "crash") from None
        except (EOFError, OSError):
            raise _WorkerLost(simulator.death_reason("worker"), "crash") from None
        except WorkerFailed as failure:
            # A simulator that failed at a request of its own is not trusted with the next: a later
            # request starts a fresh one, and no snapshot of the last episode is kept.
            self._kill()
            self._snapshot = None
            raise WorkerCrashed(f"the worker failed to {verb}: {failure}") from None
        except KeyboardInterrupt:
            # The answer was cut off part way: the connection is out of step, so the simulator is
            # ended (a later request starts a fresh one from the snapshot before this request).
            self._kill()
            raise
        finally:
            watchdog.cancel()
            with self._sending:
                self._running = False

    def close(self) -> None:
        """Stop the slot's processes; safe to call twice."""
        simulator = self._simulator
        if simulator is not None and simulator.alive:
            try:
                send_request(simulator.connection, "close")
                simulator.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
        if self._spare is not None:
            self._spare.kill()
            self._spare = None


def _report_gaps(processes: str, hello: Hello) -> None:
    """Log once per process what confinement the kind of process runs without."""
    if hello.missing and hello.missing not in _reported:
        _reported.add(hello.missing)
        log.warning("episode %s run without full OS confinement: %s", processes, "; ".join(hello.missing))
