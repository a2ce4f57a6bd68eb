"""What the process boundary costs an episode: start, reset, round trip, skill calls.

Measures through the public host API only (``CodeActEnv``), so the same script runs on
any version of the episode worker and the figures can be set side by side:

- worker start: a reset that starts the episode's processes, vs a reset of running ones
  (each after a pause of ``--pause`` seconds, as an episode's own length would give: a
  worker may prepare the next episode's processes meanwhile);
- a trivial action's round trip (``x = x + 1``), host -> worker(s) -> host;
- a program making 1,000 ``get_object_position`` calls (whole action, host-measured), and
  one skill call from it: (that action - a trivial action) / 1,000; and the CPU time the
  episode's processes spent per call (``/proc/PID/schedstat``), which scheduling delays on
  a loaded machine do not inflate;
- the floor under a skill call: a bare ``multiprocessing`` Connection ping-pong of a small
  message between two processes, both on one core and on two cores (``--floor``).

python benchmarks/boundary.py [--actions 200] [--repeats 9] [--starts 3] [--pause 3] [--floor]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import time
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from codeact_robot.environments.codeact import CodeActEnv

CALLS = 1000
MANY_CALLS = f"for i in range({CALLS}):\n    p = get_object_position('red block')"


def cpu_ns(env: CodeActEnv) -> int:
    """CPU nanoseconds the episode's processes (the worker; the simulator and the executor) have run."""
    pids = {env.worker.pid, getattr(env.worker, "executor_pid", None)} - {None}
    return sum(int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) for pid in pids)


def timed(env: CodeActEnv, code: str) -> float:
    """Seconds one action takes, host-measured."""
    start = time.perf_counter()
    info = env.step(code)[4]
    elapsed = time.perf_counter() - start
    assert info["error"] is None, info["error"]
    return elapsed


def starts(count: int, pause: float) -> tuple[list[float], list[float]]:
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
                time.sleep(pause)
                start = time.perf_counter()
                env.reset(seed=seed)
                warm.append(time.perf_counter() - start)
        finally:
            env.close()
    return cold, warm


def ping_pong(cores: tuple[int, int], count: int = 5000) -> tuple[float, float]:
    """Wall and CPU microseconds of one bare round trip of 120 bytes between two processes on ``cores``."""
    near, far = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {cores[1]})
        echo = Connection(far.detach())
        while message := echo.recv_bytes():
            echo.send_bytes(message)
        os._exit(0)
    os.sched_setaffinity(0, {cores[0]})
    connection = Connection(near.detach())
    pids = (os.getpid(), pid)
    cpu = sum(int(Path(f"/proc/{p}/schedstat").read_text().split()[0]) for p in pids)
    start = time.perf_counter()
    for _ in range(count):
        connection.send_bytes(b"x" * 120)
        connection.recv_bytes()
    wall = (time.perf_counter() - start) / count * 1e6
    cpu = (sum(int(Path(f"/proc/{p}/schedstat").read_text().split()[0]) for p in pids) - cpu) / count / 1000
    connection.send_bytes(b"")
    os.waitpid(pid, 0)
    os.sched_setaffinity(0, range(os.cpu_count() or 1))
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--pause", type=float, default=3.0)
    parser.add_argument("--floor", action="store_true", help="measure only the bare ping-pong")
    args = parser.parse_args()
    if args.floor:
        for cores in ((0, 0), (0, 1))[: 1 + ((os.cpu_count() or 1) > 1)]:
            wall, cpu = ping_pong(cores)
            print(f"bare round trip, processes on cores {cores}: wall {wall:.0f} us, CPU {cpu:.0f} us")
        return
    cold, warm = starts(args.starts, args.pause)
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
        many, cpu = [], []
        for _ in range(args.repeats):
            before = cpu_ns(env)
            many.append(timed(env, MANY_CALLS))
            cpu.append((cpu_ns(env) - before) / CALLS / 1000)
        many = np.array(many)
        per_call = (many - np.median(trivial) / 1000) / CALLS * 1e6
        print(
            f"{CALLS} get_object_position calls in one action: median {np.median(many):.3f} s "
            f"(target <= 0.2 s); one call {np.median(per_call):.0f} us median of {args.repeats} "
            f"(target <= 100 us), of which CPU in the episode's processes {np.median(cpu):.0f} us"
        )
    finally:
        env.close()


if __name__ == "__main__":
    main()
