"""Running one episode of a suite: its backend, its environment, retries, and the row it becomes.

An attempt that fails for a reason that may pass (the model server unreachable,
overloaded or timing out after the client's own retries; a worker that does not start)
is tried again after an exponential backoff; an episode that still cannot run becomes
a row with outcome ``error``, which ``eval --retry-errors`` runs again. Any other
failure of the harness also becomes ``error`` at once (trying again would fail again).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from codeact_robot.agent.backends import make_backend
from codeact_robot.agent.session import Session
from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord
from codeact_robot.agent.video import VIDEO_FPS, EpisodeVideo, VideoFailed
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import get_task
from codeact_robot.eval.batching import SharedEngines
from codeact_robot.eval.cache import CachedBackend, ResponseCache
from codeact_robot.eval.failures import failure_kind
from codeact_robot.eval.pool import WorkerPool
from codeact_robot.eval.store import EpisodeKey, EpisodeRow, TurnImage
from codeact_robot.eval.suite import AgentSpec
from codeact_robot.llm.base import Completion, LLMBackend, LLMError, Message
from codeact_robot.worker.client import WorkerCrashed
from codeact_robot.worker.config import EnvConfig, VideoCamera

JPEG_QUALITY = 85
MAX_SEARCH_CHARS = 200_000


class TransientFailure(Exception):
    """An attempt that failed for a reason that may pass (asking again later may work)."""


class Abandoned(Exception):
    """The evaluation is stopping: the episode is given up, nothing of it is stored."""


@dataclass(frozen=True)
class Retries:
    """How often and how patiently a transiently failing episode is tried.

    Attributes:
        attempts: tries per episode, the first included.
        backoff_s: the wait after the first failed try; it doubles after each.
        max_backoff_s: the longest wait.
    """

    attempts: int = 3
    backoff_s: float = 2.0
    max_backoff_s: float = 60.0

    def wait_s(self, failed: int) -> float:
        """The wait after ``failed`` failed tries."""
        return min(self.max_backoff_s, self.backoff_s * 2 ** (failed - 1))


VideoRecord = Literal["none", "failures", "all"]


@dataclass(frozen=True)
class Videos:
    """Which episodes of an evaluation get a video, and what the videos show.

    Attributes:
        record: ``"none"``, ``"failures"`` (episodes whose check did not hold) or ``"all"``.
        camera: what the videos show (``EnvConfig.video_camera``); None: the agent's own setting.
    """

    record: VideoRecord = "none"
    camera: VideoCamera | None = None

    def env_config(self, config: EnvConfig) -> EnvConfig:
        """An agent's environment settings, recording the scene's poses for videos when videos are recorded."""
        if self.record == "none":
            return config
        overrides: dict[str, Any] = {"video_fps": VIDEO_FPS}
        if self.camera is not None:
            overrides["video_camera"] = self.camera
        return config.with_overrides(overrides, "the video options")

    def keeps(self, success: bool) -> bool:
        """Whether an episode that ended so keeps its video."""
        return self.record == "all" or (self.record == "failures" and not success)


@dataclass(frozen=True)
class EpisodeResult:
    """A finished episode, ready for the store (plain data: it crosses process boundaries).

    Attributes:
        job: which episode.
        row: the ``episodes`` row, ``suite_hash``, ``run_id`` and ``finished_at`` left
            empty for the writer to fill in (and ``video``, when it stores one).
        images: the camera images after the reset (turn 0) and after each turn.
        video: the episode's MP4 file, when it keeps a video.
        video_problem: why a video the episode should have kept could not be made.
    """

    job: EpisodeKey
    row: EpisodeRow
    images: tuple[TurnImage, ...]
    video: bytes | None = None
    video_problem: str | None = None


TurnListener = Callable[[EpisodeKey, TurnRecord], None]


class _TransientGuard(LLMBackend):
    """Turns a transient model failure into :class:`TransientFailure`, which ends the attempt.

    Any other model failure stays an :class:`LLMError`, which the agent loop records as
    the episode's outcome ``llm_error`` (a failure of the model, not of the harness).
    """

    def __init__(self, inner: LLMBackend) -> None:
        self.inner = inner
        self.name = inner.name

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        try:
            return self.inner.complete(messages, stop)
        except LLMError as error:
            if error.transient:
                raise TransientFailure(str(error)) from None
            raise

    def close(self) -> None:
        self.inner.close()


class EpisodeRunner:
    """Runs the episodes of one suite; one runner serves every thread of an evaluation.

    Args:
        agents: the suite's agents by name.
        suite: the suite's name and hash, written into every record's configuration.
        pool: where workers come from and go back to.
        retries: the retry policy for transient failures.
        cache: the response cache, or None.
        engines: the shared in-process engines (for agents with backend ``vllm``).
        stop: set when the evaluation is abandoning its episodes.
        on_turn: called (from the episode's thread) after every turn.
        videos: which episodes get a video (default: none).
    """

    def __init__(
        self,
        agents: dict[str, AgentSpec],
        suite: dict[str, str],
        pool: WorkerPool,
        retries: Retries,
        cache: ResponseCache | None = None,
        engines: SharedEngines | None = None,
        stop: threading.Event | None = None,
        on_turn: TurnListener | None = None,
        videos: Videos | None = None,
    ) -> None:
        self.agents = agents
        self.suite = suite
        self.pool = pool
        self.retries = retries
        self.cache = cache
        self.engines = engines
        self.stop = stop or threading.Event()
        self.on_turn = on_turn
        self.videos = videos or Videos()

    def run(self, job: EpisodeKey) -> EpisodeResult:
        """Run the episode, trying again after transient failures.

        Raises:
            Abandoned: the evaluation stopped while the episode ran or waited.
        """
        started = time.perf_counter()
        error = ""
        for attempt in range(1, self.retries.attempts + 1):
            try:
                return self._attempt(job, attempt)
            except TransientFailure as failure:
                error = f"{failure} (after {attempt} attempt(s))"
            except Abandoned:
                raise
            except Exception as failure:  # a failure of the harness: recorded, never raised
                return self._error(job, attempt, _describe(failure), started)
            if attempt < self.retries.attempts and self.stop.wait(self.retries.wait_s(attempt)):
                raise Abandoned()
        return self._error(job, self.retries.attempts, error, started)

    def _attempt(self, job: EpisodeKey, attempt: int) -> EpisodeResult:
        if self.stop.is_set():
            raise Abandoned()
        agent = self.agents[job.agent]
        config = self.videos.env_config(agent.env_config())
        worker = self.pool.take(config)
        try:
            model = agent.llm_config()
            env = CodeActEnv(job.task, config, worker=worker, model=model.model if model.uses_model else model.backend)
            llm = self._backend(agent, env, job)
            try:
                return self._episode(job, attempt, agent, env, llm)
            finally:
                llm.close()
        finally:
            self.pool.give(worker)

    def _episode(
        self, job: EpisodeKey, attempt: int, agent: AgentSpec, env: CodeActEnv, llm: LLMBackend
    ) -> EpisodeResult:
        session = Session(env, llm, agent.mode, agent.images, record_config(self.suite, agent, job))
        images: list[TurnImage] = []
        video = EpisodeVideo(env.config.video_size) if self.videos.record != "none" else None

        def turn_done(record: TurnRecord) -> None:
            images.extend(_jpegs(record.turn, session.info.get("images", {})))
            if video is not None and record.code is not None:
                video.turn(record.turn, session.info.get("poses", ()))
            if self.on_turn is not None:
                self.on_turn(job, record)
            if self.stop.is_set():
                raise Abandoned()

        try:
            session.start(job.seed)
        except WorkerCrashed as crash:  # the worker did not start: may pass
            raise TransientFailure(str(crash)) from None
        images.extend(_jpegs(0, session.info.get("images", {})))
        if video is not None:
            video.start(session.info["instruction"], session.info["max_turns"], session.info.get("poses", ()))
        session.act(turn_done)
        record = session.record
        assert record is not None
        kept, problem = self._kept_video(video, record, env) if video is not None else (None, None)
        return EpisodeResult(job, episode_row(job, agent, record, attempt), tuple(images), kept, problem)

    def _kept_video(
        self, video: EpisodeVideo, record: EpisodeRecord, env: CodeActEnv
    ) -> tuple[bytes | None, str | None]:
        """The MP4 of an episode that keeps its video (drawn now), or why it could not be made."""
        if not self.videos.keeps(record.success):
            return None, None  # nothing was drawn: its poses are all it cost
        video.end(record.success, record.outcome)
        handle, name = tempfile.mkstemp(prefix="codeact-video-", suffix=".mp4")
        os.close(handle)
        path = Path(name)
        try:
            return video.write(path, env.render_video).read_bytes(), None
        except (VideoFailed, OSError) as failure:
            return None, str(failure)
        finally:
            path.unlink(missing_ok=True)

    def _backend(self, agent: AgentSpec, env: CodeActEnv, job: EpisodeKey) -> LLMBackend:
        config = agent.llm_config()
        if config.backend == "vllm" and self.engines is not None:
            backend: LLMBackend = self.engines.backend(config)
        else:
            backend = make_backend(config, env.instance_for(job.seed), agent.mode)
        if not config.uses_model:
            return backend
        if self.cache is not None:
            backend = CachedBackend(backend, self.cache, config, job.repeat)
        return _TransientGuard(backend)

    def _error(self, job: EpisodeKey, attempts: int, error: str, started: float) -> EpisodeResult:
        return error_result(job, self.agents[job.agent], self.suite, error, attempts, time.perf_counter() - started)


def record_config(suite: dict[str, str], agent: AgentSpec, job: EpisodeKey) -> dict[str, Any]:
    """What an episode's record says about how it was run: the suite, the agent's settings, the repeat."""
    return {**suite, "agent": agent.canonical(), "repeat": job.repeat}


def error_result(
    job: EpisodeKey, agent: AgentSpec, suite: dict[str, str], error: str, attempts: int, wall_s: float = 0.0
) -> EpisodeResult:
    """The result of an episode that could not run: outcome ``error``, with what went wrong."""
    instruction = ""
    with contextlib.suppress(Exception):  # the row is written without it
        instruction = get_task(job.task).instance(job.seed, None, agent.env_config().colours).instruction
    record = EpisodeRecord(
        config=record_config(suite, agent, job),
        task=job.task,
        seed=job.seed,
        instruction=instruction,
        mode=agent.mode,
        outcome="error",
        error=error,
        wall_s=wall_s,
    )
    return EpisodeResult(job, episode_row(job, agent, record, attempts, error), ())


def episode_row(
    job: EpisodeKey, agent: AgentSpec, record: EpisodeRecord, attempts: int, error: str | None = None
) -> EpisodeRow:
    """The store's row for a finished episode (suite hash, run id and time left for the writer)."""
    totals = record.totals()
    config = agent.llm_config()
    outcome = "error" if error is not None else record.outcome
    return EpisodeRow(
        suite_hash="",
        run_id=0,
        agent=job.agent,
        task=job.task,
        seed=job.seed,
        repeat=job.repeat,
        split=get_task(job.task).split,
        mode=agent.mode,
        model=config.model if config.uses_model else config.backend,
        outcome=outcome,
        success=record.success,
        failure_kind=failure_kind(record, outcome),
        turns=totals["turns"],
        prompt_tokens=totals["prompt_tokens"],
        completion_tokens=totals["completion_tokens"],
        llm_s=totals["llm_s"],
        exec_s=totals["exec_s"],
        sim_s=totals["sim_s"],
        wall_s=record.wall_s,
        instruction=record.instruction,
        error=error,
        attempts=attempts,
        finished_at="",
        search_text=_search_text(record),
        record=json.dumps(record.to_dict()),
    )


def _search_text(record: EpisodeRecord) -> str:
    parts = []
    for turn in record.turns:
        parts.extend(p for p in (turn.code, turn.report.stdout, turn.report.error) if p)
    return "\n".join(parts)[:MAX_SEARCH_CHARS]


def _jpegs(turn: int, images: dict[str, np.ndarray]) -> list[TurnImage]:
    found = []
    for camera, rgb in images.items():
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            found.append(TurnImage(turn, camera, data.tobytes()))
    return found


def _describe(failure: BaseException) -> str:
    where = traceback.extract_tb(failure.__traceback__)[-1:] if failure.__traceback__ else []
    place = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return f"{type(failure).__name__}: {failure}{place}"
