"""The ``codeact-robot`` command line, run as users run it: a real process, its output and exit code.

Input that must be refused before any work goes through the same ``main`` in this process.
"""

from __future__ import annotations

import json
import os
import pty
import select
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from fake_openai_server import FakeOpenAIServer

from codeact_robot.agent.video import END_S, START_S, VIDEO_FPS
from codeact_robot.cli import build_parser, main
from codeact_robot.cli.display import number, plural
from codeact_robot.envs.tasks import TASKS, get_task

CLI = [sys.executable, "-m", "codeact_robot.cli"]
PICK_PLACE_1 = get_task("PickPlace").sample(1)


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


def cli_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess:
    """The command's entry point called in this process, for input it must refuse before any work.

    The same ``main`` as the installed command, without a Python start per case (the tests
    above and below run it as a real process).
    """
    status = main(list(args))
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), status, captured.out, captured.err)


def in_terminal(*args: str, timeout: float = 300) -> str:
    """Run the command with a pseudo-terminal as its stdin, stdout and stderr; return what it showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [*CLI, *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=Path(__file__).parent,
        env={**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"},
    )
    os.close(follower)
    shown = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(leader)
    return shown.decode(errors="replace")


def assert_usage_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_tasks_lists_one_task_per_line_name_first() -> None:
    result = cli("tasks")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[: len(TASKS)]] == list(TASKS)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_version() -> None:
    result = cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == "codeact-robot 0.1.0"


# ---------------------------------------------------------------------------------------------- help


def subcommands() -> dict[str, object]:
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices


NO_DEFAULT = {"--task", "--out", "--scene", "--config", "--llm-config", "--llm", "--engine", "--agent", "--replay"}
NO_DEFAULT |= {"--skills", "--video", "--images", "--library", "extra", "action"}


@pytest.mark.parametrize(
    "name", ["tasks", "scene", "run", "chat", "studio", "serve", "skills", "eval", "report", "view", "export"]
)
def test_every_command_explains_every_option_with_its_default_and_gives_examples(name: str) -> None:
    command = subcommands()[name]
    for action in command._actions:
        if action.dest == "help":
            continue
        option = action.option_strings[-1] if action.option_strings else action.dest
        assert action.help and len(action.help) > 10, f"{name} {option} has no help"
        takes_value = action.nargs != 0
        if takes_value and action.default is not None and not action.required:
            assert "(default: " in action.help, f"{name} {option} does not show its default"
    shown = cli(name, "--help")
    assert shown.returncode == 0
    examples = shown.stdout.split("examples:\n")[1].strip().splitlines()
    assert len(examples) >= 2
    for example in examples:
        words = shlex.split(example, comments=True)
        words = words[: next((i for i, w in enumerate(words) if w in ("|", ">", "&&")), len(words))]
        assert words[:2] == ["codeact-robot", name]
        build_parser().parse_args(words[1:])  # every example is a valid command line


def test_help_lists_every_command() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for name in subcommands():
        assert f"    {name} " in result.stdout


# ---------------------------------------------------------------------------------------------- bad input

CROWDED = json.dumps(
    {
        "blocks": ["red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown"],
        "bowls": ["red", "green", "blue", "yellow", "orange", "purple"],
    }
)
RUN_PICK = "run --task PickPlace --agent reference".split()
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
    "unknown-split": (
        "scene --task StackBlocks --colours sepia --out {tmp}".split(),
        ["--colours: invalid choice: 'sepia'", "'seen', 'unseen', 'all'"],
    ),
    "negative-seed": ("scene --task PickPlace --seed -5 --out {tmp}".split(), ["a seed is a whole number from 0 up"]),
    "seed-not-a-number": ([*RUN_PICK, "--seed", "one"], ["--seed: expected a whole number, got 'one'"]),
    "size-0x0": ([*RUN_PICK, "--size", "0x0"], ["width and height must be 16 to 2048", "got 0x0"]),
    "size-huge": ([*RUN_PICK, "--size", "100000x100000"], ["must be 16 to 2048", "100000x100000"]),
    "size-shape": ("scene --task PickPlace --size 320 --out {tmp}".split(), ["a size looks like 320x240"]),
    "scene-size-0x0": ("scene --task PickPlace --size 0x0 --out {tmp}".split(), ["width and height must be 16"]),
    "max-turns-0": ([*RUN_PICK, "--max-turns", "0"], ["--max-turns: must be 1 or more"]),
    "run-unknown-task": ("run --task Nope --agent reference".split(), ["no task named 'Nope'"]),
    "run-without-task": ("run --agent reference".split(), ["which task?", "--task NAME"]),
    "run-without-agent": (
        "run --task PickPlace --model my-model".split(),
        ["which agent?", "--agent reference", "--llm URL --model NAME", "--engine vllm", "--replay FILE"],
    ),
    "two-agents": ([*RUN_PICK, "--llm", "http://localhost:1/v1"], ["--llm: not allowed with argument --agent"]),
    "model-for-the-expert": ([*RUN_PICK, "--model", "m"], ["--model names the model behind --llm or --engine"]),
    "episode-without-replay": ([*RUN_PICK, "--episode", "1"], ["--episode N picks an episode", "--replay FILE"]),
    "missing-config": ("run --task StackBlocks --config {tmp}/missing.yaml".split(), ["does not exist"]),
    "free-scene-run": ("run --task Tabletop --agent reference".split(), ["use `chat` for the free scene"]),
    "missing-replay": ("run --replay {tmp}/missing.jsonl".split(), ["trajectory file", "does not exist"]),
    "binary-replay": ("run --replay {tmp}/binary.jsonl".split(), ["is not a trajectory file (not UTF-8 text)"]),
    "text-replay": ("run --replay {tmp}/notes.txt".split(), ["notes.txt line 1 is not a codeact-robot trajectory"]),
    "folder-replay": ("run --replay {tmp}".split(), ["is not a trajectory file"]),
    "video-under-a-file": (
        [*RUN_PICK, "--video", "{tmp}/notes.txt/demo.mp4"],
        ["cannot write the video to", "notes.txt: is a file, not a folder"],
    ),
    "video-suffix": ([*RUN_PICK, "--video", "{tmp}/demo.txt"], ["a video file must end in .mp4"]),
    "trajectory-under-a-file": (
        [*RUN_PICK, "--trajectory", "{tmp}/notes.txt/t.jsonl"],
        ["cannot write the trajectory to", "is a file, not a folder"],
    ),
    "trajectory-onto-another-file": (
        [*RUN_PICK, "--trajectory", "{tmp}/notes.txt"],
        ["notes.txt holds something other than trajectories", "give a new file name"],
    ),
    "deeply-nested-replay": ("run --replay {tmp}/deep.jsonl".split(), ["its JSON is nested too deeply"]),
    "trajectory-onto-a-pipe": ([*RUN_PICK, "--trajectory", "{tmp}/pipe"], ["pipe: it is not a regular file"]),
    "negative-episode": ("run --replay {tmp}/notes.txt --episode -1".split(), ["--episode: must be 0 or more"]),
    "trajectory-is-a-folder": ([*RUN_PICK, "--trajectory", "{tmp}"], ["it is a folder; give a file name"]),
    "images-under-a-file": ([*RUN_PICK, "--images", "{tmp}/notes.txt/images"], ["cannot write the images to"]),
    "scene-out-under-a-file": ("scene --task PickPlace --out {tmp}/notes.txt/x".split(), ["cannot write the scene"]),
    "run-server-down": (
        "run --task PickPlace --llm http://127.0.0.1:9/v1 --model m".split(),
        ["no model server answers at http://127.0.0.1:9/v1", "codeact-robot serve"],
    ),
    "chat-server-down": (
        "chat --llm http://127.0.0.1:9/v1 --model m".split(),
        ["no model server answers at http://127.0.0.1:9/v1"],
    ),
    "chat-with-the-expert": ("chat --config {tmp}/expert.yaml".split(), ["chat needs a language model", "--llm URL"]),
    "run-config-as-llm-file": (
        "run --task PickPlace --llm-config {tmp}/expert.yaml".split(),
        ["holds a run configuration (llm), not the settings of a model endpoint", "give it with --config"],
    ),
    "llm-file-as-run-config": (
        "run --task PickPlace --config {tmp}/llm.yaml".split(),
        ["holds the settings of a model endpoint", "give it with --llm-config"],
    ),
}


@pytest.mark.parametrize(("args", "fragments"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_is_one_line_and_exit_code_2_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    fragments: list[str],
) -> None:
    (tmp_path / "binary.jsonl").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "notes.txt").write_text("not a trajectory\n")
    (tmp_path / "deep.jsonl").write_text("[" * 100_000 + "]" * 100_000 + "\n")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "expert.yaml").write_text("llm: {backend: reference}\n")
    (tmp_path / "llm.yaml").write_text("backend: openai\nbase_url: http://localhost:8000/v1\nmodel: m\n")
    before = sorted(tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)  # a default output folder would land here too, and be seen
    result = cli_in_process(capsys, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert_usage_error(result, *fragments)
    assert sorted(tmp_path.rglob("*")) == before  # nothing was written


def test_bad_configuration_file_names_the_file_every_bad_field_and_a_close_match(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "task: StackBlocks\nenv:\n  perception: xray\n  max_turn: 3\n  limits:\n    time_limit_s: -1\n"
        "llm:\n  backend: gpt\n"
    )
    result = cli("run", "--config", str(config))
    assert_usage_error(
        result,
        f"invalid settings in {config}",
        "env.perception",
        "env.limits.time_limit_s",
        "llm.backend",
        "env.max_turn: unknown setting (did you mean 'max_turns'?)",
        "settings here are: perception, colours",
    )


def test_a_yaml_syntax_error_is_one_line_with_the_place(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text("task: StackBlocks\nenv: {perception: state\nagent:\n  mode: codeact\n")
    assert_usage_error(cli("run", "--config", str(config)), f"{config} is not valid YAML at line")


# ---------------------------------------------------------------------------------------------- run


def test_run_with_the_reference_agent_succeeds_and_writes_everything(tmp_path: Path) -> None:
    trajectory, video, images = tmp_path / "t.jsonl", tmp_path / "out" / "demo.mp4", tmp_path / "images"
    result = cli(
        *"run --task PickPlace --seed 1 --agent reference --renderer tiny".split(),
        *("--trajectory", str(trajectory), "--video", str(video), "--images", str(images)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PickPlace · seed 1 · agent: the scripted expert · codeact actions")
    assert "outcome: success" in result.stdout and "1 turn · " in result.stdout and "1 turns" not in result.stdout
    record = json.loads(trajectory.read_text().splitlines()[0])
    assert record["success"] and record["task"] == "PickPlace" and record["config"]["llm"]["backend"] == "reference"
    # Into a pipe, output is full width: the program's longest line is shown whole, not cut at 80 columns.
    longest = max(record["turns"][0]["code"].splitlines(), key=len)
    assert len(longest) > 100 and longest in result.stdout
    frames = iio.imread(video)
    assert len(frames) > (START_S + END_S) * VIDEO_FPS  # the first and last scene held, and the motion between
    assert f"video: {video} ({len(frames)} frames)" in result.stdout
    assert (images / "turn01_front.png").exists() and (images / "turn01_top.png").exists()


def test_replay_reproduces_the_recorded_episode_with_its_own_settings(tmp_path: Path) -> None:
    perception, size = "vision", "200x150"  # settings other than the defaults, so a replay must take them from the file
    recorded = tmp_path / "recorded.jsonl"
    for seed in (1, 2):  # two episodes in one file
        result = cli(
            *f"run --task PickPlace --seed {seed} --agent reference --renderer tiny --perception {perception}".split(),
            *("--size", size, "--trajectory", str(recorded), "--quiet"),
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout == f"PickPlace seed {seed}: success (1 turn, {result.stdout.split(', ')[1]}"
    first, second = (json.loads(line) for line in recorded.read_text().splitlines())

    replay = cli("run", "--replay", str(recorded), "--trajectory", str(tmp_path / "replay.jsonl"), "--json")
    assert replay.returncode == 0, replay.stdout + replay.stderr
    summary = json.loads(replay.stdout)
    assert summary["outcome"] == "success" and summary["seed"] == 1 and summary["backend"] == "replay"
    assert "holds 2 episodes; replaying the first (choose one with --episode 0 to 1)" in replay.stderr
    replayed = json.loads((tmp_path / "replay.jsonl").read_text())
    assert replayed["final_objects"] == first["final_objects"]  # identical, to the last bit
    assert replayed["config"]["env"] == {**first["config"]["env"]}
    assert replayed["config"]["env"]["camera_size"] == [int(v) for v in size.split("x")]
    assert replayed["config"]["env"]["perception"] == perception

    # --episode picks the second; a flag given overrides the recording, the rest stays as recorded
    again = tmp_path / "again.jsonl"
    replay = cli("run", "--replay", str(recorded), "--episode", "1", "--max-turns", "3", "--trajectory", str(again))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "holds 2 episodes" not in replay.stderr
    replayed = json.loads(again.read_text())
    assert replayed["seed"] == 2 and replayed["final_objects"] == second["final_objects"]
    assert replayed["config"]["env"]["max_turns"] == 3
    assert replayed["config"]["env"]["camera_size"] == second["config"]["env"]["camera_size"]

    assert_usage_error(
        cli("run", "--replay", str(recorded), "--episode", "5"), "holds episodes 0 to 1; there is no episode 5"
    )


def test_run_against_a_model_server_shows_the_model_and_exits_1_without_success(tmp_path: Path) -> None:
    script = [{"content": "<execute>\nprint(get_object_names())\n</execute>"}, {"content": "I cannot do it."}]
    with FakeOpenAIServer(script) as server:
        result = cli(
            *"run --task PickPlace --seed 1 --model fake-model --renderer tiny".split(),
            *("--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"PickPlace · seed 1 · agent: fake-model at {server.base_url}")
    assert "outcome: message" in result.stdout and "2 turns · " in result.stdout
    assert all(p.name in result.stdout for p in PICK_PLACE_1.placements)


def test_a_model_the_server_does_not_have_is_a_usage_error() -> None:
    with FakeOpenAIServer([], model="served-model") as server:
        result = cli("run", "--task", "PickPlace", "--llm", server.base_url, "--model", "served-modle")
    assert_usage_error(result, server.base_url, "no model named 'served-modle'", "did you mean 'served-model'")
    assert server.requests == []  # not one completion was asked for


def test_a_server_failing_mid_episode_ends_it_as_llm_error(tmp_path: Path) -> None:
    llm_config = tmp_path / "llm.yaml"
    llm_config.write_text("max_retries: 0\n")
    with FakeOpenAIServer([{"status": 500}]) as server:
        result = cli(
            *"run --task PickPlace --model fake-model --renderer tiny --llm-config".split(),
            *(str(llm_config), "--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
        )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "outcome: llm_error" in result.stdout and "answered HTTP 500" in result.stdout
    assert json.loads((tmp_path / "t.jsonl").read_text())["config"]["llm"]["max_retries"] == 0


def test_images_to_a_text_only_model_are_refused_before_the_episode(tmp_path: Path) -> None:
    with FakeOpenAIServer(images="refuse") as server:
        result = cli(
            *"run --task PickPlace --model fake-model --renderer tiny --send-images --llm".split(),
            *(server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
        )
    assert_usage_error(result, server.base_url, "MistralForCausalLM is not a multimodal model", "--send-images off")
    assert len(server.requests) == 2 and not (tmp_path / "t.jsonl").exists()  # the probe only: no episode


def test_a_server_that_loads_models_on_demand_is_let_past_the_check(tmp_path: Path) -> None:
    with FakeOpenAIServer([{"content": "I will not move."}], model="loaded-model") as server:
        result = cli(
            *"run --task PickPlace --model on-demand --renderer tiny --skip-model-check --llm".split(),
            *(server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
        )
    assert result.returncode == 1 and "outcome: message" in result.stdout
    assert [r["model"] for r in server.requests] == ["on-demand"]


def test_a_stream_error_after_http_200_ends_the_run_as_llm_error(tmp_path: Path) -> None:
    llm_config = tmp_path / "llm.yaml"
    llm_config.write_text("stream: true\n")
    error = {"message": "The engine died while generating", "type": "InternalServerError", "code": 500}
    with FakeOpenAIServer([{"content": "I will", "stream_error": error}]) as server:
        result = cli(
            *"run --task PickPlace --model fake-model --renderer tiny --llm-config".split(),
            *(str(llm_config), "--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
        )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "outcome: llm_error" in result.stdout and "The engine died while generating" in result.stdout
    assert len(server.requests) == 1


def test_unencodable_output_never_crashes_the_command(tmp_path: Path) -> None:
    script = [
        {"content": "Odd \ud800 text.\n<execute>\nprint('\\ud800', 'caf\\xe9')\n</execute>"},
        {"content": "Finished \udfff."},
    ]
    with FakeOpenAIServer(script) as server:
        result = cli(
            *"run --task PickPlace --seed 1 --model fake-model --renderer tiny".split(),
            *("--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
            env={"PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
        )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "Odd \\ufffd text." in result.stdout and "outcome:" in result.stdout
    record = json.loads((tmp_path / "t.jsonl").read_text())
    assert record["turns"][0]["code"] == "print('\\ud800', 'caf\\xe9')"
    # what the program printed reached the console (or, where the worker refuses it, the episode ended cleanly)
    assert record["outcome"] in ("message", "worker_crash") and record["outcome"] in result.stdout


def test_quiet_and_json_are_for_scripts(tmp_path: Path) -> None:
    script = [{"content": "I will not move."}, {"content": "I will not move."}]
    with FakeOpenAIServer(script) as server:
        common = [*"run --task PickPlace --seed 1 --model fake-model --renderer tiny --llm".split(), server.base_url]
        quiet = cli(*common, "--trajectory", str(tmp_path / "q.jsonl"), "--quiet")
        as_json = cli(*common, "--trajectory", str(tmp_path / "j.jsonl"), "--json")
    assert quiet.returncode == 1 and quiet.stderr == ""
    assert quiet.stdout.splitlines() == [f"PickPlace seed 1: message (1 turn, {quiet.stdout.split(', ')[1].strip()}"]
    assert as_json.returncode == 1 and as_json.stderr == "" and len(as_json.stdout.splitlines()) == 1
    summary = json.loads(as_json.stdout)
    assert summary["trajectory"] == str(tmp_path / "j.jsonl") and summary["agent"] == f"fake-model at {server.base_url}"
    assert (summary["outcome"], summary["success"], summary["turns"], summary["model"]) == (
        "message",
        False,
        1,
        "fake-model",
    )


def test_the_session_says_what_it_waits_for_in_order() -> None:
    from codeact_robot.agent import Session
    from codeact_robot.environments.codeact import CodeActEnv
    from codeact_robot.expert import ExpertBackend

    phases: list[str] = []
    env = CodeActEnv("PickPlace", renderer="tiny")
    try:
        session = Session(env, ExpertBackend(env.instance_for(1)), on_phase=phases.append)
        session.start(1)
        assert session.act() == "success"
    finally:
        env.close()
    assert phases == ["reset", "model", "code"]


def test_a_video_shows_the_first_and_last_scene_even_when_nothing_moved(tmp_path: Path) -> None:
    video = tmp_path / "nothing.mp4"
    with FakeOpenAIServer([{"content": "I will not move."}]) as server:
        result = cli(
            *"run --task PickPlace --seed 1 --model fake-model --renderer tiny --size 161x121 --json".split(),
            *("--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl"), "--video", str(video)),
        )
    summary = json.loads(result.stdout)
    frames = iio.imread(video)
    assert summary["video"] == str(video) and summary["video_frames"] == len(frames) == (START_S + END_S) * VIDEO_FPS
    assert frames.shape[2] == 4 * 161 and frames.shape[1] % 2 == 0  # drawn 4x; even sides for H.264


def test_ctrl_c_ends_the_run_and_keeps_its_turns(tmp_path: Path) -> None:
    script = [{"content": "<execute>\nprint(1)\n</execute>"}, {"content": "thinking...", "delay": 60}]
    trajectory = tmp_path / "t.jsonl"
    with FakeOpenAIServer(script) as server:
        process = subprocess.Popen(
            [*CLI, *"run --task PickPlace --model fake-model --renderer tiny --llm".split(), server.base_url]
            + ["--trajectory", str(trajectory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while len(server.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    record = json.loads(trajectory.read_text())
    assert record["outcome"] == "interrupted" and [t["code"] for t in record["turns"]] == ["print(1)"]
    assert "outcome: interrupted" in stdout


def test_ctrl_c_during_an_action_still_gives_the_video(tmp_path: Path) -> None:
    moves = "for _ in range(10):\n    move_to([0.5, 0.25, 0.3])\n    move_to([0.4, -0.25, 0.1])\n"
    video = tmp_path / "v.mp4"
    with FakeOpenAIServer([{"content": f"<execute>\n{moves}</execute>"}]) as server:
        process = subprocess.Popen(
            [
                *CLI,
                *"run --task PickPlace --model fake-model --renderer tiny --size 80x60 --llm".split(),
                server.base_url,
            ]
            + ["--trajectory", str(tmp_path / "t.jsonl"), "--video", str(video)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)  # the action (twenty motions, many seconds) is running
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    assert "could not be written" not in stdout + stderr and video.stat().st_size > 0, stdout + stderr


def test_strict_isolation_is_recorded(tmp_path: Path) -> None:
    trajectory = tmp_path / "t.jsonl"
    result = cli(*RUN_PICK, "--renderer", "tiny", "--strict-isolation", "--trajectory", str(trajectory), "--quiet")
    if result.returncode == 2:  # a kernel without Landlock or seccomp: refused, in one line
        assert_usage_error(result, "could not start")
        return
    assert result.returncode == 0, result.stderr
    assert json.loads(trajectory.read_text())["config"]["env"]["strict_isolation"] is True


def test_on_a_terminal_a_status_line_says_what_the_episode_waits_for(tmp_path: Path) -> None:
    script = [{"content": "<execute>\nprint(get_object_names())\n</execute>", "delay": 2}, {"content": "Done."}]
    with FakeOpenAIServer(script) as server:
        shown = in_terminal(
            *"run --task PickPlace --seed 1 --model fake-model --renderer tiny --llm".split(),
            *(server.base_url, "--trajectory", str(tmp_path / "t.jsonl")),
        )
    assert "turn 1/5 · the model is thinking" in shown
    assert "╭" in shown and "turn 1 · action" in shown  # panels on a terminal
    assert "outcome: message" in shown


# ---------------------------------------------------------------------------------------------- chat

CHAT_SCENE = json.dumps({"blocks": ["red"], "bowls": ["blue"], "positions": {"red block": [0.4, -0.1]}})


def chat_script() -> list[dict[str, str]]:
    return [
        {"content": "I will do it.\n<execute>\nprint(pick_and_place('red block', 'blue bowl'))\n</execute>"},
        {"content": "The red block is in the blue bowl."},
        {"content": "<execute>\nprint(get_object_position('red block')[2] < 0.05)\n</execute>"},
        {"content": "It is still there."},
    ]


def test_chat_opens_with_the_scene_follows_instructions_and_replies_once(tmp_path: Path) -> None:
    with FakeOpenAIServer(chat_script()) as server:
        result = cli(
            *("chat", "--scene", CHAT_SCENE, "--llm", server.base_url, "--images", str(tmp_path)),
            *"--model fake-model --renderer tiny".split(),
            input="put the red block in the blue bowl\nis it still there?\n\n",
        )
    assert result.returncode == 0, result.stdout + result.stderr
    opening = result.stdout.split("you>")[0]
    assert f"agent: fake-model at {server.base_url}" in opening
    assert "On the table: " in opening and "blue bowl at (" in opening and "red block at (0.40, -0.10)" in opening
    assert "an empty line, quit, Ctrl-D or Ctrl-C ends the chat" in opening
    assert result.stdout.count("The red block is in the blue bowl.") == 1
    assert "robot> The red block is in the blue bowl." in result.stdout
    assert result.stdout.count("It is still there.") == 1
    assert result.stdout.count("camera images:") == 2  # one per action; none for a reply
    assert "turn 2/" not in result.stdout and "turn 4/" not in result.stdout  # replies are not shown as turns
    assert (tmp_path / "turn01_front.png").exists() and str(tmp_path / "turn01_front.png") in result.stdout
    record = json.loads((tmp_path / "trajectory.jsonl").read_text())
    assert [t["kind"] for t in record["turns"]] == ["action", "message", "action", "message"]


def test_chat_opens_with_the_tasks_instruction(tmp_path: Path) -> None:
    with FakeOpenAIServer([]) as server:
        result = cli(
            *"chat --task PickPlace --seed 1 --model fake-model --renderer tiny --llm".split(),
            *(server.base_url, "--images", str(tmp_path)),
            input="",
        )
    assert result.returncode == 0, result.stderr
    assert f"The task: {PICK_PLACE_1.instruction}" in result.stdout
    assert all(p.name in result.stdout for p in PICK_PLACE_1.placements)
    assert "no instruction was given; nothing to save" in result.stdout


def test_ctrl_c_in_a_chat_quits_cleanly_and_writes_the_trajectory(tmp_path: Path) -> None:
    script = [*chat_script()[:2], {"content": "let me think", "delay": 60}]
    with FakeOpenAIServer(script) as server:
        process = subprocess.Popen(
            [*CLI, "chat", "--scene", CHAT_SCENE, "--llm", server.base_url, "--images", str(tmp_path)]
            + "--model fake-model --renderer tiny".split(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdin is not None
        process.stdin.write("put the red block in the blue bowl\nand now?\n")
        process.stdin.flush()
        deadline = time.monotonic() + 120
        while len(server.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and "Traceback" not in stderr, stderr
    assert "interrupted" in stdout and f"trajectory: {tmp_path / 'trajectory.jsonl'}" in stdout
    record = json.loads((tmp_path / "trajectory.jsonl").read_text())
    assert record["outcome"] == "interrupted"
    assert [m["content"] for m in record["messages"] if m["role"] == "user"][-1] == "Task: and now?"


# ---------------------------------------------------------------------------------------------- scene


def test_scene_writes_images_a_person_can_read_and_the_raw_arrays(tmp_path: Path) -> None:
    result = cli("scene", "--task", "StackBlocks", "--seed", "3", "--out", str(tmp_path), "--renderer", "tiny")
    assert result.returncode == 0, result.stderr
    assert "-0.000" not in result.stdout
    scene = json.loads((tmp_path / "scene.json").read_text())
    assert scene["instance"]["instruction"] == "stack all the blocks"
    assert set(scene["objects"]) == {p.name for p in get_task("StackBlocks").sample(3).placements}
    for camera in ("front", "top"):
        assert iio.imread(tmp_path / f"{camera}_rgb.png").shape == (240, 320, 3)
        depth = np.load(tmp_path / f"{camera}_depth.npy")
        segmentation = np.load(tmp_path / f"{camera}_segmentation.npy")
        assert depth.dtype == np.float32 and depth.shape == (240, 320) and 0.05 < depth.min() < depth.max() < 10
        assert set(np.unique(segmentation)) <= {-1, *scene["bodies"].values()}
        seen = segmentation >= 0
        depth_png = iio.imread(tmp_path / f"{camera}_depth.png")
        assert depth_png.shape == (240, 320, 3) and depth_png.dtype == np.uint8
        brightness = depth_png[seen].mean(axis=1)
        assert brightness.max() - brightness.min() > 100  # spans the colour map, not black
        near, far = depth[seen].argmin(), depth[seen].argmax()
        assert brightness[near] > brightness[far]  # near is bright
        colours = iio.imread(tmp_path / f"{camera}_segmentation.png")
        for body in np.unique(segmentation[seen]):
            body_colours = np.unique(colours[segmentation == body], axis=0)
            assert len(body_colours) == 1 and body_colours[0].max() > 150  # one bright colour per body
        distinct = {tuple(colours[segmentation == body][0]) for body in np.unique(segmentation[seen])}
        assert len(distinct) == len(np.unique(segmentation[seen]))
        assert len(scene["cameras"][camera]["intrinsics"]) == 3


# ---------------------------------------------------------------------------------------------- small parts


def test_numbers_and_counts_read_as_a_person_writes_them() -> None:
    assert [number(v) for v in (-0.001, -0.0, 0.004, -0.006, 1.5)] == ["0.00", "0.00", "0.00", "-0.01", "1.50"]
    assert number(-0.0004, 3) == "0.000" and number(-0.0005, 3) == "-0.001"
    assert [plural(n, "turn") for n in (0, 1, 2)] == ["0 turns", "1 turn", "2 turns"]


def test_a_failed_video_leaves_a_warning_not_a_crash(tmp_path: Path) -> None:
    with FakeOpenAIServer([{"content": "I will not move."}]) as server:
        result = cli(
            *"run --task PickPlace --seed 1 --model fake-model --renderer tiny --quiet".split(),
            *("--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl"), "--video", str(tmp_path / "v.mp4")),
            env={"IMAGEIO_FFMPEG_EXE": str(tmp_path / "no-such-ffmpeg")},
        )
    assert result.returncode == 1 and (tmp_path / "t.jsonl").exists() and not (tmp_path / "v.mp4").exists()
    assert result.stderr.startswith(f"warning: the video could not be written to {tmp_path / 'v.mp4'}: ")
    assert "the encoder did not start" in result.stderr


# ---------------------------------------------------------------------------------------------- serve


def test_serve_without_vllm_says_how_to_get_it() -> None:
    result = cli("serve", env={"PATH": os.path.dirname(sys.executable)})
    assert_usage_error(result, "vLLM is not installed", "pip install 'codeact-robot[vllm]'")


def test_serve_dry_run_shows_the_model_settings() -> None:
    result = cli("serve", "--dry-run", "--port", "8123")
    assert result.returncode == 0
    command = result.stdout.split()
    assert command[:3] == ["vllm", "serve", "xingyaoww/CodeActAgent-Mistral-7b-v0.1"]
    assert "--enable-prefix-caching" in command and command[command.index("--max-model-len") + 1] == "16384"
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


def test_replay_never_takes_the_places_a_recording_names(tmp_path: Path) -> None:
    library, trajectory = tmp_path / "their-library", tmp_path / "t.jsonl"
    recorded = cli(
        *"run --task PickPlace --seed 1 --agent reference --renderer tiny --quiet".split(),
        *("--skills", str(library), "--trajectory", str(trajectory)),
    )
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    shutil.rmtree(library, ignore_errors=True)
    replay = cli("run", "--replay", str(trajectory), "--quiet", "--trajectory", str(tmp_path / "replay.jsonl"))
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert f"the recording used the skill library {str(library)!r}; give --skills DIR" in replay.stderr
    assert not library.exists()  # nothing was read from or written to the folder the file named


@pytest.mark.parametrize("command", ["report", "eval"])
def test_a_closed_pipe_ends_the_command_quietly_with_the_status_sigpipe_gives(command: str, tmp_path: Path) -> None:
    from stores import synthetic_store

    folder = synthetic_store(tmp_path / "store", 30)
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: piped\ntasks: [PickPlace]\nseeds: [1]\nagents: [{name: expert, renderer: tiny}]\n")
    args = {"report": ["report", str(folder)], "eval": ["eval", "--suite", str(suite), "--out", str(tmp_path / "e")]}
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`| head`) has gone before the first line
    try:
        done = subprocess.run([*CLI, *args[command]], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, "")


def test_an_error_with_json_asked_for_is_a_json_object_on_stdout_too() -> None:
    for args, message in [
        (
            ["run", "--task", "StackBlock", "--agent", "reference"],
            "no task named 'StackBlock' (did you mean 'StackBlocks'?)",
        ),
        (["run", "--taks", "StackBlocks"], "unrecognized arguments: --taks StackBlocks (see `codeact-robot --help`)"),
    ]:
        result = cli(*args, "--json")
        assert_usage_error(result, message)
        error = json.loads(result.stdout)
        assert error["exit_status"] == 2 and error["error"].startswith(message)
