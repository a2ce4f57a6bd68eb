"""Limits on a code action: wall time, simulation steps, memory, recursion, output."""

from __future__ import annotations

import contextlib
import resource
import signal
import sys
from collections.abc import Iterator
from typing import Any, Protocol


class SandboxLimits(Protocol):
    """The limits a sandbox enforces on each code action (the environment's ``Limits`` has them)."""

    @property
    def time_limit_s(self) -> float:
        """Wall-clock seconds per code action."""

    @property
    def memory_limit_mb(self) -> int:
        """Address-space cap of the process (stated in the MemoryError message)."""

    @property
    def max_output_chars(self) -> int:
        """Printed characters shown."""

    @property
    def max_sim_steps(self) -> int:
        """Physics steps per code action."""

    @property
    def max_sim_s(self) -> float:
        """The same limit in simulated seconds (for the message)."""

    @property
    def max_recursion(self) -> int:
        """Python call depth available to the program."""


class LimitExceeded(BaseException):
    """Stops a code action at a limit.

    A ``BaseException``, and not exposed to sandboxed code, so no ``except`` clause a
    program can write catches it.

    Attributes:
        kind: ``"time"``, ``"sim_steps"``, ``"memory"`` or ``"recursion"``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def time_message(seconds: float) -> str:
    """The observation for a program stopped at the wall-clock limit."""
    return f"TimeoutError: the code ran longer than {seconds:g} s and was stopped"


class _Hold:
    """Whether the wall-clock limit's interruption is held, and the one it holds."""

    active = False
    pending: LimitExceeded | None = None


@contextlib.contextmanager
def interruption_held() -> Iterator[None]:
    """Hold the wall-clock limit's interruption until the block ends, then raise it.

    For an exchange with another process that must not be cut in half (a skill call).
    Blocking the signal would not do: it is delivered to whichever thread has it
    unblocked, and Python runs the handler in the main thread all the same.
    """
    _Hold.active = True
    try:
        yield
    finally:
        _Hold.active = False
        pending, _Hold.pending = _Hold.pending, None
    if pending is not None:
        raise pending


@contextlib.contextmanager
def wall_clock_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`LimitExceeded` in the main thread once ``seconds`` have passed.

    After the first interruption it fires again every quarter second, so a program that
    loops in a ``finally`` block is interrupted there too. Code stuck inside a C call is
    not interrupted; the host kills the worker for that.
    """
    active = True

    def interrupt(signum: int, frame: Any) -> None:
        if active:
            stop = LimitExceeded("time", time_message(seconds))
            if _Hold.active:
                _Hold.pending = stop
                return
            raise stop

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
    try:
        yield
    finally:
        active = False
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def recursion_limit(depth: int) -> Iterator[None]:
    """Allow ``depth`` more Python frames than are on the stack now."""
    previous = sys.getrecursionlimit()
    frame, here = sys._getframe(), 0
    while frame is not None:
        frame, here = frame.f_back, here + 1
    sys.setrecursionlimit(here + depth)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


_LARGEST_RLIMIT = 2**63 - 1


def cap_memory(megabytes: int) -> None:
    """Cap this process's address space (RLIMIT_AS); allocations beyond it fail with MemoryError."""
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    elif limit >= _LARGEST_RLIMIT:  # more than an address space holds: no cap (a larger number overflows)
        limit = resource.RLIM_INFINITY
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class StepBudget:
    """A world step listener that stops a code action after ``limit`` physics steps.

    Once spent it stays spent until the next action: every further step is refused too.

    Args:
        limit: physics steps allowed per action.
        limit_s: the same limit in simulated seconds (for the message).
    """

    def __init__(self, limit: int, limit_s: float) -> None:
        self.limit = limit
        self.limit_s = limit_s
        self.used = 0
        self.armed = False

    def start(self) -> None:
        """Begin counting for a new action."""
        self.used = 0
        self.armed = True

    def stop(self) -> None:
        """Stop counting (steps outside actions are not charged)."""
        self.armed = False

    def __call__(self, step_count: int) -> None:
        if not self.armed:
            return
        self.used += 1
        if self.used > self.limit:
            raise LimitExceeded(
                "sim_steps",
                f"SimulationLimitError: the code ran more than {self.limit} simulation steps "
                f"({self.limit_s:g} simulated seconds) and was stopped",
            )
