"""Evaluation throughput: the expert over the smoke suite, and latency hiding with a slow model.

1. The expert over the smoke suite (15 families x 2 seeds): a serial loop over
   ``run_episode`` (one environment per family, as a user's script would do) vs
   ``eval`` with 1 worker vs ``eval`` with 2 workers, side by side.
2. A model server of 1 s latency per call (the tests' fake OpenAI server, in this
   process), episodes of 3 model turns: serial (1 in flight) vs 16 in flight vs 64 in
   flight, with the peak memory of the worker processes (memory per episode in flight).

    python benchmarks/eval_throughput.py [--serial-episodes 4] [--episodes 64] [--skip-smoke]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.eval.running.evaluation import EvalOptions, run_evaluation
from codeact_robot.eval.running.suite import load_suite
from codeact_robot.expert import ExpertBackend

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fake_openai_server import FakeOpenAIServer

CLEAN = "I will look first.\n<execute>print('looking')</execute>"


def acting(request: dict[str, Any], turns: int = 3) -> dict[str, Any]:
    """Clean actions, then a final message at turn ``turns``."""
    observed = sum(str(m["content"]).startswith("Observation:") for m in request["messages"])
    return {"content": "The task is done."} if observed >= turns - 1 else {"content": CLEAN}


class MemorySampler:
    """Peak summed resident memory of this process's episode workers (read from /proc)."""

    def __init__(self, every_s: float = 0.25) -> None:
        self.every_s = every_s
        self.peak_mb = 0.0
        self.peak_workers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            total, count = 0.0, 0
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                if b"codeact_robot.worker." not in cmdline or f"PPid:\t{os.getpid()}\n" not in status:
                    continue
                rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
                total += int(rss.split()[1]) / 1024
                count += 1
            if total > self.peak_mb:
                self.peak_mb, self.peak_workers = total, count


def timed_eval(suite_path: Path, out: Path, **options: Any) -> float:
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    status = run_evaluation(load_suite(str(suite_path)), out, EvalOptions(**options), Console(file=io.StringIO()))
    assert status == 0, f"the evaluation ended with status {status}"
    return time.perf_counter() - start


def serial_loop(suite_name: str) -> float:
    """What a user's script does: for each family an environment, for each seed ``run_episode``."""
    suite = load_suite(suite_name)
    start = time.perf_counter()
    for task in suite.tasks:
        env = CodeActEnv(task, suite.agents["expert"].env_config())
        try:
            for seed in suite.seeds:
                run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
        finally:
            env.close()
    return time.perf_counter() - start


def smoke(folder: Path) -> None:
    smoke_path = folder / "smoke.yaml"
    shutil.copy(load_suite("smoke").source, smoke_path)
    episodes = len(load_suite("smoke").jobs())
    loop = serial_loop("smoke")
    one = timed_eval(smoke_path, folder / "one", workers=1)
    two = timed_eval(smoke_path, folder / "two", workers=2)
    print(f"## The expert over the smoke suite ({episodes} episodes)\n")
    print("| | wall s | episodes/min | vs 1 worker |")
    print("|---|---|---|---|")
    for name, wall in (("serial loop over run_episode", loop), ("eval --workers 1", one), ("eval --workers 2", two)):
        print(f"| {name} | {wall:.1f} | {60 * episodes / wall:.1f} | {one / wall:.2f}x |")
    print()


def latency(folder: Path, serial_episodes: int, episodes: int) -> None:
    with FakeOpenAIServer(latency_s=1.0, respond=acting) as server:
        data = {
            "name": "latency",
            "tasks": ["PickPlace"],
            "seeds": list(range(episodes)),
            "agents": [{"name": "m", "llm": {"backend": "openai", "base_url": server.base_url, "model": "fake-model"}}],
        }
        path = folder / "latency.yaml"
        path.write_text(yaml.safe_dump(data))
        runs = []
        for label, in_flight, count in (
            ("serial (1 in flight)", 1, serial_episodes),
            ("16 in flight", 16, episodes),
            ("64 in flight", 64, episodes),
        ):
            server.max_concurrent = 0
            with MemorySampler() as memory:
                wall = timed_eval(path, folder / "latency", workers=2, max_in_flight=in_flight, limit=count)
            runs.append((label, count, wall, server.max_concurrent, memory))
    serial_per_episode = runs[0][2] / runs[0][1]
    print("## Latency hiding: a model of 1 s per call, 3 calls per episode, 2 workers\n")
    print("| | episodes | wall s | s/episode | speed-up | most calls at once | peak worker memory | per worker |")
    print("|---|---|---|---|---|---|---|---|")
    for label, count, wall, concurrent, memory in runs:
        per = memory.peak_mb / memory.peak_workers if memory.peak_workers else 0.0
        print(
            f"| {label} | {count} | {wall:.1f} | {wall / count:.2f} | {serial_per_episode / (wall / count):.1f}x "
            f"| {concurrent} | {memory.peak_mb:.0f} MB ({memory.peak_workers} workers) | {per:.0f} MB |"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serial-episodes", type=int, default=4)
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--skip-smoke", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eval-bench-") as folder:
        if not args.skip_smoke:
            smoke(Path(folder))
        latency(Path(folder), args.serial_episodes, args.episodes)


if __name__ == "__main__":
    main()
