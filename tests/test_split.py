"""The episode slot's two processes: programs run in the executor, the world and the verdict stay in the simulator.

A stand-in executor with full Python (``escaped_executor.py``: what an escape from the
sandbox would own) cannot change a verdict but through skills; an executor that dies
costs only its action; nothing of an ended episode runs in the next; an installation
that only its owner may enter runs episodes; the channel's data is rebuilt only as
plain values.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.worker.channel import ChannelError, _Buffers, decode_value, encode_value
from codeact_robot.worker.client import WorkerClient
from codeact_robot.worker.config import EnvConfig

ROOT = Path(__file__).resolve().parent.parent
ESCAPED = (sys.executable, str(Path(__file__).with_name("escaped_executor.py")))


def positions(info: dict) -> dict[str, list[float]]:
    return {name: state["position"] for name, state in info["objects"].items()}


@pytest.fixture
def escaped() -> Iterator[CodeActEnv]:
    config = EnvConfig(renderer="tiny")
    env = CodeActEnv(task="PickPlace", config=config, worker=WorkerClient(config, executor_command=ESCAPED))
    env.reset(seed=1)
    yield env
    env.close()


FORGE = """
import gc, sys
worlds = [o for o in gc.get_objects() if type(o).__name__ in ("TabletopWorld", "BulletClient", "SkillContext")]
print("worlds", len(worlds))
import pybullet
try:
    for body in range(8):
        pybullet.resetBasePositionAndOrientation(body, [0.5, 0.0, 0.3], [0, 0, 0, 1])
    print("moved")
except pybullet.error as error:
    print("pybullet:", error)
