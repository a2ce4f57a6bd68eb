"""The ``codeact-robot`` command line, run as users run it: a real process, its output and exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import imageio.v3 as iio
import pytest
from fake_openai_server import FakeOpenAIServer

from codeact_robot.envs.tasks import TASKS, get_task

CLI = [sys.executable, "-m", "codeact_robot.cli"]
PARAMS = get_task("PickPlace").sample(1).params


def cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).parent,  # run as an installed command, away from the source
    )


def assert_usage_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_tasks_lists_one_task_per_line_name_first() -> None:
    result = cli("tasks")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[: len(TASKS)]] == list(TASKS)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_scene_writes_camera_images_and_scene_json(tmp_path: Path) -> None:
    result = cli("scene", "--task", "StackBlocks", "--seed", "3", "--out", str(tmp_path), "--renderer", "tiny")
    assert result.returncode == 0, result.stderr
    scene = json.loads((tmp_path / "scene.json").read_text())
    assert scene["instance"]["instruction"] == "stack all the blocks"
    assert set(scene["objects"]) == {p.name for p in get_task("StackBlocks").sample(3).placements}
    for camera in ("front", "top"):
        assert iio.imread(tmp_path / f"{camera}_rgb.png").shape == (240, 320, 3)
        assert iio.imread(tmp_path / f"{camera}_depth_mm.png").dtype.name == "uint16"
        assert len(scene["cameras"][camera]["intrinsics"]) == 3


CROWDED = json.dumps(
    {
        "blocks": ["red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown"],
        "bowls": ["red", "green", "blue", "yellow", "orange", "purple"],
    }
)
BAD_INPUT = {
    "unknown-task": (
        "scene --task StackBlock --out {tmp}".split(),
        ["no task named 'StackBlock'", "did you mean 'StackBlocks'", "tasks are: PickPlace"],
    ),
    "unknown-colour": (
        [*"scene --task Tabletop --out {tmp} --scene".split(), '{"blocks": ["red", "purpel"]}'],
        ["no colour named 'purpel'", "colours are: red"],
    ),
    "crowded-scene": (
        [*"scene --task Tabletop --out {tmp} --scene".split(), CROWDED],
        ["does not fit on the table", "use fewer objects"],
    ),
    "unknown-split": ("scene --task StackBlocks --colours sepia --out {tmp}".split(), ["colour splits are: seen"]),
    "run-unknown-task": ("run --task Nope --agent reference".split(), ["no task named 'Nope'"]),
    "missing-config": ("run --task StackBlocks --config {tmp}/missing.yaml".split(), ["does not exist"]),
    "free-scene-run": ("run --task Tabletop --agent reference".split(), ["use `chat` for the free scene"]),
    "missing-replay": ("run --replay {tmp}/missing.jsonl".split(), ["trajectory file", "does not exist"]),
}


@pytest.mark.parametrize(("args", "fragments"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    assert_usage_error(cli(*(a.replace("{tmp}", str(tmp_path)) for a in args)), *fragments)


def test_bad_configuration_file_names_every_bad_field(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "task: StackBlocks\nenv:\n  perception: xray\n  limits:\n    time_limit_s: -1\nllm:\n  backend: gpt\n"
    )
    result = cli("run", "--config", str(config))
    assert_usage_error(result, "env.perception", "env.limits.time_limit_s", "llm.backend")


def test_run_with_the_reference_agent_succeeds_and_writes_everything(tmp_path: Path) -> None:
    trajectory, video, images = tmp_path / "t.jsonl", tmp_path / "demo.mp4", tmp_path / "images"
    result = cli(
        *"run --task PickPlace --seed 1 --agent reference --renderer tiny".split(),
        *("--trajectory", str(trajectory), "--video", str(video), "--images", str(images)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "outcome: success" in result.stdout and "pick_and_place" in result.stdout
    record = json.loads(trajectory.read_text().splitlines()[0])
    assert record["success"] and record["task"] == "PickPlace" and record["config"]["llm"]["backend"] == "reference"
    assert video.stat().st_size > 10_000
    assert (images / "turn01_front.png").exists() and (images / "turn01_top.png").exists()
    replay = cli("run", "--replay", str(trajectory), "--trajectory", str(tmp_path / "replay.jsonl"))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    replayed = json.loads((tmp_path / "replay.jsonl").read_text().splitlines()[0])
    assert replayed["final_objects"] == record["final_objects"]


def test_run_against_a_model_server_exits_1_without_success(tmp_path: Path) -> None:
    script = [{"content": "<execute>\nprint(get_object_names())\n</execute>"}, {"content": "I cannot do it."}]
    with FakeOpenAIServer(script) as server:
        result = cli(
            *"run --task PickPlace --seed 1 --model fake-model --renderer tiny".split(),
            *("--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "outcome: message" in result.stdout
    assert all(p.name in result.stdout for p in get_task("PickPlace").sample(1).placements)


def test_run_against_a_server_that_is_down_ends_cleanly(tmp_path: Path) -> None:
    result = cli(
        "run",
        "--task",
        "PickPlace",
        "--llm",
        "http://127.0.0.1:9/v1",
        "--renderer",
        "tiny",
        "--trajectory",
        str(tmp_path / "t.jsonl"),
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "outcome: llm_error" in result.stdout and "could not be reached" in result.stdout


def test_chat_follows_instructions_and_shows_images(tmp_path: Path) -> None:
    script = [
        {"content": "I will do it.\n<execute>\nprint(pick_and_place('red block', 'blue bowl'))\n</execute>"},
        {"content": "The red block is in the blue bowl."},
        {"content": "<execute>\nprint(get_object_position('red block')[2] < 0.05)\n</execute>"},
        {"content": "It is still there."},
    ]
    scene = json.dumps({"blocks": ["red"], "bowls": ["blue"]})
    with FakeOpenAIServer(script) as server:
        result = cli(
            *("chat", "--scene", scene, "--llm", server.base_url, "--images", str(tmp_path)),
            *"--model fake-model --renderer tiny".split(),
            input="put the red block in the blue bowl\nis it still there?\nquit\n",
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "robot> The red block is in the blue bowl." in result.stdout
    assert "robot> It is still there." in result.stdout
    assert (tmp_path / "turn01_front.png").exists() and (tmp_path / "trajectory.jsonl").exists()
    assert str(tmp_path / "turn01_front.png") in result.stdout


def test_serve_without_vllm_says_how_to_get_it() -> None:
    result = cli("serve", env={"PATH": os.path.dirname(sys.executable)})
    assert_usage_error(result, "vLLM is not installed", "pip install 'codeact-robot[vllm]'")


def test_serve_dry_run_shows_the_model_settings() -> None:
    result = cli("serve", "--dry-run", "--port", "8123")
    assert result.returncode == 0
    command = result.stdout.split()
    assert command[:3] == ["vllm", "serve", "xingyaoww/CodeActAgent-Mistral-7b-v0.1"]
    assert "--enable-prefix-caching" in command and command[command.index("--max-model-len") + 1] == "32768"
    assert "--chat-template" in command and command[command.index("--port") + 1] == "8123"


def test_serve_starts_vllm_waits_until_it_answers_and_prints_the_url(tmp_path: Path) -> None:
    fake_vllm = tmp_path / "vllm"  # stands in for `vllm serve`: a real OpenAI-compatible HTTP server
    server = Path(__file__).with_name("fake_openai_server.py")
    fake_vllm.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, runpy
        sys.argv = [{str(server)!r}] + sys.argv[2:]
        runpy.run_path({str(server)!r}, run_name="__main__")
        """)
    )
    fake_vllm.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(
        [*CLI, "serve", "--port", "8765", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("ready:"):
                break
        assert "ready: point runs at --llm http://127.0.0.1:8765/v1" in "".join(lines)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
