"""Denial of service: every runaway program is stopped within its limit and the episode goes on."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.worker.client import GRACE_S

TIME_LIMIT = 2.0
SCENE = {"blocks": ["red", "green"], "bowls": ["blue"]}


@pytest.fixture(scope="module")
def env() -> Iterator[CodeActEnv]:
    env = CodeActEnv(
        renderer="tiny",
        time_limit_s=TIME_LIMIT,
        memory_limit_mb=2048,
        max_output_chars=500,
        max_sim_steps=20_000,
        max_turns=1000,
    )
    env.reset(seed=0, options=SCENE)
    yield env
    env.close()


def run(env: CodeActEnv, code: str) -> tuple[dict, float]:
    start = time.perf_counter()
    _, _, _, _, info = env.step(code)
    return info, time.perf_counter() - start


def still_works(env: CodeActEnv) -> None:
    info, _ = run(env, "print(sum(range(10)))")
    assert info["error"] is None and info["stdout"] == "45\n"


DOS = [
    ("busy-loop", "while True:\n    pass", {"time"}, "TimeoutError: the code ran longer than 2 s"),
    (
        "loop-in-finally",
        "try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass",
        {"time"},
        "TimeoutError",
    ),
    (
        "bare-except-swallow",
        "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass",
        {"time"},
        "TimeoutError",
    ),
    ("huge-string", "'a' * 10**10", {"memory"}, "MemoryError"),
    ("list-append-bomb", "x = []\nwhile True:\n    x.append([0] * 10000)", {"time", "memory"}, "Error"),
    ("deep-recursion", "def f(n):\n    return f(n + 1)\nf(0)", {"recursion"}, "RecursionError"),
    ("print-forever", "while True:\n    print('x' * 1000)", {"time"}, "TimeoutError"),
    ("million-move-tos", "for i in range(10**6):\n    move_to([0.45, 0.0, 0.3])", {"time", "sim_steps"}, "Error"),
    (
        "simulation-loop",
        "while True:\n    move_to([0.4, 0.0, 0.2])\n    move_to([0.5, 0.1, 0.2])",
        {"time", "sim_steps"},
        "Error",
    ),
    ("long-integer-power", "pow(3, 10**9)", {"time"}, "TimeoutError"),
]


@pytest.mark.parametrize(("name", "code", "limits", "message"), DOS, ids=[d[0] for d in DOS])
def test_runaway_program_is_stopped_within_its_limit(
    env: CodeActEnv, name: str, code: str, limits: set[str], message: str
) -> None:
    info, elapsed = run(env, code)
    assert info["limit"] in limits, info["error"]
    assert message in info["error"]
    assert elapsed < TIME_LIMIT + GRACE_S + 3.0
    still_works(env)


def test_c_level_long_call_is_stopped_by_restarting_the_worker(env: CodeActEnv) -> None:
    run(env, "kept = 1")
    before = {k: v for k, v in env.world_state.items() if k != "bullet"}
    # One C loop of a minute or more that never checks for signals: nothing inside the worker stops it.
    info, elapsed = run(env, "sum(range(10**10))")
    assert info["limit"] == "time" and info["restarted"]
    assert "TimeoutError: the code ran longer than 2 s" in info["error"]
    assert "variables and functions from earlier actions are lost" in info["error"]
    assert elapsed < TIME_LIMIT + GRACE_S + 5.0
    assert {k: v for k, v in env.world_state.items() if k != "bullet"} == before
    lost, _ = run(env, "kept")
    assert lost["error_type"] == "NameError"
    still_works(env)


def test_printing_gigabytes_keeps_only_what_is_shown(env: CodeActEnv) -> None:
    info, _ = run(env, "print('y' * 10**8)")
    assert info["limit"] is None
    assert len(info["stdout"]) == 500
    assert info["stdout_cut"] == 10**8 + 1 - 500
    observation = env.step("print('z' * 600)")[0]["text"]
    assert "[output truncated: 101 more characters were printed but are not shown]" in observation


def test_simulation_step_cap_stops_long_motions() -> None:
    env = CodeActEnv(renderer="tiny", max_sim_steps=300)
    try:
        env.reset(seed=0, options=SCENE)
        _, _, _, _, info = env.step("pick_and_place('red block', 'blue bowl')")
        assert info["limit"] == "sim_steps"
        assert "SimulationLimitError: the code ran more than 300 simulation steps" in info["error"]
        assert info["timings"].sim_steps <= 301
        _, _, _, _, info = env.step("print(get_gripper_width() > 0)")
        assert info["stdout"] == "True\n"
    finally:
        env.close()
