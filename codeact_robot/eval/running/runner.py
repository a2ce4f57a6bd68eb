"""Running one episode of a suite: its backend, its environment, retries, its video, and the result the store keeps.

An attempt that fails for a reason that may pass (the model server unreachable,
overloaded or timing out after the client's own retries; a worker that does not start)
is tried again after an exponential backoff; an episode that still cannot run becomes
a result with outcome ``error``, which ``eval --retry-errors`` runs again. Any other
failure of the harness also becomes ``error`` at once (trying again would fail again).
"""

from __future__ import annotations

import contextlib
import json
import re
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
from codeact_robot.agent.video import VIDEO_FPS, VideoFailed, VideoRecorder
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import get_task
from codeact_robot.eval.results.failures import INFRASTRUCTURE_ERROR, failure_kind
from codeact_robot.eval.results.rows import EpisodeFacts, EpisodeKey, EpisodeResult, TurnImage
from codeact_robot.eval.running.pool import WorkerPool
from codeact_robot.eval.running.suite import AgentSpec
from codeact_robot.files import written_whole
from codeact_robot.llm.base import Completion, LLMBackend, LLMError, Message
from codeact_robot.llm.batching import SharedEngines
from codeact_robot.llm.cache import CachedBackend, ResponseCache
from codeact_robot.llm.config import LLMConfig
from codeact_robot.worker.client import WorkerCrashed
from codeact_robot.worker.config import EnvConfig, VideoCamera
from codeact_robot.worker.task_episode import episode_instance

JPEG_QUALITY = 85
MAX_SEARCH_TEXT_CHARS = 200_000
"""The most characters of an episode's code, output and errors kept for the viewer's search."""
VIDEO_FOLDER = "videos"


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
class AgentSettings:
    """An agent's settings as its episodes use them, worked out once per evaluation.

    Attributes:
        spec: the agent as the suite gives it.
        env: its environment settings (recording poses when videos are recorded).
        llm: its model settings, ``temperature`` and ``max_tokens`` applied.
        canonical: what its records say about it (``AgentSpec.canonical``).
    """

    spec: AgentSpec
    env: EnvConfig
    llm: LLMConfig
    canonical: dict[str, Any]

    @classmethod
    def of(cls, spec: AgentSpec, videos: Videos) -> AgentSettings:
        """The settings of ``spec`` for an evaluation recording ``videos``."""
        return cls(spec, videos.env_config(spec.env_config()), spec.llm_config(), spec.canonical())


TurnListener = Callable[[EpisodeKey, TurnRecord], None]


class _TransientGuard(LLMBackend):
    """Turns a transient model failure before the first answer into :class:`TransientFailure`, which ends the attempt.

    Any other model failure stays an :class:`LLMError`, which the agent loop records as
    the episode's outcome ``llm_error`` (a failure of the model, not of the harness). So
    does a transient one once the model has answered: the episode keeps the turns it made
    (starting it again would throw them away and ask for all of them anew).
    """

    def __init__(self, inner: LLMBackend) -> None:
        self.inner = inner
        self.name = inner.name
        self.answered = False

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        try:
            completion = self.inner.complete(messages, stop)
        except LLMError as error:
            if error.transient and not self.answered:
                raise TransientFailure(str(error)) from None
            raise
        self.answered = True
        return completion

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
        video_folder: the store's folder, where kept videos are written (``videos/...``,
            see :func:`video_path`); None: a kept video comes back in the result as
            ``video_data`` (from a Ray node, for the store's writer to save).
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
        video_folder: Path | None = None,
    ) -> None:
        self.suite = suite
        self.pool = pool
        self.retries = retries
        self.cache = cache
        self.engines = engines
        self.stop = stop or threading.Event()
        self.on_turn = on_turn
        self.videos = videos or Videos()
        self.video_folder = video_folder
        self.agents = {name: AgentSettings.of(spec, self.videos) for name, spec in agents.items()}

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
                error = f"{failure}; the episode was started {attempt} time(s)"  # the requests are counted inside
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
        worker = self.pool.take(agent.env)
        try:
            env = CodeActEnv(job.task, agent.env, worker=worker, model=agent.llm.label)
            llm = self._backend(agent, env, job)
            try:
                return self._episode(job, attempt, agent, env, llm)
            finally:
                llm.close()
        finally:
            self.pool.give(worker)

    def _episode(
        self, job: EpisodeKey, attempt: int, agent: AgentSettings, env: CodeActEnv, llm: LLMBackend
    ) -> EpisodeResult:
        session = Session(
            env,
            llm,
            agent.spec.mode,
            agent.spec.images,
            record_config(self.suite, agent, job),
            prompt=agent.spec.prompt,
        )
        images: list[TurnImage] = []
        video = VideoRecorder(session) if self.videos.record != "none" else None

        def turn_done(record: TurnRecord) -> None:
            images.extend(_jpegs(record.turn, session.info.get("images", {})))
            if video is not None:
                video.turn(record)
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
            video.start()
        session.act(turn_done)
        record = session.record
        assert record is not None
        kept = self._kept_video(video, job, record.success) if video is not None else {}
        return episode_result(job, agent.llm.label, agent.env.api, record, attempt, tuple(images), **kept)

    def _kept_video(self, video: VideoRecorder, job: EpisodeKey, success: bool) -> dict[str, Any]:
        """The video of an episode that keeps one (drawn now: written, or its bytes), or why it could not be made."""
        if not self.videos.keeps(success):
            return {}  # nothing was drawn: its poses are all it cost
        try:
            if self.video_folder is None:
                return {"video_data": _mp4(video)}
            return {"video": save_video(self.video_folder, self.suite["suite_hash"], job, video.write)}
        except (VideoFailed, OSError) as failure:
            return {"video_problem": str(failure)}

    def _backend(self, agent: AgentSettings, env: CodeActEnv, job: EpisodeKey) -> LLMBackend:
        config = agent.llm
        if config.backend == "vllm" and self.engines is not None:
            backend: LLMBackend = self.engines.backend(config)
        else:
            backend = make_backend(config, env.instance_for(job.seed), agent.spec.mode, agent.env.api)
        if not config.uses_model:
            return backend
        if self.cache is not None:
            backend = CachedBackend(backend, self.cache, config, job.repeat)
        return _TransientGuard(backend)

    def _error(self, job: EpisodeKey, attempts: int, error: str, started: float) -> EpisodeResult:
        return error_result(job, self.agents[job.agent], self.suite, error, attempts, time.perf_counter() - started)


