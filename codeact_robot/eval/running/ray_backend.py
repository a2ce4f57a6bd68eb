"""Episodes fanned out over a Ray cluster; results stream back to the driver, which stores them.

Each episode is a Ray task (one CPU) running the same :class:`EpisodeRunner` as the
local scheduler, in a Ray worker process that keeps its episode workers between tasks
(the same reuse as locally). The suite's agents go out as JSON; the job and the finished
episode (a kept video as its MP4's bytes) travel as Ray pickles them, between Ray's own
processes only: never from an episode worker, whose replies are checked plain data. The
driver stays the only writer of the results store, so resuming works exactly as it does
locally. Ray is an optional extra.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from codeact_robot.errors import UsageError
from codeact_robot.eval.results.rows import EpisodeKey, EpisodeResult
from codeact_robot.eval.running.pool import WorkerPool
from codeact_robot.eval.running.runner import AgentSettings, EpisodeRunner, Retries, Videos, error_result
from codeact_robot.eval.running.suite import AgentSpec

INSTALL_HINT = "--backend ray needs Ray: pip install 'codeact-robot[ray]' (on the driver and every node of the cluster)"

_process_pool: WorkerPool | None = None  # in a Ray worker process: its idle episode workers
_process_lock = threading.Lock()


@dataclass(frozen=True)
class RayConnection:
    """The ``ray`` module, connected, and whether this evaluation started that connection."""

    ray: Any
    owned: bool

    def close(self) -> None:
        """Disconnect, when this evaluation started the connection (a cluster outlives it)."""
        if self.owned:
            self.ray.shutdown()


def connect(address: str | None) -> RayConnection:
    """Connect to a Ray cluster (``auto``, ``ray://HOST:PORT``), or start a local Ray (None).

    A process already connected (a test's ``ray.init``) keeps its connection.

    Raises:
        UsageError: Ray is not installed (saying how to install it), or the cluster cannot
            be reached.
    """
    try:
        import ray
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    if ray.is_initialized():
        return RayConnection(ray, owned=False)
    try:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address or "a new local Ray"
        raise UsageError(f"could not connect to the Ray cluster at {where}: {error}") from None
    return RayConnection(ray, owned=True)


def run_remote_episode(
    agents_json: str, suite: dict[str, str], job: EpisodeKey, retries: Retries, videos: Videos
) -> EpisodeResult:
    """Run one episode in a Ray worker process (the body of the Ray task); a kept video comes back in the result."""
    global _process_pool
    with _process_lock:
        if _process_pool is None:
            _process_pool = WorkerPool(gate=None, max_idle=2)
    agents = {name: AgentSpec.model_validate(data) for name, data in json.loads(agents_json).items()}
    return EpisodeRunner(agents, suite, _process_pool, retries, videos=videos).run(job)


class RayScheduler:
    """Episodes as Ray tasks on a cluster (or a local Ray).

    Args:
        connection: the connected Ray.
        agents: the suite's agents.
        suite: the suite's name and hash (for the records).
        retries: the retry policy, applied where the episode runs.
        max_in_flight: the most tasks submitted at once.
        videos: which episodes get a video (recorded where the episode runs).
    """

    def __init__(
        self,
        connection: RayConnection,
        agents: dict[str, AgentSpec],
        suite: dict[str, str],
        retries: Retries,
        max_in_flight: int,
        videos: Videos,
    ) -> None:
        self.connection = connection
        self.ray = connection.ray
        self.agents = {name: AgentSettings.of(spec, videos) for name, spec in agents.items()}
        self.suite = suite
        self.retries = retries
        self.max_in_flight = max_in_flight
        self.videos = videos
        self._agents_json = json.dumps({n: a.model_dump(mode="json") for n, a in agents.items()})
        self._remote = self.ray.remote(num_cpus=1, max_retries=0)(run_remote_episode)
        self._jobs: list[EpisodeKey] = []
        self._pending: dict[Any, EpisodeKey] = {}
        self._draining = False

    def start(self, jobs: list[EpisodeKey]) -> None:
        """Submit the first ``max_in_flight`` jobs; the rest follow as tasks finish."""
        self._jobs = list(reversed(jobs))
        self._submit()

    def _submit(self) -> None:
        while self._jobs and not self._draining and len(self._pending) < self.max_in_flight:
            job = self._jobs.pop()
            self._pending[self._remote.remote(self._agents_json, self.suite, job, self.retries, self.videos)] = job

    def next_result(self, timeout: float) -> EpisodeResult | None:
        """The next finished episode, or None (see :class:`Scheduler`)."""
        if not self._pending:
            return None
        ready, _ = self.ray.wait(list(self._pending), num_returns=1, timeout=timeout)
        if not ready:
            return None
        job = self._pending.pop(ready[0])
        try:
            result: EpisodeResult = self.ray.get(ready[0])
        except Exception as error:  # the Ray worker died or the task failed to run
            result = error_result(job, self.agents[job.agent], self.suite, f"Ray task failed: {error}"[:2000], 1)
        self._submit()
        return result

    @property
    def in_flight(self) -> int:
        """Tasks submitted and not yet handed back."""
        return len(self._pending)

    @property
    def finished(self) -> bool:
        """Nothing pending and nothing left to submit (or draining)."""
        return not self._pending and (self._draining or not self._jobs)

    def drain(self) -> None:
        """Submit no further tasks."""
        self._draining = True

    def abandon(self) -> None:
        """Cancel the tasks in flight."""
        self._draining = True
        for ref in self._pending:
            self.ray.cancel(ref, force=True)
        self._pending.clear()

    def close(self) -> None:
        """Nothing to release: the connection belongs to the evaluation."""
