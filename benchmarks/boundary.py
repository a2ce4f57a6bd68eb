"""What the process boundary costs an episode: start, reset, round trip, skill calls.

Measures through the public host API only (``CodeActEnv``), so the same script runs on
any version of the episode worker and the figures can be set side by side:

- worker start: a reset that starts the episode's processes, vs a reset of running ones;
- a trivial action's round trip (``x = x + 1``), host -> worker(s) -> host;
- a program making 1,000 ``get_object_position`` calls (whole action, host-measured), and
  one skill call from it: (that action - a trivial action) / 1,000.

python benchmarks/boundary.py [--actions 200] [--repeats 9] [--starts 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from codeact_robot.environments.codeact import CodeActEnv

CALLS = 1000
MANY_CALLS = f"for i in range({CALLS}):\n    p = get_object_position('red block')"


def timed(env: CodeActEnv, code: str) -> float:
    """Seconds one action takes, host-measured."""
    start = time.perf_counter()
    info = env.step(code)[4]
    elapsed = time.perf_counter() - start
    assert info["error"] is None, info["error"]
    return elapsed


def starts(count: int) -> tuple[list[float], list[float]]:
    """Seconds of a reset that starts the worker, and of a reset of a running one."""
    cold, warm = [], []
    for _ in range(count):
        env = CodeActEnv(task="PickPlace", renderer="tiny")
        try:
            start = time.perf_counter()
            env.reset(seed=0)
            cold.append(time.perf_counter() - start)
            for seed in range(1, 3):
                env.step("x = 1")
                start = time.perf_counter()
                env.reset(seed=seed)
                warm.append(time.perf_counter() - start)
        finally:
            env.close()
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    cold, warm = starts(args.starts)
    print(
        f"reset starting the worker: median {statistics.median(cold) * 1000:.0f} ms over {len(cold)}; "
        f"reset of a running worker: median {statistics.median(warm) * 1000:.0f} ms over {len(warm)}"
    )
    env = CodeActEnv(task="StackBlocks", renderer="tiny", max_turns=args.actions + args.repeats + 10)
    try:
        env.reset(seed=0)
        env.step("x = 0")
        trivial = np.array([timed(env, "x = x + 1") for _ in range(args.actions)]) * 1000
        print(
            f"trivial action round trip over {args.actions} actions: median {np.median(trivial):.2f} ms, "
            f"p95 {np.percentile(trivial, 95):.2f} ms (target: median <= 2 ms)"
        )
        many = np.array([timed(env, MANY_CALLS) for _ in range(args.repeats)])
        per_call = (many - np.median(trivial) / 1000) / CALLS * 1e6
        print(
            f"{CALLS} get_object_position calls in one action: median {np.median(many):.3f} s "
            f"(target <= 0.2 s); one call {np.median(per_call):.0f} us median of {args.repeats} "
            "(target <= 100 us)"
        )
    finally:
        env.close()


if __name__ == "__main__":
    main()
