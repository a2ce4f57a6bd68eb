"""How fast ``codeact-robot eval`` gets going and lets go: the first model request, the exit, the overlap.

Runs ``codeact-robot eval`` as a user does (a fresh process) against the tests' fake OpenAI
server with a slow model (``--latency`` seconds per answer), 16 episodes of two model turns
each (an action, then a final message) with 16 in flight, and measures from outside:

- start -> first model request: imports, pre-flight, the store, the first worker's start;
- last episode stored -> process gone: the closing report, the workers' shutdown, exit;
- model time / wall time: how many model seconds the run overlapped per second it took.

``--tree DIR`` runs the command from another source tree (``git archive REV | tar -x -C DIR``),
so a change can be measured beside its parent in one sitting, runs alternating:

    python benchmarks/eval_start_finish.py [--latency 3] [--episodes 16] [--rounds 2] [--tree DIR ...]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fake_openai_server import FakeOpenAIServer

ACTION = "I will look first.\n<execute>print('looking')</execute>"
MAPPED = ("envs", "skills", "configs", "assets")  # the top-level folders installed as codeact_robot.*


class Clock:
    """The time of every chat request the fake server receives."""

    def __init__(self) -> None:
        self.requests: list[float] = []
        self._lock = threading.Lock()

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(time.monotonic())
        turns = sum(1 for m in request["messages"] if m["role"] == "assistant")
        return {"content": ACTION} if turns == 0 else {"content": "I have looked; that is all."}


def importable(tree: Path) -> Path:
    """A folder that imports ``tree``'s package, its top-level folders mapped in as the install maps them."""
    package = tree / "codeact_robot"
    for name in MAPPED:
        link = package / name
        if not link.exists():
            link.symlink_to(tree / name, target_is_directory=True)
    return tree


def one_run(tree: Path | None, latency: float, episodes: int, workers: int) -> dict[str, float]:
    clock = Clock()
    with tempfile.TemporaryDirectory() as scratch, FakeOpenAIServer(latency_s=latency, respond=clock.respond) as fake:
        suite = Path(scratch) / "suite.yaml"
        agent = {"name": "model", "llm": {"backend": "openai", "base_url": fake.base_url, "model": "fake-model"}}
        agent.update(renderer="tiny", max_turns=3)
        suite.write_text(yaml.safe_dump({"name": "s", "tasks": ["PickPlace"], "seeds": list(range(episodes)),
                                         "agents": [agent]}))  # fmt: skip
        out = Path(scratch) / "out"
        env = dict(os.environ)
        if tree is not None:
            env["PYTHONPATH"] = str(importable(tree))
        command = [sys.executable, "-m", "codeact_robot.cli", "eval", "--suite", str(suite), "--out", str(out)]
        command += ["--workers", str(workers), "--max-in-flight", str(episodes)]
        start = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=scratch)
        stored_at = None
        while process.poll() is None:
            if stored_at is None and _stored(out) >= episodes:
                stored_at = time.monotonic()
            time.sleep(0.02)
        end = time.monotonic()
        if process.returncode != 0:
            raise SystemExit(f"eval failed ({process.returncode}): {process.stderr.read()[-2000:]}")
        model_s = _model_seconds(out)
    stored_at = stored_at or end
    wall = stored_at - start
    return {
        "first request": clock.requests[0] - start,
        "exit after last stored": end - stored_at,
        "wall to last stored": wall,
        "model/wall": model_s / (end - start),
    }


def _stored(out: Path) -> int:
    try:
        with sqlite3.connect(f"file:{out / 'results.sqlite'}?mode=ro", uri=True, timeout=0.1) as db:
            return db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
    except sqlite3.Error:
        return 0


def _model_seconds(out: Path) -> float:
    with sqlite3.connect(f"file:{out / 'results.sqlite'}?mode=ro", uri=True) as db:
        return db.execute("SELECT SUM(llm_s) FROM episodes").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=3.0, help="seconds per model answer")
    parser.add_argument("--episodes", type=int, default=16, help="episodes, all in flight at once")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each tree, alternating")
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another source tree to run")
    args = parser.parse_args()
    trees: list[Path | None] = [*[t.resolve() for t in args.tree], None]
    figures: dict[str, list[dict[str, float]]] = {str(t or "this tree (installed)"): [] for t in trees}
    for _ in range(args.rounds):
        for tree in trees:
            figures[str(tree or "this tree (installed)")].append(
                one_run(tree, args.latency, args.episodes, args.workers)
            )
    print(f"{args.episodes} episodes x 2 model turns of {args.latency:g} s, {args.episodes} in flight, "
          f"{args.workers} workers, {os.cpu_count()} cores; median of {args.rounds} runs")  # fmt: skip
    for name, runs in figures.items():
        print(f"  {name}:")
        for key in runs[0]:
            values = [run[key] for run in runs]
            unit = "x" if key == "model/wall" else " s"
            each = ", ".join(f"{v:.2f}" for v in values)
            print(f"    {key:24s} {statistics.median(values):6.2f}{unit}   (runs: {each})")


if __name__ == "__main__":
    main()
