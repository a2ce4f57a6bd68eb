"""An evaluation run: pre-flight checks, the episodes still to run, the one writer, the ending.

The calling thread is the only writer of the results store: each finished episode is
written in one transaction as it comes back, so a run killed at any moment loses at
most the episodes in flight, and running the same command again resumes (the store's
unique key never lets an episode be written twice; what is stored is never run again,
except rows with outcome ``error`` under ``retry_errors``).

Ctrl-C (or SIGTERM) once: no new episodes start, those in flight finish and are
stored; twice: those in flight are abandoned. Either way the run is marked
``interrupted`` and nothing is half-written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from codeact_robot import __version__
from codeact_robot.errors import UsageError
from codeact_robot.eval.reports.prices import PriceTable
from codeact_robot.eval.reports.report import build_report
from codeact_robot.eval.reports.terminal import print_report
from codeact_robot.eval.results.rows import EpisodeKey, EpisodeResult
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.running.pool import WorkerPool
from codeact_robot.eval.running.preflight import prepare_folder
from codeact_robot.eval.running.progress import PLAIN_EVERY_S, Progress, say
from codeact_robot.eval.running.ray_backend import RayConnection, RayScheduler, connect
from codeact_robot.eval.running.runner import VIDEO_FOLDER, EpisodeRunner, Retries, Videos, save_video
from codeact_robot.eval.running.scheduler import LocalScheduler, Scheduler
from codeact_robot.eval.running.suite import Suite
from codeact_robot.llm.batching import SharedEngines
from codeact_robot.llm.cache import ResponseCache
from codeact_robot.llm.model_server import check_model_servers

FINISHED, SOME_ERRORS, INTERRUPTED = 0, 1, 130
POLL_S = 0.5
LLM_IN_FLIGHT_PER_WORKER = 4
MAX_ERROR_SHOWN = 300  # characters of an infrastructure error in the closing line


def default_workers() -> int:
    """The CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


Backend = Literal["local", "ray"]


@dataclass(frozen=True)
class EvalOptions:
    """How to run a suite (the command line's options).

    Attributes:
        workers: episode workers computing at once (default: the CPU cores).
        max_in_flight: episodes in flight (default: 4 x workers when an agent uses a
            model, else workers).
        backend: ``local`` (threads here) or ``ray``.
        address: the Ray cluster (``auto``, ``ray://HOST:PORT``).
        limit: run at most this many of the episodes still to run.
        retry_errors: run episodes stored with outcome ``error`` again.
        cache: answer repeated model requests from ``DIR/llm_cache.sqlite``.
        new: move a store of other suites aside and start a fresh one.
        force: add this suite's results to a store that holds other suites'.
        retries: the retry policy for transient failures.
        videos: which episodes get a video (``DIR/videos``, linked from their rows).
        progress_every_s: seconds between progress lines when stdout is not a terminal.
        skip_model_check: let models the server does not list pass the pre-flight (a
            server that loads models on demand lists only the loaded ones).
        prices: the models' token prices, for the closing report's dollars.
    """

    workers: int | None = None
    max_in_flight: int | None = None
    backend: Backend = "local"
    address: str | None = None
    limit: int | None = None
    retry_errors: bool = False
    cache: bool = False
    new: bool = False
    force: bool = False
    retries: Retries = dataclasses.field(default_factory=Retries)
    videos: Videos = dataclasses.field(default_factory=Videos)
    progress_every_s: float = PLAIN_EVERY_S
    skip_model_check: bool = False
    prices: PriceTable = dataclasses.field(default_factory=PriceTable)


def pending_jobs(suite: Suite, store: ResultsStore, retry_errors: bool) -> list[EpisodeKey]:
    """The suite's episodes not stored yet (and those stored as ``error``, when retrying them)."""
    stored = store.finished(suite.hash)
    return [job for job in suite.jobs() if job not in stored or (retry_errors and stored[job] == "error")]


