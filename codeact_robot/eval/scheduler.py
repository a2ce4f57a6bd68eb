"""Where episodes run: threads of this process (local) or a Ray cluster (see ``ray_backend``).

Both hand finished episodes back to the one thread that writes the store, as they
finish. The local scheduler keeps up to ``max_in_flight`` episodes in flight, each a
thread with its own episode worker: model calls are I/O and overlap freely, while the
workers' gate (``--workers``) bounds how many simulate or run code at once.
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

from codeact_robot.eval.episode import Abandoned, EpisodeResult, EpisodeRunner
from codeact_robot.eval.store import EpisodeKey


class Scheduler(Protocol):
    """Runs jobs and hands back each finished episode."""

    def start(self, jobs: list[EpisodeKey]) -> None:
        """Begin running ``jobs`` (in their order, as slots free up)."""

    def next_result(self, timeout: float) -> EpisodeResult | None:
        """The next finished episode, or None when none finished within ``timeout`` seconds."""

    @property
    def in_flight(self) -> int:
        """Episodes running now."""

    @property
    def finished(self) -> bool:
        """Whether every started episode has been handed back (or abandoned)."""

    def drain(self) -> None:
        """Start no further episodes; those in flight finish."""

    def abandon(self) -> None:
        """Give up the episodes in flight: none of them will be handed back."""

    def close(self) -> None:
        """Release what the scheduler holds."""


class LocalScheduler:
    """Episodes in flight as threads of this process.

    Args:
        runner: runs one episode (shared by the threads).
        max_in_flight: the most episodes running at once.
    """

    def __init__(self, runner: EpisodeRunner, max_in_flight: int) -> None:
        self.runner = runner
        self.max_in_flight = max_in_flight
        self._jobs: queue.Queue[EpisodeKey] = queue.Queue()
        self._results: queue.Queue[EpisodeResult | None] = queue.Queue()
        self._draining = threading.Event()
        self._lock = threading.Lock()
        self._running = 0
        self._unreported = 0  # started and not yet handed back

    def start(self, jobs: list[EpisodeKey]) -> None:
        """Queue the jobs and start the episode threads."""
        for job in jobs:
            self._jobs.put(job)
        for index in range(min(self.max_in_flight, len(jobs))):
            # Daemon threads: an abandoned episode's thread never holds up the exit.
            threading.Thread(target=self._serve, name=f"episode-{index}", daemon=True).start()

    def _serve(self) -> None:
        while not self._draining.is_set():
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self._running += 1
                self._unreported += 1
            result: EpisodeResult | None = None  # abandoned (or, never expected, the runner itself failed)
            try:
                result = self.runner.run(job)
            except Abandoned:
                pass
            finally:
                with self._lock:
                    self._running -= 1
                self._results.put(result)  # always: the writer counts every started episode back

    def next_result(self, timeout: float) -> EpisodeResult | None:
        """The next finished episode, or None (see :class:`Scheduler`)."""
        try:
            result = self._results.get(timeout=timeout)
        except queue.Empty:
            return None
        with self._lock:
            self._unreported -= 1
        return result

    @property
    def in_flight(self) -> int:
        """Episodes running now."""
        return self._running

    @property
    def finished(self) -> bool:
        """No job left to start (or draining) and every started one handed back."""
        with self._lock:
            return self._unreported == 0 and (self._draining.is_set() or self._jobs.empty())

    def drain(self) -> None:
        """Start no further episodes."""
        self._draining.set()

    def abandon(self) -> None:
        """Tell the episodes in flight to stop at their next turn; nothing of them is stored."""
        self._draining.set()
        self.runner.stop.set()
        with self._lock:
            self._unreported = 0

    def close(self) -> None:
        """Stop the idle workers (episodes still running stop theirs when they end)."""
        self.runner.pool.close()
