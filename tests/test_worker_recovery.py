"""Crash recovery: a killed worker is replaced, the scene restored bit for bit, the episode goes on."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.worker.client import MAX_RESTARTS


def readable(state: dict) -> dict:
    return {key: value for key, value in state.items() if key != "bullet"}


def kill_during_next_action(env: CodeActEnv, signum: int, after_s: float = 0.4) -> None:
    """Send ``signum`` to the worker once the next action has been running for ``after_s``."""
    pid = env.worker.pid
    assert pid is not None

    def kill() -> None:
        time.sleep(after_s)
        os.kill(pid, signum)

    threading.Thread(target=kill, daemon=True).start()


@pytest.fixture
def env() -> CodeActEnv:
    env = CodeActEnv(task="PickPlace", renderer="tiny", max_turns=20)
    env.reset(seed=1)
    yield env
    env.close()


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGSEGV], ids=["SIGKILL", "SIGSEGV"])
def test_worker_killed_mid_action_is_restored_to_the_pre_action_snapshot(env: CodeActEnv, signum: int) -> None:
    _, _, _, _, info = env.step("x = 41\nmove_to([0.5, 0.0, 0.3])")
    assert info["error"] is None
    snapshot = readable(env.world_state)
    first_pid = env.worker.pid
    kill_during_next_action(env, signum, after_s=0.3)
    observation, _, terminated, truncated, info = env.step(
        "for i in range(10):\n    move_to([0.4, 0.0, 0.3])\n    move_to([0.5, 0.1, 0.2])"
    )
    assert info["restarted"] and not terminated and not truncated
    assert f"WorkerCrash: the code crashed the interpreter (killed by {signal.Signals(signum).name})" in info["error"]
    assert "the scene is as it was before this action" in observation["text"]
    assert env.worker.pid != first_pid
    assert readable(env.world_state) == snapshot  # bit for bit, robot joints, targets and every object
    _, _, _, _, info = env.step("print(x)")
    assert info["error_type"] == "NameError"  # the interpreter restarted: variables are gone
    _, reward, terminated, _, info = env.step(
        f"print(pick_and_place({env.instance.params['object']!r}, {env.instance.params['target']!r}))"
    )
    assert info["stdout"] == "True\n" and reward == 1.0 and terminated


def test_a_worker_that_keeps_dying_ends_the_episode(env: CodeActEnv) -> None:
    for attempt in range(MAX_RESTARTS + 1):
        kill_during_next_action(env, signal.SIGKILL, after_s=0.2)
        observation, _, terminated, _, info = env.step("while True:\n    move_to([0.4, 0.0, 0.3])\n    go_home()")
        if attempt < MAX_RESTARTS:
            assert info["restarted"] and not terminated
    assert terminated and info["outcome"] == "worker_crash"
    assert f"died {MAX_RESTARTS + 1} times" in observation["text"]
    env.reset(seed=2)  # a new episode gets a fresh worker
    _, _, _, _, info = env.step("print(len(get_object_names()) > 0)")
    assert info["stdout"] == "True\n"


def test_closing_twice_and_resetting_after_close_work(env: CodeActEnv) -> None:
    env.close()
    env.close()
    env.reset(seed=3)
    _, _, _, _, info = env.step("print('back')")
    assert info["stdout"] == "back\n"