def run_evaluation(
    suite: Suite,
    out: Path,
    options: EvalOptions,
    console: Console,
    engines: SharedEngines | None = None,
) -> int:
    """Run a suite into the store in ``out``; returns the exit status.

    Args:
        suite: the suite (endpoints already replaced as the command line says).
        out: the evaluation folder.
        options: how to run it.
        console: where progress and the summary go.
        engines: the in-process engines for agents with backend ``vllm`` (default: one
            vLLM engine per model, made when first needed).

    Returns:
        0 when every episode finished (success or not), 1 when some ended in an
        infrastructure error or the store could not be written, 130 when interrupted.

    Raises:
        UsageError: a pre-flight check failed (nothing has run).
    """
    workers = options.workers or default_workers()
    uses_model = any(a.llm.uses_model for a in suite.agents.values())
    max_in_flight = options.max_in_flight or (workers * LLM_IN_FLIGHT_PER_WORKER if uses_model else workers)
    if workers < 1 or max_in_flight < 1:
        raise UsageError("--workers and --max-in-flight must be at least 1")
    in_process_engine = any(a.llm.backend == "vllm" for a in suite.agents.values())
    if options.backend == "ray" and (options.cache or in_process_engine):
        raise UsageError(
            "--backend ray runs episodes on other machines: it takes neither --cache nor the in-process "
            "engine (point --llm at a vLLM server instead)"
        )
    check_model_servers(
        [a.llm_config() for a in suite.agents.values()],
        with_images=[a.llm_config() for a in suite.agents.values() if a.images],
        require_listed=not options.skip_model_check,
    )
    if engines is None and in_process_engine:
        engines = SharedEngines()
        engines.load([a.llm_config() for a in suite.agents.values() if a.llm.backend == "vllm"])
    ray = connect(options.address) if options.backend == "ray" else None
    try:
        kept = prepare_folder(out, suite, options.new, options.force)
        if kept:
            say(console, f"the earlier store of {out} is kept as {out / kept}")
        store = ResultsStore(out, create=True)
        cache = ResponseCache(out) if options.cache else None
        try:
            status = _run(suite, store, options, console, workers, max_in_flight, cache, engines, ray)
            errors = Counter(
                row["error"] or "no message"
                for row in store.summaries("suite_hash = ? AND outcome = 'error'", [suite.hash])
            )
        finally:
            if cache is not None:
                say(console, f"response cache: {cache.hits} hit(s), {cache.misses} miss(es)")
                cache.close()
            store.close()
    finally:
        if engines is not None:
            engines.close()
        if ray is not None:
            ray.close()
    if status == "interrupted":
        say(console, "interrupted: run the same command again to resume")
        return INTERRUPTED
    if status == "failed":
        return SOME_ERRORS
    if errors:
        text, count = errors.most_common(1)[0]
        say(
            console,
            f"{errors.total()} episode(s) ended in an infrastructure error (outcome error); "
            f"the most frequent ({count}): {text[:MAX_ERROR_SHOWN]}; "
            "run the same command with --retry-errors to run them again",
        )
        return SOME_ERRORS
    return FINISHED


def _run(
    suite: Suite,
    store: ResultsStore,
    options: EvalOptions,
    console: Console,
    workers: int,
    max_in_flight: int,
    cache: ResponseCache | None,
    engines: SharedEngines | None,
    ray: RayConnection | None,
) -> str:
    """Run the episodes still to run, as one recorded run; returns how it ended."""
    store.add_suite(suite.hash, suite.name, suite.definition_json(), suite.heldout)
    todo = pending_jobs(suite, store, options.retry_errors)
    jobs = todo[: options.limit] if options.limit is not None else todo
    total = len(suite.jobs())
    limited = f" (running {len(jobs)} now: --limit)" if len(jobs) < len(todo) else ""
    say(
        console,
        f"suite {suite.name} ({suite.hash}): {total} episodes, {total - len(todo)} stored, {len(todo)} to run"
        f"{limited}; {workers} worker(s), up to {max_in_flight} in flight ({options.backend})",
    )
    run_id = store.start_run(suite.hash, _settings(options, workers, max_in_flight))
    progress = Progress(console, len(jobs), list(suite.agents), options.progress_every_s)
    scheduler = _scheduler(suite, store.folder, options, workers, max_in_flight, cache, engines, ray, progress)
    status = _drive(scheduler, jobs, store, suite.hash, run_id, progress, console) if jobs else "finished"
    if options.videos.record != "none":
        _say_where_videos_are(store.folder / VIDEO_FOLDER / suite.hash, options.videos.record, console)
    with contextlib.suppress(sqlite3.OperationalError):  # a failed run may not be able to say so
        store.finish_run(run_id, status)
    print_report(build_report(store, prices=options.prices), console)
    return status


