"""The host against a hostile worker: a real subprocess (``fake_worker.py``) that keeps the protocol
until the first code action and then sends garbage, a pickle, oversized, truncated, stalled or
malformed replies. The host survives each: it kills the worker, starts another, restores the
last state it holds and reports a worker crash, and it never executes anything from a reply."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.worker.client import MAX_RESTARTS, WorkerClient, WorkerCrashed
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import MAX_HEADER_BYTES

FAKE_WORKER = Path(__file__).with_name("fake_worker.py")
CONFIG = EnvConfig(camera_size=(32, 24)).with_overrides({"time_limit_s": 1.0})
BROKE = "WorkerCrash: the worker broke the protocol"

# (behaviour, what the crash report says)
HOSTILE = [
    ("garbage", f"{BROKE} (malformed reply header"),
    ("pickle", f"{BROKE} (malformed reply header"),
    ("not-an-object", f"{BROKE} (malformed reply header"),
    ("oversized-header", f"{BROKE} (a reply frame is longer than the {MAX_HEADER_BYTES} bytes allowed)"),
    ("announces-a-terabyte", f"{BROKE} (a reply frame is longer than the {MAX_HEADER_BYTES} bytes allowed)"),
    ("image-too-long", f"{BROKE} (a reply frame is longer than the 2304 bytes allowed)"),
    ("image-too-short", f"{BROKE} (an image frame has 2301 bytes; (24, 32, 3) needs 2304)"),
    ("wrong-camera", f"{BROKE} (a reply carried the cameras ['top']; expected ['front'])"),
    ("camera-twice", f"{BROKE} (a reply carried the cameras ['front', 'front']; expected ['front'])"),
    ("nan-in-the-state", f"{BROKE} (malformed reply header: 1 problem(s), first: ok.state.time_step"),
    ("a-field-the-schema-lacks", f"{BROKE} (malformed reply header: 1 problem(s), first: ok.code: Extra inputs"),
    ("said-flood", "first: ok.report.said: Tuple should have at most 100 items"),
    ("error-too-long", "first: ok.report.error: String should have at most 8000 characters"),
    ("too-many-poses", "first: ok.poses: Tuple should have at most 1800 items"),
    ("truncated-image", "WorkerCrash: the interpreter exited with code 0"),
    ("exits", "WorkerCrash: the interpreter exited with code 3"),
]


def client_for(behaviour: str, log: Path) -> WorkerClient:
    return WorkerClient(CONFIG, command=(sys.executable, str(FAKE_WORKER), behaviour, str(log)))


def requests(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (log / "requests.jsonl").read_text().splitlines()]


def test_an_honest_stand_in_is_understood(tmp_path: Path) -> None:
    client = client_for("honest", tmp_path)
    try:
        assert client.reset([], seed=0, skills=[]).state.step_count == 7
        reply = client.execute("print(1)", 1)
        assert not reply.report.restarted and reply.state.step_count == 8
        assert reply.images["front"].shape == (24, 32, 3)
    finally:
        client.close()


@pytest.mark.parametrize(("behaviour", "report"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_reply_is_a_worker_crash_and_the_scene_is_restored(
    tmp_path: Path, behaviour: str, report: str
) -> None:
    client = client_for(behaviour, tmp_path)
    try:
        snapshot = client.reset([], seed=0, skills=[]).state
        first_pid = client.pid
        reply = client.execute("print(1)", 1)
        assert reply.report.restarted and reply.report.origin == "crash" and reply.report.limit == "crash"
        assert report in reply.report.error, reply.report.error
        assert client.restarts == 1 and client.pid != first_pid and client.alive
        assert reply.state == snapshot  # what the host held before the action, sent to the new worker
        seen = requests(tmp_path)
        assert [r["verb"] for r in seen] == ["reset", "execute", "restore"]
        assert seen[2]["state"] == snapshot.model_dump(mode="json")
        assert not (tmp_path / "pwned").exists()  # nothing from the reply was ever run
    finally:
        client.close()


@pytest.mark.parametrize("behaviour", ["silent", "stalls-mid-frame"])
def test_a_worker_that_stops_answering_is_replaced(tmp_path: Path, behaviour: str) -> None:
    client = client_for(behaviour, tmp_path)
    try:
        snapshot = client.reset([], seed=0, skills=[]).state
        reply = client.execute("print(1)", 1)
        assert reply.report.restarted and reply.state == snapshot
        if behaviour == "silent":  # nothing arrived within the time limit
            assert reply.report.limit == "time" and "TimeoutError: the code ran longer than 1 s" in reply.report.error
        else:  # half a frame arrived: the watchdog ended the worker
            assert reply.report.limit == "crash" and "killed by SIGKILL" in reply.report.error
    finally:
        client.close()


def test_a_worker_that_keeps_breaking_the_protocol_ends_the_episode(tmp_path: Path) -> None:
    client = client_for("garbage", tmp_path)
    try:
        client.reset([], seed=0, skills=[])
        for _ in range(MAX_RESTARTS):
            assert client.execute("print(1)", 1).report.restarted
        with pytest.raises(WorkerCrashed, match=f"the worker died {MAX_RESTARTS + 1} times in this episode"):
            client.execute("print(1)", 1)
        assert not client.alive
    finally:
        client.close()


def test_a_worker_reporting_its_own_failure_ends_the_episode(tmp_path: Path) -> None:
    client = client_for("own-failure", tmp_path)
    try:
        client.reset([], seed=0, skills=[])
        with pytest.raises(WorkerCrashed, match="the worker failed to execute: RuntimeError: the world fell over"):
            client.execute("print(1)", 1)
        assert not client.alive  # not trusted with another request
        with pytest.raises(RuntimeError, match=r"call reset\(\) before execute\(\)"):
            client.execute("print(1)", 2)
    finally:
        client.close()


def test_stepping_after_the_restart_limit_says_the_episode_is_over() -> None:
    env = CodeActEnv(renderer="tiny", max_turns=20)
    try:
        env.reset(seed=0, options={"blocks": ["red"]})
        for _ in range(MAX_RESTARTS + 1):
            pid = env.worker.pid
            threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
            _, _, terminated, _, info = env.step("while True:\n    move_to([0.4, 0.0, 0.3])\n    go_home()")
        assert terminated and info["outcome"] == "worker_crash"
        with pytest.raises(RuntimeError, match="no episode is running .* call reset"):
            env.step("print(1)")
        env.reset(seed=0, options={"blocks": ["red"]})  # a new episode gets a fresh worker
        assert env.step("print('back')")[4]["stdout"] == "back\n"
    finally:
        env.close()
