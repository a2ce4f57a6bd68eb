"""What confinement adds to an episode worker's start: ``confine()`` itself, and start-to-ready
of a worker-like process with and without it, side by side.

python benchmarks/confinement.py [--repeats 10]

A worker-like process does what the episode worker does before its first program: imports,
builds the world and sandbox (``WorkerEpisode``), optionally confines itself, and lays out a
StackBlocks scene. Ready is when it reports that scene; the pairs run interleaved.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def worker_like(scratch: Path, confined: bool) -> None:
    """The child: start like a worker, confine when asked, build the first scene, report."""
    # Imported here so that the parent, which only times children, stays light.
    from codeact_robot.envs.tasks import sample_instance
    from codeact_robot.worker.config import WorkerConfig
    from codeact_robot.worker.confinement import confine, runtime_paths
    from codeact_robot.worker.episode import WorkerEpisode

    tempfile.tempdir = str(scratch)
    episode = WorkerEpisode(WorkerConfig(renderer="tiny"))
    report: dict[str, Any] = {}
    if confined:
        start = time.perf_counter()
        paths = runtime_paths()
        found = time.perf_counter()
        confinement = confine(paths, [scratch], strict=True)
        report = {
            "paths_s": found - start,
            "confine_s": time.perf_counter() - found,
            "paths": len(paths),
            "applied": str(confinement),
        }
    placements = [placement.to_dict() for placement in sample_instance("StackBlocks", 0).placements]
    episode.reset(placements, seed=0)
    print("READY " + json.dumps(report), flush=True)


def start_to_ready(confined: bool) -> tuple[float, dict[str, Any]]:
    """Seconds from starting a worker-like process to its first scene, and its report."""
    scratch = Path(tempfile.mkdtemp(prefix="confinement-bench-"))
    command = [sys.executable, __file__, "--child", "confined" if confined else "plain", str(scratch)]
    try:
        start = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
            assert child.stdout is not None
            for line in child.stdout:
                if line.startswith("READY "):
                    elapsed = time.perf_counter() - start
                    report = json.loads(line.removeprefix("READY "))
                    break
            else:
                raise RuntimeError(f"the worker-like process exited with {child.wait()} before it was ready")
        return elapsed, report
    finally:
        shutil.rmtree(scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--child", choices=["plain", "confined"], help=argparse.SUPPRESS)
    parser.add_argument("scratch", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        worker_like(args.scratch, args.child == "confined")
        return
    start_to_ready(True)  # warm the file cache for both kinds
    plain, confined, reports = [], [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        plain.append(start_to_ready(False)[0])
        elapsed, report = start_to_ready(True)
        confined.append(elapsed)
        reports.append(report)
    ms = 1000.0
    paths = statistics.median(r["paths_s"] for r in reports) * ms
    applying = statistics.median(r["confine_s"] for r in reports) * ms
    print(f"confinement at worker start, median of {args.repeats} interleaved pairs:")
    print(f"  applied: {reports[-1]['applied']}")
    print(f"  runtime_paths() {paths:6.1f} ms ({reports[-1]['paths']} read-only paths)")
    print(f"  confine()       {applying:6.1f} ms")
    plain_ms, confined_ms = statistics.median(plain) * ms, statistics.median(confined) * ms
    print(f"  start to ready, unconfined {plain_ms:7.1f} ms")
    print(f"  start to ready, confined   {confined_ms:7.1f} ms")
    print(f"  added {confined_ms - plain_ms:+.1f} ms ({confined_ms / plain_ms - 1:+.1%})")


if __name__ == "__main__":
    main()
