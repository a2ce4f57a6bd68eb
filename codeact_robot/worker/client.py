"""The host's side of an episode worker: start it, talk to it, recover it when it dies.

Before every code action the host holds the world state the worker last reported. If
the action crashes or hangs the worker (a segfault, a long C call, exhausted memory,
SIGKILL), or the worker answers with anything but a well-formed reply, the host kills
it, starts a fresh one, restores that state and tells the agent. A worker that keeps
dying ends the episode with :class:`WorkerCrashed`.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from codeact_robot.sandbox.limits import time_message
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import (
    MAX_RENDER_POSES,
    ActionReport,
    FrameCallback,
    LiveView,
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

GRACE_S = 5.0  # beyond the action's time limit before the host kills the worker
STOP_GRACE_S = 2.0  # after a stop request before the host kills a worker that runs no physics steps
STOP_KILLED = (
    "StoppedByUser: the action was stopped by the user; it ran no physics steps to stop between, so the "
    f"interpreter was ended after {STOP_GRACE_S:g} s"
)
START_TIMEOUT_S = 120.0  # a cold start imports PyBullet, numpy and OpenCV
MAX_RESTARTS = 3  # per episode
WORKER_COMMAND = (sys.executable, "-m", "codeact_robot.worker.process")
Answer = TypeVar("Answer")
RESTARTED = (
    "The interpreter was restarted: variables and functions from earlier actions are lost; "
    "the scene is as it was before this action."
)


class WorkerCrashed(RuntimeError):
    """The worker died more often than an episode allows, or could not be started."""


class _WorkerLost(Exception):
    def __init__(self, reason: str, limit: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class WorkerClient:
    """An episode's world, skills and sandbox in a process of their own.

    Args:
        config: the environment's settings, sent to the worker whole.
        command: the program that serves as the worker, started with the socket's file
            descriptor and a scratch folder appended (tests start a hostile stand-in).
        gate: held while the worker starts or answers a request (never while the host
            waits for anything else), so that an evaluation with many episodes in flight
            can bound how many workers compute at once (a ``threading.Semaphore``).
    """

    def __init__(
        self,
        config: EnvConfig,
        command: Sequence[str] = WORKER_COMMAND,
        gate: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.config = config
        self.command = tuple(command)
        self.gate = gate if gate is not None else nullcontext()
        self.restarts = 0
        width, height = config.camera_size
        self._image_shape = (height, width, 3)
        video_width, video_height = config.video_size
        self._frame_shape = (video_height, video_width, 3)
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._stderr: IO[bytes] | None = None
        self._scratch: str | None = None
        self._terminated = False  # by terminate(): never started again
        self._seed = 0
        self._skills: list[str] = []
        self._snapshot: dict[str, Any] | None = None
        self._live: tuple[LiveView, FrameCallback] | None = None
        self._sending = threading.Lock()  # a stop is sent from another thread than the requests
        self._action = 0  # counts actions, so that a late stop timer knows its action has ended
        self._running: int | None = None  # the action being run, if any
        self._stop_killed = False

    # --- requests ------------------------------------------------------------------------

    def reset(self, placements: list[dict[str, Any]], seed: int, skills: list[str]) -> WorkerReply:
        """Lay out a new scene (starting the worker if needed).

        Args:
            placements: the scene's objects as plain data.
            seed: the episode seed (seeds the sandbox's ``random``).
            skills: sources of the learned skills to load into the sandbox.

        Raises:
            WorkerCrashed: when the worker cannot be started.
        """
        self.restarts = 0
        self._seed = seed
        self._skills = list(skills)
        return self._set_up("reset", placements=placements)

    def restore(self, state: dict[str, Any]) -> WorkerReply:
        """Put the world into a state from an earlier reply; the sandbox starts afresh.

        Raises:
            WorkerCrashed: when the worker cannot be started.
        """
        return self._set_up("restore", state=state)

    def _set_up(self, verb: str, **payload: Any) -> WorkerReply:
        if self._terminated:
            raise WorkerCrashed("the worker was stopped: the evaluation it ran for is ending")
        if not self.alive:
            with self.gate:
                self._start()
        try:
            return self._checked(verb, START_TIMEOUT_S, seed=self._seed, skills=self._skills, **payload)
        except _WorkerLost as lost:
            self._kill()
            raise WorkerCrashed(f"the worker could not {verb}: {lost.reason}") from None

    def watch(self, live: LiveView | None, on_frame: FrameCallback | None = None) -> None:
        """Stream live frames of the next actions to ``on_frame`` (None: stop streaming).

        ``on_frame`` runs in the thread that called :meth:`execute`, while the action runs.
        """
        if live is not None and on_frame is None:
            raise ValueError("a live view needs on_frame to take its frames")
        self._live = (live, on_frame) if live is not None and on_frame is not None else None

    def stop(self) -> bool:
        """Stop the action that is running, from any thread; the world stays where it is.

        The worker stops the program between two physics steps with a ``StoppedByUser``
        error. A program that runs no physics steps is stopped by ending the worker after
        ``STOP_GRACE_S``: it is then restarted and restored as after a crash (its
        variables are lost; the scene is as it was before the action, as it ran no steps).

        Returns:
            Whether an action was running to stop.
        """
        with self._sending:
            action, connection = self._running, self._connection
            if action is None or connection is None:
                return False
            send_request(connection, "stop")
        timer = threading.Timer(STOP_GRACE_S, self._end_unstopped, (action,))
        timer.daemon = True
        timer.start()
        return True

    def _end_unstopped(self, action: int) -> None:
        with self._sending:
            process = self._process
            if self._running != action or process is None or process.poll() is not None:
                return
            self._stop_killed = True
            process.kill()

    def execute(self, code: str, turn: int) -> WorkerReply:
        """Run a code action; recover the worker if the action takes it down.

        Args:
            code: the program.
            turn: the episode's turn number, which names the program in tracebacks
                (``<action 3>``) as the model and the user count turns.

        Raises:
            WorkerCrashed: when the worker had to be restarted more than ``MAX_RESTARTS``
                times in this episode, or does not come back.
        """
        if self._snapshot is None:
            raise RuntimeError("call reset() before execute()")
        live = self._live
        try:
            return self._checked(
                "execute",
                self.config.limits.time_limit_s + GRACE_S,
                live,
                code=code,
                turn=turn,
                live=live[0].model_dump(mode="json") if live else None,
            )
        except _WorkerLost as lost:
            return self._recover(lost)

    def _recover(self, lost: _WorkerLost) -> WorkerReply:
        self._kill()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise WorkerCrashed(f"the worker died {self.restarts} times in this episode; last: {lost.reason}")
        assert self._snapshot is not None
        restored = self.restore(self._snapshot)
        report = ActionReport(
            error=f"{lost.reason}. {RESTARTED}",
            error_type={"time": "TimeoutError", "stopped": "StoppedByUser"}.get(lost.limit, "WorkerCrash"),
            limit=lost.limit,
            origin="crash" if lost.limit == "crash" else "limit",
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
        """Video frames of poses the worker recorded (``EnvConfig.video_camera``), one per pose.

        Drawing them moves the world, so the episode ends: a reset comes next. A worker
        that died is started again first (any worker of the episode's scene draws it).

        Args:
            poses: at most ``MAX_RENDER_POSES`` poses from this episode's replies.

        Raises:
            ValueError: more than ``MAX_RENDER_POSES`` poses.
            RuntimeError: no episode has been reset yet.
            WorkerCrashed: the worker could not draw them.
        """
        if len(poses) > MAX_RENDER_POSES:
            raise ValueError(f"at most {MAX_RENDER_POSES} poses can be rendered at once, got {len(poses)}")
        if self._snapshot is None:
            raise RuntimeError("call reset() before render()")
        if not self.alive:
            self.restore(self._snapshot)
        connection = self._connection
        assert connection is not None
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
        """End the worker's process now, from any thread, and start no other.

        The request it is answering (if any) fails as a crash in the thread that made it,
        which then closes the client (removing its scratch folder) as it always does.
        """
        self._terminated = True
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    @property
    def alive(self) -> bool:
        """Whether the worker process is running."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """Process id of the worker (None when not running)."""
        return self._process.pid if self.alive and self._process is not None else None

    def _start(self) -> None:
        # A fresh interpreter, not a fork: nothing of the host is inherited, and the
        # caller's main module is never re-imported (no __main__ guard needed).
        scratch = _scratch_folder()
        host_end, worker_end = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the process)
        self._scratch = scratch
        self._process = subprocess.Popen(
            [*self.command, str(worker_end.fileno()), self._scratch],
            pass_fds=[worker_end.fileno()],
            cwd=tempfile.gettempdir(),  # a source checkout in the caller's folder must not shadow the install
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # C libraries print there; the sandbox captures Python output itself
            stderr=self._stderr,
            start_new_session=True,  # a Ctrl-C at the terminal reaches the host, which decides what stops
        )
        worker_end.close()
        self._connection = Connection(host_end.detach())
        self._connection.send_bytes(self.config.model_dump_json().encode())
        try:
            hello = receive_hello(self._connection, time.monotonic() + START_TIMEOUT_S)
        except (TimeoutError, ProtocolError, EOFError, OSError):
            reason = self._death_reason()
            self._kill()
            raise WorkerCrashed(f"the worker could not start: {reason}") from None
        if hello.missing and hello.missing not in _reported:
            _reported.add(hello.missing)
            log.warning("episode workers run without full OS confinement: %s", "; ".join(hello.missing))

    def _kill(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(timeout=5)
        if self._connection is not None:
            self._connection.close()
        if self._stderr is not None:
            self._stderr.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._process = self._connection = self._stderr = self._scratch = None

    def _checked(
        self, verb: str, timeout: float, streamed: tuple[LiveView, FrameCallback] | None = None, **payload: Any
    ) -> WorkerReply:
        connection = self._connection
        assert connection is not None

        def receive(deadline: float) -> WorkerReply:
            video = self.config.video_fps is not None
            return receive_reply(connection, self._image_shape, self.config.cameras, video, deadline, streamed)

        reply = self._request(verb, timeout, receive, **payload)
        self._snapshot = reply.state.model_dump()
        return reply

    def _request(self, verb: str, timeout: float, receive: Callable[[float], Answer], **payload: Any) -> Answer:
        with self.gate:
            return self._exchange(verb, timeout, receive, **payload)

    def _exchange(self, verb: str, timeout: float, receive: Callable[[float], Answer], **payload: Any) -> Answer:
        assert self._connection is not None and self._process is not None
        # The watchdog ends a worker that stalls in the middle of a reply, where a blocking
        # read would otherwise wait for the rest forever.
        watchdog = threading.Timer(timeout + GRACE_S, self._process.kill)
        watchdog.start()
        try:
            with self._sending:
                send_request(self._connection, verb, **payload)
                if verb == "execute":
                    self._action += 1
                    self._running, self._stop_killed = self._action, False
            return receive(time.monotonic() + timeout)
        except TimeoutError:
            reason = (
                time_message(self.config.limits.time_limit_s) if verb == "execute" else f"no answer in {timeout:g} s"
            )
            raise _WorkerLost(reason, "time") from None
        except ProtocolError as error:
            raise _WorkerLost(f"WorkerCrash: the worker broke the protocol ({error})", "crash") from None
        except (EOFError, OSError):
            if self._stop_killed:
                raise _WorkerLost(STOP_KILLED, "stopped") from None
            raise _WorkerLost(self._death_reason(), "crash") from None
        except WorkerFailed as failure:
            # A worker that failed at a request of its own is not trusted with the next: a later
            # request starts a fresh one, and no snapshot of the last episode is kept.
            self._kill()
            self._snapshot = None
            raise WorkerCrashed(f"the worker failed to {verb}: {failure}") from None
        except KeyboardInterrupt:
            # The answer was cut off part way: the connection is out of step, so the worker is
            # ended (a later request starts a fresh one from the snapshot before this request).
            self._kill()
            raise
        finally:
            watchdog.cancel()
            with self._sending:
                self._running = None

    def _death_reason(self) -> str:
        assert self._process is not None and self._stderr is not None
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "WorkerCrash: the worker stopped answering"
        if code < 0:
            return f"WorkerCrash: the code crashed the interpreter (killed by {signal.Signals(-code).name})"
        self._stderr.seek(0)
        last = self._stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        detail = f": {last[0][:300]}" if last else ""
        return f"WorkerCrash: the interpreter exited with code {code}{detail}"

    def close(self) -> None:
        """Stop the worker; safe to call twice."""
        if self._connection is not None and self._process is not None and self.alive:
            try:
                send_request(self._connection, "close")
                self._process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()


def _scratch_folder() -> str:
    """A fresh scratch folder for a worker, in the temporary folder (``TMPDIR``).

    A worker started by root runs as nobody, who must be able to pass through every
    folder above its scratch folder.

    Raises:
        WorkerCrashed: a folder on the way lets only its owner in.
    """
    folder = tempfile.mkdtemp(prefix="codeact-worker-")
    if os.geteuid() == 0:
        closed = next((p for p in Path(folder).parents if not os.stat(p).st_mode & stat.S_IXOTH), None)
        if closed is not None:
            os.rmdir(folder)
            raise WorkerCrashed(
                f"the worker could not start: it runs as nobody, who may not pass through {closed} to its "
                "scratch folder; point TMPDIR at a folder everyone may pass through, such as /tmp"
            )
    return folder