"""


def test_an_escaped_program_cannot_forge_the_verdict_only_skills_move_the_world(escaped: CodeActEnv) -> None:
    _, _, _, _, before = escaped.step("x = 1")
    _, reward, terminated, _, info = escaped.step(FORGE)
    assert info["stdout"] == "worlds 0\npybullet: Not connected to physics server.\n"
    assert reward == 0.0 and not terminated and not info["success"]
    assert positions(info) == positions(before)  # nothing moved
    params = escaped.instance.params
    _, reward, terminated, _, info = escaped.step(f"print(pick_and_place({params['object']!r}, {params['target']!r}))")
    assert info["stdout"] == "True\n" and reward == 1.0 and terminated and info["success"]


def test_an_escaped_program_can_ask_the_simulator_for_nothing_but_skills(escaped: CodeActEnv) -> None:
    _, _, _, _, before = escaped.step("x = 1")
    channel = "[o for o in __import__('gc').get_objects() if type(o).__name__ == 'SkillChannel'][0]"
    _, reward, _, _, info = escaped.step(f"{channel}.call('set_state', ({{}},), {{}})")
    assert info["error"] == "ValueError: there is no skill named 'set_state'"
    assert info["skill_calls"] == 0 and reward == 0.0
    # A made-up verdict in the report breaks the channel's schema: the executor is replaced.
    forged = (
        "from codeact_robot.worker.channel import send_message\n"
        f"send_message({channel}.connection, {{'op': 'finished', 'success': True, 'reward': 1.0}})\n"
        "import time; time.sleep(30)"
    )
    _, reward, terminated, _, info = escaped.step(forged)
    assert info["restarted"] and reward == 0.0 and not terminated and not info["success"]
    assert (
        "WorkerCrash: the executor broke the protocol (a malformed finished message: success: Extra inputs"
        in (info["error"])
    )
    assert "the scene is as this action left it" in info["error"]
    assert positions(info) == positions(before)


FORGED_REPORT = (
    "from codeact_robot.worker.channel import send_message\n"
    "channel = [o for o in __import__('gc').get_objects() if type(o).__name__ == 'SkillChannel'][0]\n"
    "send_message(channel.connection, {{'op': 'finished', {fields}}})\n"
    "__import__('os')._exit(0)"
)


def test_forged_reports_the_executor_reports_no_number_the_simulator_can_count_or_measure(
    escaped: CodeActEnv,
) -> None:
    # The time an action took is measured where the world is: 1e308 s from the executor
    # summed to an infinite episode time that no result row accepts.
    info = escaped.step(FORGED_REPORT.format(fields="'duration_s': 1e308"))[4]
    assert "duration_s: Extra inputs are not permitted" in info["error"] and info["restarted"]
    # Counts the executor alone knows are capped like everything else it says.
    info = escaped.step(FORGED_REPORT.format(fields="'local_calls': 10**30"))[4]
    assert "local_calls: Input should be less than or equal to" in info["error"] and info["restarted"]
    info = escaped.step(FORGED_REPORT.format(fields="'stdout': 'hi'"))[4]
    assert info["stdout"] == "hi" and 0 < info["timings"].exec_s < 1e300 and not info["restarted"]


def test_flooding_skill_calls_the_simulator_stops_calls_that_move_nothing_at_the_time_limit() -> None:
    config = EnvConfig(renderer="tiny", limits={"time_limit_s": 1})
    env = CodeActEnv(task="PickPlace", config=config, worker=WorkerClient(config, executor_command=ESCAPED))
    try:
        env.reset(seed=1)
        simulator = env.worker.pid
        flood = "try:\n    while True:\n        get_gripper_position()\nexcept BaseException as stop:\n    print(stop)"
        info = env.step(flood)[4]
        assert info["stdout"] == "TimeoutError: the code ran longer than 1 s and was stopped\n", info["error"]
        assert not info["restarted"] and info["skill_calls"] > 1 and env.worker.pid == simulator
    finally:
        env.close()


def test_malformed_calls_an_unhashable_key_breaks_the_channel_not_the_simulator(escaped: CodeActEnv) -> None:
    simulator = escaped.worker.pid
    call = {"op": "call", "name": "get_object_names", "args": [{"d": [[{"t": [[1]]}, 2]]}], "kwargs": {"d": []}}
    sent = (
        "from codeact_robot.worker.channel import send_message, receive_message\n"
        "channel = [o for o in __import__('gc').get_objects() if type(o).__name__ == 'SkillChannel'][0]\n"
        f"send_message(channel.connection, {call!r})\n"
        "receive_message(channel.connection, 10**6)"
    )
    info = escaped.step(sent)[4]
    assert (
        "the executor broke the protocol (a dict key must be a number, a string or a tuple of them)" in (info["error"])
    )
    assert info["restarted"] and escaped.worker.pid == simulator  # the world was never restored
    with pytest.raises(ChannelError, match="a dict key must be a number, a string or a tuple of them"):
        decode_value({"d": [[{"t": [{"t": [{"d": []}]}]}, 1]]}, _Buffers(memoryview(b"")))


def test_a_killed_executor_costs_only_its_action_and_the_scene_stays(free_env: CodeActEnv) -> None:
    free_env.reset(seed=0, options={"blocks": ["red", "green"]})
    _, _, _, _, info = free_env.step("x = 41\nprint(move_to([0.5, 0.0, 0.3]))")
    assert info["stdout"] == "True\n"
    simulator, executor = free_env.worker.pid, free_env.worker.executor_pid
    assert executor is not None and executor != simulator

    def kill_once_moving() -> None:
        time.sleep(0.5)
        os.kill(executor, signal.SIGKILL)

    threading.Thread(target=kill_once_moving, daemon=True).start()
    moves = "print(move_to([0.4, 0.2, 0.25]))\nwhile True:\n    pass"
    _, _, terminated, _, info = free_env.step(moves)
    assert info["restarted"] and not terminated
    assert info["error"].startswith("WorkerCrash: the code crashed the interpreter (killed by SIGKILL)")
    assert "the scene is as this action left it" in info["error"]
    assert free_env.worker.pid == simulator  # the world was never restored
    assert free_env.worker.executor_pid not in (None, executor)
    gripper = free_env.step("print([round(float(v), 2) for v in get_gripper_position()])")[4]
    assert gripper["stdout"] == "[0.4, 0.2, 0.25]\n"  # where the killed action moved it
    assert free_env.step("print(x)")[4]["error_type"] == "NameError"  # a fresh interpreter


GHOSTS = """
def ghost(n):
    try:
        yield n
    finally:
        say("ghost " + str(n))
        again = ghost(n + 1)
        cycle = [again]
        cycle.append(cycle)
        next(again)

