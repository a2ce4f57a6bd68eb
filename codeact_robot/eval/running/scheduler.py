"""Where episodes run: threads of this process (local) or a Ray cluster (see ``ray_backend``).

Both hand finished episodes back to the one thread that writes the store, as they
finish. The local scheduler keeps up to ``max_in_flight`` episodes in flight, each a
thread with its own episode worker: model calls are I/O and overlap freely, while the
workers' gate (``--workers``) bounds how many simulate or run code at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import Protocol

from codeact_robot.eval.results.rows import EpisodeKey, EpisodeResult
from codeact_robot.eval.running.runner import Abandoned, EpisodeRunner

CLOSE_WAIT_S = 10.0  # how long closing waits for abandoned episodes to let go of their workers


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

    A job is taken and counted as running in one step under the lock, and every job
    counts as unreported from :meth:`start` until it is handed back (or dropped by
    :meth:`drain` before it started), so :attr:`finished` never holds while an episode runs.

    Args:
        runner: runs one episode (shared by the threads).
        max_in_flight: the most episodes running at once.
    """

    def __init__(self, runner: EpisodeRunner, max_in_flight: int) -> None:
        self.runner = runner
        self.max_in_flight = max_in_flight
        self._jobs: deque[EpisodeKey] = deque()
        self._results: queue.Queue[EpisodeResult | None] = queue.Queue()
        self._lock = threading.Lock()
        self._idle_threads = threading.Condition(self._lock)  # notified as each episode ends
        self._draining = False
        self._running = 0
        self._unreported = 0  # jobs queued or running, not yet handed back

    def start(self, jobs: list[EpisodeKey]) -> None:
        """Queue the jobs and start the episode threads."""
        with self._lock:
            self._jobs.extend(jobs)
            self._unreported += len(jobs)
        for index in range(min(self.max_in_flight, len(jobs))):
            # Daemon threads: an abandoned episode's thread never holds up the exit.
            threading.Thread(target=self._serve, name=f"episode-{index}", daemon=True).start()

    def _take(self) -> EpisodeKey | None:
        """The next job, counted as running; None when none is left or the scheduler drains."""
        with self._lock:
            if self._draining or not self._jobs:
                return None
            self._running += 1
            return self._jobs.popleft()

    def _serve(self) -> None:
        while (job := self._take()) is not None:
            result: EpisodeResult | None = None  # abandoned (or, never expected, the runner itself failed)
            try:
                result = self.runner.run(job)
            except Abandoned:
                pass
            finally:
                with self._lock:
                    self._running -= 1
                    self._idle_threads.notify_all()
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
        """Every job handed back, or dropped by :meth:`drain` before it started."""
        with self._lock:
            return self._unreported == 0

    def drain(self) -> None:
        """Start no further episodes: the jobs not started are dropped."""
        with self._lock:
            self._draining = True
            self._unreported -= len(self._jobs)
            self._jobs.clear()

    def abandon(self) -> None:
        """Stop the episodes in flight now (their workers end); nothing of them is stored."""
        self.drain()
        self.runner.stop.set()
        self.runner.pool.close(busy_too=True)
        with self._lock:
            self._unreported = 0

    def close(self) -> None:
        """Stop the idle workers, after the episodes still running (abandoned ones end at once) let go of theirs.

        An episode waiting on its model may hold its thread longer; after ``CLOSE_WAIT_S``
        the scheduler stops waiting (the thread is a daemon; its worker has been ended).
        """
        deadline = time.monotonic() + CLOSE_WAIT_S
        with self._idle_threads:
            while self._running and self._idle_threads.wait(max(0.0, deadline - time.monotonic())):
                pass
        self.runner.pool.close()