def record_config(suite: dict[str, str], agent: AgentSettings, job: EpisodeKey) -> dict[str, Any]:
    """What an episode's record says about how it was run: the suite, the agent's settings, the repeat."""
    return {**suite, "agent": agent.canonical, "repeat": job.repeat}


def error_result(
    job: EpisodeKey, agent: AgentSettings, suite: dict[str, str], error: str, attempts: int, wall_s: float = 0.0
) -> EpisodeResult:
    """The result of an episode that could not run: outcome ``error``, with what went wrong."""
    instruction = ""
    with contextlib.suppress(Exception):  # the row is written without it
        instruction = episode_instance(agent.env, get_task(job.task), job.seed).instruction
    record = EpisodeRecord(
        config=record_config(suite, agent, job),
        task=job.task,
        seed=job.seed,
        instruction=instruction,
        mode=agent.spec.mode,
        outcome=INFRASTRUCTURE_ERROR,
        error=error,
        wall_s=wall_s,
    )
    return episode_result(job, agent.llm.label, agent.env.api, record, attempts)


def episode_result(
    job: EpisodeKey,
    model: str,
    api: str,
    record: EpisodeRecord,
    attempts: int,
    images: tuple[TurnImage, ...] = (),
    video: str | None = None,
    video_data: bytes | None = None,
    video_problem: str | None = None,
) -> EpisodeResult:
    """A finished episode as the store keeps it.

    Args:
        job: which episode.
        model: who wrote its turns (``LLMConfig.label``).
        api: the API tier its programs saw.
        record: its record, ended.
        attempts: how many times it was started.
        images: the camera images after the reset and each turn.
        video, video_data, video_problem: its video (see :class:`EpisodeResult`).
    """
    totals = record.totals()
    facts = EpisodeFacts(
        agent=job.agent,
        task=job.task,
        seed=job.seed,
        repeat=job.repeat,
        split=get_task(job.task).split,
        mode=record.mode,
        api=api,
        model=model,
        outcome=record.outcome,
        success=record.success,
        failure_kind=failure_kind(record, record.outcome),
        turns=totals["turns"],
        prompt_tokens=totals["prompt_tokens"],
        completion_tokens=totals["completion_tokens"],
        llm_s=totals["llm_s"],
        exec_s=totals["exec_s"],
        sim_s=totals["sim_s"],
        wall_s=record.wall_s,
        instruction=record.instruction,
        error=record.error,
        attempts=attempts,
    )
    return EpisodeResult(
        facts, json.dumps(record.to_dict()), search_text(record), images, video, video_data, video_problem
    )


def search_text(record: EpisodeRecord) -> str:
    """Every turn's code, printed output and error, as the viewer searches them (at most ``MAX_SEARCH_TEXT_CHARS``)."""
    parts = []
    for turn in record.turns:
        parts.extend(p for p in (turn.code, turn.report.stdout, turn.report.error) if p)
    return "\n".join(parts)[:MAX_SEARCH_TEXT_CHARS]


def video_path(suite_hash: str, job: EpisodeKey) -> Path:
    """Where an episode's video goes, relative to the store's folder:
    ``videos/<suite hash>/<agent>/<task>-seed<N>-r<repeat>.mp4``."""
    name = f"{_file_name(job.task)}-seed{job.seed}-r{job.repeat}.mp4"
    return Path(VIDEO_FOLDER, _file_name(suite_hash), _file_name(job.agent), name)


def save_video(folder: Path, suite_hash: str, job: EpisodeKey, write: Callable[[Path], object]) -> str:
    """Write an episode's video beside the store; returns its path relative to ``folder``.

    Args:
        write: writes the video into the path it is given (an MP4 drawn now, or bytes made elsewhere).

    Raises:
        OSError: it could not be written (nothing is left in its place).
    """
    relative = video_path(suite_hash, job)
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    if not (folder / relative).resolve().is_relative_to(folder.resolve()):
        raise OSError(f"{folder / relative.parent} leads outside {folder} (a symbolic link?)")
    with written_whole(folder / relative) as part:  # a crash before the row is stored: the next run writes it again
        write(part)
    return relative.as_posix()


def _mp4(video: VideoRecorder) -> bytes:
    """The video drawn into a scratch file and read back (to travel in the result)."""
    with tempfile.TemporaryDirectory(prefix="codeact-video-") as folder:
        return video.write(Path(folder) / "episode.mp4").read_bytes()


def _file_name(name: str) -> str:
    """``name`` as one safe file name: letters, digits, ``_ . -`` only, never hidden or empty."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "_"


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