def _say_where_videos_are(folder: Path, record: str, console: Console) -> None:
    """The videos' folder, or that none was kept (no episode failed, with ``--videos failures``)."""
    if any(folder.rglob("*.mp4")):
        say(console, f"videos: {folder} (the viewer shows them)")
    else:
        say(console, f"videos: none kept{' (no episode failed)' if record == 'failures' else ''}")


def _scheduler(
    suite: Suite,
    folder: Path,
    options: EvalOptions,
    workers: int,
    max_in_flight: int,
    cache: ResponseCache | None,
    engines: SharedEngines | None,
    ray: RayConnection | None,
    progress: Progress,
) -> Scheduler:
    identity = {"suite": suite.name, "suite_hash": suite.hash}
    if ray is not None:
        return RayScheduler(ray, suite.agents, identity, options.retries, max_in_flight, options.videos)
    pool = WorkerPool(threading.BoundedSemaphore(workers), max_idle=max_in_flight)
    runner = EpisodeRunner(
        suite.agents,
        identity,
        pool,
        options.retries,
        cache=cache,
        engines=engines,
        on_turn=progress.turn,
        videos=options.videos,
        video_folder=folder,
    )
    return LocalScheduler(runner, max_in_flight)


def _drive(
    scheduler: Scheduler,
    jobs: list[EpisodeKey],
    store: ResultsStore,
    suite_hash: str,
    run_id: int,
    progress: Progress,
    console: Console,
) -> str:
    """Write finished episodes as they come; returns how the run ended."""
    status = "finished"
    try:
        with progress:
            scheduler.start(jobs)
            while not scheduler.finished:
                try:
                    result = scheduler.next_result(POLL_S)
                    if result is not None:
                        _write(store, result, suite_hash, run_id, console)
                        progress.finished(result.job.agent, result.facts.outcome, result.facts.success)
                    progress.refresh(scheduler.in_flight)
                except sqlite3.OperationalError as error:  # a full disk, a folder gone read-only
                    say(
                        console,
                        f"could not write to {store.path}: {error}; the episodes stored so far are safe, "
                        "run the same command again to resume",
                    )
                    scheduler.abandon()
                    return "failed"
                except KeyboardInterrupt:
                    if status == "interrupted":
                        scheduler.abandon()
                        break
                    status = "interrupted"
                    scheduler.drain()
                    say(
                        console,
                        f"stopping: {scheduler.in_flight} episode(s) in flight finish and are stored "
                        "(Ctrl-C again abandons them)",
                    )
    finally:
        scheduler.close()
    return status


def _write(store: ResultsStore, result: EpisodeResult, suite_hash: str, run_id: int, console: Console) -> None:
    job = result.job
    if result.video_problem:
        say(console, f"{job}: no video: {result.video_problem}")
    video = result.video
    data = result.video_data
    if data is not None:  # made on another machine: saved here, before its row
        try:
            video = save_video(store.folder, suite_hash, job, lambda part: part.write_bytes(data))
        except OSError as error:
            say(console, f"{job}: the video could not be written beside the store: {error}")
    try:
        store.write_episode(result, suite_hash, run_id, video)
    except sqlite3.IntegrityError:  # another run on the same folder stored it first
        say(console, f"{job} was already stored by another run; kept that one")


def _settings(options: EvalOptions, workers: int, max_in_flight: int) -> dict[str, object]:
    return {
        "workers": workers,
        "max_in_flight": max_in_flight,
        "backend": options.backend,
        "address": options.address,
        "limit": options.limit,
        "retry_errors": options.retry_errors,
        "cache": options.cache,
        "videos": options.videos.record,
        "video_camera": options.videos.camera,
        "host": socket.gethostname(),
        "version": __version__,
    }
