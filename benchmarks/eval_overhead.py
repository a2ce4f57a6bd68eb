"""What the evaluation harness itself costs: overhead per episode, worker reuse, resume, the writer.

1. Harness overhead: the expert over the smoke suite's families, one episode at a time
   through the evaluation's episode runner; the time inside worker calls (simulation,
   rendering, the sandbox and the reply's checks: measured by the workers' gate) and in
   the model is subtracted from each episode's time in the runner; what is left is the
   harness (prompt, parsing, records, JPEG images, the row).
2. Worker reuse: a worker's first reset (start the process, import, build, confine)
   vs a reset of a running one.
3. Resume: with 1,000 episodes stored, the time from opening the store to knowing the
   episodes still to run, and from the start of the run to the first new episode stored.
4. The writer: one episode row with its images in one transaction (full sync).

    python benchmarks/eval_overhead.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.eval.results.rows import EpisodeResult
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.running.evaluation import EvalOptions, pending_jobs, run_evaluation
from codeact_robot.eval.running.pool import WorkerPool
from codeact_robot.eval.running.runner import EpisodeRunner, Retries
from codeact_robot.eval.running.suite import parse_suite


class TimingGate:
    """A worker gate that adds up the time spent inside worker calls."""

    def __init__(self) -> None:
        self.total_s = 0.0
        self._local = threading.local()

    def __enter__(self) -> None:
        self._local.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.total_s += time.perf_counter() - self._local.start


def overhead(seeds: int) -> list[Any]:
    suite = parse_suite({"name": "o", "tasks": "all", "seeds": list(range(seeds)), "agents": [{"name": "e"}]}, "o")
    gate = TimingGate()
    pool = WorkerPool(gate, max_idle=1)
    runner = EpisodeRunner(suite.agents, {"suite": "o", "suite_hash": suite.hash}, pool, Retries())
    runner.run(suite.jobs()[0])  # the worker's start is not an episode's cost
    results, shares = [], []
    for job in suite.jobs():
        gate.total_s = 0.0
        start = time.perf_counter()
        result = runner.run(job)
        wall = time.perf_counter() - start
        harness = wall - gate.total_s - result.facts.llm_s
        shares.append(harness / wall)
        results.append((job.task, wall, gate.total_s, harness))
    pool.close()
    walls = [r[1] for r in results]
    harness = [r[3] for r in results]
    print(f"## Harness overhead ({len(results)} expert episodes, one worker, warm)\n")
    print("| | median per episode |")
    print("|---|---|")
    print(f"| episode in the runner | {statistics.median(walls) * 1000:.0f} ms |")
    print(f"| inside worker calls | {statistics.median(r[2] for r in results) * 1000:.0f} ms |")
    print(f"| harness (the rest) | {statistics.median(harness) * 1000:.1f} ms |")
    share, median = 100 * sum(harness) / sum(walls), 100 * statistics.median(shares)
    print(f"| **harness share of the episode** | **{share:.2f}%** (median {median:.2f}%) |")
    print()
    return results


def reuse(repeats: int = 5) -> None:
    env = CodeActEnv("PickPlace")
    first, later = [], []
    for seed in range(repeats):
        env.close()
        start = time.perf_counter()
        env.reset(seed=seed)
        first.append(time.perf_counter() - start)
        start = time.perf_counter()
        env.reset(seed=seed + 100)
        later.append(time.perf_counter() - start)
    env.close()
    print("## Worker reuse (PickPlace reset, median of 5)\n")
    print("| | ms |")
    print("|---|---|")
    print(f"| reset with a new worker (start, import, build, confine) | {statistics.median(first) * 1000:.0f} |")
    print(f"| reset of a running worker | {statistics.median(later) * 1000:.0f} |")
    print(
        f"| **saved per episode by reuse** | **{(statistics.median(first) - statistics.median(later)) * 1000:.0f}** |"
    )
    print()


def resume_and_writer(folder: Path, example: EpisodeResult) -> None:
    suite = parse_suite(
        {"name": "big", "tasks": "all", "seeds": {"start": 0, "count": 70}, "agents": [{"name": "e"}]}, "big"
    )
    store = ResultsStore(folder, create=True)
    store.add_suite(suite.hash, suite.name, suite.definition_json(), False)
    run = store.start_run(suite.hash, {})
    writes = []
    for job in suite.jobs()[:1000]:
        stored = dataclasses.replace(
            example, facts=example.facts.model_copy(update={"task": job.task, "seed": job.seed})
        )
        start = time.perf_counter()
        store.write_episode(stored, suite.hash, run)
        writes.append(time.perf_counter() - start)
    store.close()
    size_mb = (folder / "results.sqlite").stat().st_size / 2**20
    start = time.perf_counter()
    store = ResultsStore(folder)
    todo = pending_jobs(suite, store, retry_errors=False)
    resume_s = time.perf_counter() - start
    store.close()
    assert len(todo) == len(suite.jobs()) - 1000
    start = time.perf_counter()
    run_evaluation(suite, folder, EvalOptions(workers=1, limit=1), Console(file=io.StringIO()))
    first_s = time.perf_counter() - start
    store = ResultsStore(folder)
    (new,) = store.summaries("run_id > ?", (run,))
    store.close()
    print("## Resume and the writer\n")
    print("| | figure |")
    print("|---|---|")
    what = f"resume: open a store of 1,000 episodes ({size_mb:.0f} MB) and find the {len(todo)} still to run"
    print(f"| {what} | {resume_s * 1000:.1f} ms |")
    what = "start of `run_evaluation` to the first new episode stored (a new worker's start and the episode included)"
    print(f"| {what} | {first_s:.2f} s (the episode itself: {new['wall_s']:.2f} s) |")
    what = f"write one episode with its {len(example.images)} images (one transaction, full sync), median"
    print(f"| {what} | {statistics.median(writes) * 1000:.2f} ms |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    reuse()
    suite = parse_suite({"name": "x", "tasks": ["StackBlocks"], "seeds": [0], "agents": [{"name": "e"}]}, "x")
    pool = WorkerPool(None, max_idle=1)
    example = EpisodeRunner(suite.agents, {"suite": "x", "suite_hash": suite.hash}, pool, Retries()).run(
        suite.jobs()[0]
    )
    pool.close()
    overhead(args.seeds)
    with tempfile.TemporaryDirectory(prefix="eval-bench-") as folder:
        resume_and_writer(Path(folder), example)


if __name__ == "__main__":
    main()
