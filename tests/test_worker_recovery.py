"""Crash recovery: a killed worker is replaced, the scene restored bit for bit, the episode goes on."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.worker.client import MAX_RESTARTS, WorkerCrashed
from codeact_robot.worker.config import EnvConfig


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


ROUGH = {"grasp_slip": 0.2, "state_noise": 0.002, "variation": 0.2, "disturbance": 0.5}


def _put_back_in_bowl(crash: bool) -> tuple[dict, list[str]]:
    """A PutBackInBowl episode under imperfect physics: a first program that leaves the scene event pending, then
    programs that set it off and answer it; with ``crash``, the simulator is killed before the second program.

    Returns:
        The final world state (readable) and every observation's text.
    """
    env = CodeActEnv("PutBackInBowl", EnvConfig(renderer="tiny", max_turns=8, physics=ROUGH))
    try:
        observation, _ = env.reset(seed=3)
        bowl = env.instance.params["bowl"]
        blocks = [p.name for p in env.instance.placements if p.kind == "block"]
        texts = [observation["text"]]
        programs = [
            # a grasp (a slip's draw) that leaves the event pending
            f"x, y, _ = get_object_position({blocks[-1]!r})\nprint(pick({blocks[-1]!r}))\nprint(place([x, y]))",
            f"for b in {blocks!r}:\n    print(pick_and_place(b, {bowl!r}))",
            f"x, y, _ = get_object_position({bowl!r})\nfor b in {blocks!r}:\n    bx, by, _ = get_object_position(b)\n"
            f"    if (bx - x) ** 2 + (by - y) ** 2 > 0.05 ** 2:\n        print(pick_and_place(b, {bowl!r}))",
        ]
        for turn, program in enumerate(programs):
            if crash and turn == 1:
                assert [e["kind"] for e in env.world_state["episode"]["pending_events"]] == ["block"]
                pid = env.worker.pid
                os.kill(pid, signal.SIGKILL)  # between actions: the next one finds the simulator gone
                observation, _, _, _, info = env.step(program)  # the lost simulator is restored; nothing runs
                assert info["restarted"] and env.worker.pid != pid
                texts.append(observation["text"])
                assert [e["kind"] for e in env.world_state["episode"]["pending_events"]] == ["block"]
            observation, _, _, _, info = env.step(program)
            texts.append(observation["text"])
        return readable(env.world_state), texts
    finally:
        env.close()


def test_a_restored_episode_keeps_its_pending_scene_event_and_random_streams() -> None:
    crashed, crashed_texts = _put_back_in_bowl(crash=True)
    final, texts = _put_back_in_bowl(crash=False)
    moved = [t for t in crashed_texts if "was taken out of the" in t]
    assert len(moved) == 1  # the event survived the restore, and happened once
    assert crashed["episode"]["pending_events"] == () and crashed["episode"]["events_done"] == 1
    assert len(crashed_texts) == len(texts) + 1  # the action the crash cost
    assert [_without_turns(t) for t in crashed_texts[:2] + crashed_texts[3:]] == [_without_turns(t) for t in texts]
    assert crashed == final  # the same slips, disturbances and event as the episode that never crashed
    assert "False" in texts[1] and "an object was nudged" in texts[1]  # the first grasp slipped, then a disturbance
    assert "The episode ends: success." in texts[-1]


def _without_turns(text: str) -> str:
    """An observation's text without the turns it says are left (a crashed episode spent one more)."""
    return "\n".join(line for line in text.splitlines() if not line.endswith("turns left."))


def test_a_restore_checks_the_scene_events_its_state_carries(env: CodeActEnv) -> None:
    state = env.world_state
    event = {"when_in": env.instance.params["target"], "kind": "table", "move_to": [0.45, 0.0]}
    with pytest.raises(WorkerCrashed, match="UsageError: a scene event moves a block"):
        env.worker.restore({**state, "episode": {**state["episode"], "pending_events": [event]}})
