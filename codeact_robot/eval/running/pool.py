"""Episode workers handed from one episode to the next of the same environment settings.

Starting a worker (a fresh interpreter that imports PyBullet, builds its world and
confines itself) costs about a second of CPU; a reset of a running one, a fifth of
that. The pool keeps the workers of finished episodes and gives them to the next
episode with the same :class:`EnvConfig`; every worker it makes shares one gate, which
bounds how many of them compute at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import Any

from codeact_robot.worker.client import WorkerClient
from codeact_robot.worker.config import EnvConfig


class WorkerPool:
    """Idle episode workers by environment settings; safe to use from many threads.

    Args:
        gate: held by every worker while it starts or computes (None: no bound).
        max_idle: idle workers kept; beyond that the oldest is stopped.
    """

    def __init__(self, gate: AbstractContextManager[Any] | None, max_idle: int) -> None:
        self.gate = gate
        self.max_idle = max_idle
        self.started = 0  # workers made (each starts its process at its first reset)
        self._idle: list[WorkerClient] = []
        self._busy: set[WorkerClient] = set()  # taken, not yet given back
        self._lock = threading.Lock()
        self._closed = False

    def take(self, config: EnvConfig) -> WorkerClient:
        """An idle worker made for ``config``, or a new one."""
        with self._lock:
            found = next((w for w in self._idle if w.config == config), None)
            if found is not None:
                self._idle.remove(found)
            else:
                found = WorkerClient(config, gate=self.gate)
                self.started += 1
            self._busy.add(found)
            return found

    def give(self, worker: WorkerClient) -> None:
        """Return a worker after its episode (a dead one is closed: the next reset starts one)."""
        surplus = None
        with self._lock:
            self._busy.discard(worker)
            if self._closed or not worker.alive:
                surplus = worker
            else:
                self._idle.append(worker)
                if len(self._idle) > self.max_idle:
                    surplus = self._idle.pop(0)
        if surplus is not None:
            surplus.close()

    def close(self, busy_too: bool = False) -> None:
        """Stop every idle worker; workers given back later are stopped too.

        Args:
            busy_too: also end the workers episodes hold now (their episodes are being
                abandoned): each one's pending request fails and its episode gives it back.
        """
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy) if busy_too else []
        for worker in busy:
            worker.terminate()
        if idle:  # side by side: an evaluation's end waits for the slowest worker, not for all in turn
            with ThreadPoolExecutor(len(idle)) as closing:
                list(closing.map(WorkerClient.close, idle))
