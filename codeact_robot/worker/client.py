"""The host's side of an episode worker: start it, talk to it, recover it when it dies.

Before every code action the host holds the world state the worker last reported. If
the action crashes or hangs the worker (a segfault, a long C call, exhausted memory,
SIGKILL), the host kills it, starts a fresh one, restores that state and tells the
agent. A worker that keeps dying ends the episode with :class:`WorkerCrashed`.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
from multiprocessing.connection import Connection
from typing import Any

from codeact_robot.sandbox.limits import time_message
from codeact_robot.worker.config import WorkerConfig
from codeact_robot.worker.episode import WorkerReply

GRACE_S = 5.0  # beyond the action's time limit before the host kills the worker
START_TIMEOUT_S = 120.0  # a cold start imports PyBullet, numpy and OpenCV
MAX_RESTARTS = 3  # per episode
RESTARTED = (
    "The interpreter was restarted: variables and functions from earlier actions are lost; "
    "the scene is as it was before this action."
)


class WorkerCrashed(RuntimeError):
    """The worker died more often than an episode allows, or could not be started."""


class _WorkerLost(Exception):
    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


class EpisodeWorker:
    """An episode's world, skills and sandbox in a process of their own.

    Args:
        config: settings of the worker.
    """

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._seed = 0
        self._snapshot: dict[str, Any] | None = None

    # --- requests ------------------------------------------------------------------------

    def reset(self, placements: list[dict[str, Any]], seed: int) -> WorkerReply:
        """Lay out a new scene (starting the worker if needed).

        Raises:
            WorkerCrashed: when the worker cannot be started.
        """
        self.restarts = 0
        self._seed = seed
        return self._set_up("reset", {"placements": placements, "seed": seed})

    def restore(self, state: dict[str, Any]) -> WorkerReply:
        """Put the world into a state from an earlier reply; the sandbox starts afresh.

        Raises:
            WorkerCrashed: when the worker cannot be started.
        """
        return self._set_up("restore", {"state": state, "seed": self._seed})

    def _set_up(self, verb: str, payload: dict[str, Any]) -> WorkerReply:
        if not self.alive:
            self._start()
        try:
            return self._checked(verb, payload, START_TIMEOUT_S)
        except _WorkerLost as lost:
            self._kill()
            raise WorkerCrashed(f"the worker could not {verb}: {lost.reason}") from None

    def execute(self, code: str) -> WorkerReply:
        """Run a code action; recover the worker if the action takes it down.

        Raises:
            WorkerCrashed: when the worker had to be restarted more than ``MAX_RESTARTS``
                times in this episode, or does not come back.
        """
        if self._snapshot is None:
            raise RuntimeError("call reset() before execute()")
        timeout = self.config.limits.time_limit_s + GRACE_S
        try:
            return self._checked("execute", {"code": code}, timeout)
        except _WorkerLost as lost:
            return self._recover(lost)

    def _recover(self, lost: _WorkerLost) -> WorkerReply:
        self._kill()
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise WorkerCrashed(f"the worker died {self.restarts} times in this episode; last: {lost.reason}")
        assert self._snapshot is not None
        reply = self.restore(self._snapshot)
        reply.result.error = f"{lost.reason}. {RESTARTED}"
        reply.result.error_type = "TimeoutError" if lost.kind == "time" else "WorkerCrash"
        reply.result.limit = lost.kind
        reply.restarted = True
        return reply

    # --- process management --------------------------------------------------------------

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
        host_end, worker_end = socket.socketpair()
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the process)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "codeact_robot.worker.process", str(worker_end.fileno())],
            pass_fds=[worker_end.fileno()],
            cwd=tempfile.gettempdir(),  # a source checkout in the caller's folder must not shadow the install
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # C libraries print there; the sandbox captures Python output itself
            stderr=self._stderr,
        )
        worker_end.close()
        self._connection = Connection(host_end.detach())
        self._connection.send(self.config.model_dump())

    def _kill(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(timeout=5)
        if self._connection is not None:
            self._connection.close()
        self._process = self._connection = None

    def _checked(self, verb: str, payload: dict[str, Any], timeout: float) -> WorkerReply:
        reply = self._request(verb, payload, timeout)
        self._snapshot = reply.state
        return reply

    def _request(self, verb: str, payload: dict[str, Any], timeout: float) -> WorkerReply:
        assert self._connection is not None and self._process is not None
        try:
            self._connection.send((verb, payload))
            if not self._connection.poll(timeout):
                late = f"no answer in {timeout:g} s"
                reason = time_message(self.config.limits.time_limit_s) if verb == "execute" else late
                raise _WorkerLost(reason, "time")
            status, body = self._connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise _WorkerLost(self._death_reason(), "crash") from None
        if status != "ok":
            raise WorkerCrashed(f"the worker failed to {verb}: {body}")
        return body

    def _death_reason(self) -> str:
        assert self._process is not None
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "WorkerCrash: the worker stopped answering"
        if code < 0:
            return f"WorkerCrash: the code crashed the interpreter (killed by {signal.Signals(-code).name})"
        self._stderr.seek(0)
        last = self._stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        detail = f": {last[0]}" if last else ""
        return f"WorkerCrash: the interpreter exited with code {code}{detail}"

    def close(self) -> None:
        """Stop the worker; safe to call twice."""
        if self._connection is not None and self._process is not None and self.alive:
            try:
                self._connection.send(("close", {}))
                self._process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()
