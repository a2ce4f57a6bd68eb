"""A child process of the host: started fresh, talked to over a socket, ended by the host alone."""

from __future__ import annotations

import signal
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import IO


class ChildProcess:
    """A fresh interpreter (not a fork) with one end of a socket pair, plus inherited descriptors.

    Nothing of the host is inherited, and the caller's main module is never re-imported.
    The child's stdout goes nowhere (C libraries print there; programs' output is captured
    by the sandbox); its stderr is kept for the reason of a death.

    Args:
        command: the program; the socket's descriptor, then ``extra_args``, are appended.
        extra_fds: further descriptors the child inherits (closed here once it has them).
        extra_args: further arguments, after the socket's descriptor.
    """

    def __init__(self, command: Sequence[str], extra_fds: Sequence[int] = (), extra_args: Sequence[str] = ()) -> None:
        host_end, child_end = socket.socketpair()
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the process)
        self.process = subprocess.Popen(
            [*command, str(child_end.fileno()), *extra_args],
            pass_fds=[child_end.fileno(), *extra_fds],
            cwd=tempfile.gettempdir(),  # a source checkout in the caller's folder must not shadow the install
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            start_new_session=True,  # a Ctrl-C at the terminal reaches the host, which decides what stops
        )
        child_end.close()
        self.connection = Connection(host_end.detach())

    @property
    def alive(self) -> bool:
        """Whether the process is running."""
        return self.process.poll() is None

    def kill(self) -> None:
        """End the process now and release what the host holds of it; safe to call twice."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)
        self.connection.close()
        self.stderr.close()

    def death_reason(self, name: str) -> str:
        """Why the process ended, as the agent is told (``name``: "worker", "executor" ...)."""
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return f"WorkerCrash: the {name} stopped answering"
        if code < 0:
            return f"WorkerCrash: the code crashed the interpreter (killed by {signal.Signals(-code).name})"
        self.stderr.seek(0)
        last = self.stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        detail = f": {last[0][:300]}" if last else ""
        return f"WorkerCrash: the interpreter exited with code {code}{detail}"