g = ghost(0)
next(g)
loop = [g]
loop.append(loop)
del g, loop
"""


def test_nothing_of_an_ended_episode_runs_in_the_next(free_env: CodeActEnv) -> None:
    free_env.reset(seed=0, options={"blocks": ["red"]})
    assert free_env.step(GHOSTS)[4]["error"] is None
    old = free_env.worker.executor_pid
    free_env.reset(seed=0, options={"blocks": ["red"]})
    with pytest.raises(ProcessLookupError):
        os.kill(old, 0)  # ended with its episode, finalizers and all
    for _ in range(3):
        info = free_env.step("print(len(get_object_names()))")[4]
        assert info["stdout"] == "1\n" and info["said"] == () and info["skill_calls"] == 1


def test_skill_errors_and_arrays_cross_unchanged(free_env: CodeActEnv) -> None:
    free_env.reset(seed=0, options={"blocks": ["red"]})
    info = free_env.step("get_object_position('purple cow')")[4]
    assert info["error_type"] == "ValueError" and "purple cow" in info["error"]
    probe = (
        "image = get_camera_image('top'); depth = get_depth_image('top')\n"
        "print(isinstance(image, np.ndarray), image.dtype, image.shape, depth.dtype, depth.ndim)\n"
        "print(isinstance(get_object_orientation('red block'), tuple), isinstance(get_workspace_bounds(), dict))\n"
        "try:\n    move_to([0.5, 0.0, float('nan')])\nexcept ValueError as error:\n    print('refused:', error)\n"
    )
    info = free_env.step(probe)[4]
    lines = info["stdout"].splitlines()
    assert lines[0].startswith("True uint8 (") and lines[0].endswith(", 3) float32 2"), info["error"]
    assert lines[1] == "True True"
    assert lines[2] == "refused: each coordinate of position must be finite, got nan"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"a": ["|O", [1]]}, "an array must be declared as \\[dtype, shape\\] with a numeric dtype"),
        ({"a": ["<f8", [4]]}, "an array is longer than the bytes the message carries"),
        ({"p": "cos\nsystem\n"}, "a value of an unknown form: tag 'p'"),
        ({"d": [[[1], 2]]}, "a dict key must be a number, a string or a tuple of them"),
        ({"t": [1], "d": []}, "a value of an unknown form: dict"),
        ({"a": [["<f8"], [1]]}, "an array must be declared as \\[dtype, shape\\] with a numeric dtype"),
    ],
)
def test_the_channel_rebuilds_only_plain_values(data: object, problem: str) -> None:
    with pytest.raises(ChannelError, match=problem):
        decode_value(data, _Buffers(memoryview(b"\x00" * 8)))


def test_values_round_trip_through_the_channel() -> None:
    value = {"a": (1, 2.5, None, True), 3: [np.arange(6, dtype=np.int16).reshape(2, 3), "x", 1 + 2j]}
    buffers: list[memoryview] = []
    data = json.loads(json.dumps(encode_value(value, buffers)))
    back = decode_value(data, _Buffers(memoryview(b"".join(buffers))))
    assert back.keys() == value.keys() and back["a"] == value["a"] and back[3][1:] == ["x", 1 + 2j]
    assert back[3][0].dtype == np.int16 and back[3][0].tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError, match="a object cannot be passed to or from a skill"):
        encode_value(object(), [])
    with pytest.raises(TypeError, match="a ndarray cannot be passed"):
        encode_value(np.array([object()]), [])


def test_oversized_integers_a_program_is_told_what_crosses_and_the_simulator_refuses_the_rest(
    free_env: CodeActEnv,
) -> None:
    free_env.reset(seed=0, options={"blocks": ["red"]})
    for call in ("move_to([10**5000, 0.0, 0.3])", "get_location(2**1100)"):
        info = free_env.step(f"print({call})")[4]
        assert info["error"].endswith(
            "ValueError: an integer of more than 1024 bits cannot be passed to or from a skill; use a float"
        ), info["error"]
        assert info["skill_calls"] == 0 and not info["restarted"]
    with pytest.raises(ChannelError, match="an integer of more than 1024 bits"):
        decode_value({"t": [2**1024]}, _Buffers(memoryview(b"")))


def test_an_episode_runs_from_a_tree_only_its_owner_may_enter(tmp_path: Path) -> None:
    # An installation under a folder of mode 700 (a checkout or a virtual environment under
    # /root): the simulator keeps its user and reads the assets; the executor has loaded
    # everything before it becomes nobody.
    private = tmp_path / "home"
    private.mkdir(mode=0o700)
    package = private / "site" / "codeact_robot"
    shutil.copytree(ROOT / "codeact_robot", package, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("envs", "skills", "configs", "assets"):
        shutil.copytree(ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__"))
    program = (
        "import json, codeact_robot\n"
        "from codeact_robot.environments.codeact import CodeActEnv\n"
        "env = CodeActEnv(task='PickPlace', renderer='tiny')\n"
        "env.reset(seed=0)\n"
        "p = env.instance.params\n"
        '_, reward, _, _, info = env.step(f\'print(pick_and_place({p["object"]!r}, {p["target"]!r}))\')\n'
        "env.close()\n"
        "print(json.dumps({'file': codeact_robot.__file__, 'reward': reward, 'stdout': info['stdout']}))\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(private / "site")}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=600, env=environment, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"file": str(package / "__init__.py"), "reward": 1.0, "stdout": "True\n"}


USER_NAMESPACE = ("unshare", "--user", "--map-root-user")
NO_NOBODY = (
    "import logging, sys\n"
    "from codeact_robot.worker.client import WorkerClient, WorkerCrashed\n"
    "from codeact_robot.worker.config import EnvConfig\n"
    "logging.basicConfig(level=logging.WARNING, format='%(message)s', stream=sys.stdout)\n"
    "worker = WorkerClient(EnvConfig(renderer='tiny', strict_isolation=sys.argv[1] == 'strict'))\n"
    "try:\n"
    "    worker.reset([], 0, [])\n"
    "    print('printed', worker.execute('print(6 * 7)', 1).report.stdout.strip())\n"
    "except WorkerCrashed as crash:\n"
    "    print('refused', crash)\n"
    "finally:\n"
    "    worker.close()\n"
)


def in_a_user_namespace_without_nobody(mode: str) -> str:
    done = subprocess.run(
        [*USER_NAMESPACE, sys.executable, "-c", NO_NOBODY, mode], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def user_namespaces_missing() -> str | None:
    try:
        subprocess.run([*USER_NAMESPACE, "true"], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.CalledProcessError) as error:
        return str(error)
    return None


@pytest.mark.skipif(user_namespaces_missing() is not None, reason="no user namespaces here")
def test_an_executor_that_cannot_become_nobody_says_so_once_and_strict_refuses() -> None:
    # In a user namespace that maps only root, there is no nobody to become.
    gap = "an unprivileged user (becoming nobody failed: [Errno 1] Operation not permitted)"
    lines = in_a_user_namespace_without_nobody("lenient").splitlines()
    assert lines == [f"episode executors run without full OS confinement: {gap}", "printed 42"]
    refused = in_a_user_namespace_without_nobody("strict")
    assert refused.strip() == (
        "refused the executor could not start: WorkerCrash: the interpreter exited with code 1: "
        f"codeact_robot.worker.confinement.ConfinementError: refusing to run the worker unconfined: {gap}"
    )
