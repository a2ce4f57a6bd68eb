"""Files and settings someone hands you carry data, not policy.

A recording, a suite, a run or endpoint file, a skill library and a results store may come from anyone: what
they hold is shown on a terminal only sanitised, cannot raise a limit, cannot choose which of
the user's secrets is sent where, and exports to CSV without formulas a spreadsheet would run.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from fake_openai_server import FakeOpenAIServer
from rich.console import Console
from stores import episode_row, suite_definition, write_rows
from test_cli import CHAT_SCENE, cli, in_terminal

from codeact_robot.cli import main
from codeact_robot.eval.results.export import write_csv
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.running.progress import Progress, say
from codeact_robot.library.authoring import store_skill
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.skill import Provenance, VerifyRequest
from codeact_robot.worker.config import Limits

# What a terminal would run: a new window title (OSC 0), a clipboard write (OSC 52), a cleared
# screen (CSI 2J) and hidden text (CSI 8m).
OSC_TITLE = "\x1b]0;owned\x07"
OSC_CLIPBOARD = "\x1b]52;c;ZWNobyBvd25lZA==\x07"
CLEAR = "\x1b[2J"
HIDDEN = "\x1b[8m"
ESCAPES = (OSC_TITLE, OSC_CLIPBOARD, CLEAR, HIDDEN)
SHOWN = ("\\x1b]0;owned\\x07", "\\x1b]52;c;ZWNobyBvd25lZA==\\x07", "\\x1b[2J", "\\x1b[8m")

# --- a recording ----------------------------------------------------------------------------------

HOSTILE_TURN = (
    f"Thinking {OSC_TITLE}{HIDDEN}quietly{CLEAR}.\n<execute>\n"
    "print(chr(27) + ']52;c;ZWNobyBvd25lZA==' + chr(7) + chr(27) + '[2J' + chr(27) + '[8m' + 'out')\n"
    "big = np.zeros(10**9)\nprint(big.size)\n</execute>"
)
"""A turn whose text and whose program's output hold terminal escapes, then an 8 GB allocation."""


def hostile_recording(tmp_path: Path) -> Path:
    """A real recording of one episode, edited as someone handing it over could: escapes in the
    turn and its output, an 8 GB allocation, and limits far above anyone's own."""
    path = tmp_path / "recorded.jsonl"
    recorded = cli(
        *"run --task PickPlace --seed 1 --agent reference --renderer tiny --quiet".split(), "--trajectory", str(path)
    )
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    record = json.loads(path.read_text())
    record["config"]["env"]["limits"].update(memory_limit_mb=2_000_000, max_sim_steps=10**9, time_limit_s=3600)
    record["messages"] = [
        *[m for m in record["messages"] if m["role"] != "assistant"][:2],
        {"role": "assistant", "content": HOSTILE_TURN},
    ]
    path.write_text(json.dumps(record) + "\n")
    return path


def test_a_replay_runs_under_the_users_own_limits_and_shows_no_escape(tmp_path: Path) -> None:
    recording = hostile_recording(tmp_path)
    replayed = tmp_path / "replay.jsonl"
    result = cli("run", "--replay", str(recording), "--trajectory", str(replayed))
    assert result.returncode == 1, result.stdout + result.stderr
    record = json.loads(replayed.read_text())
    assert record["config"]["env"]["limits"] == Limits().model_dump()  # the user's own: the defaults
    defaults = Limits()
    for name, asked in (("memory_limit_mb", 2_000_000), ("max_sim_steps", 10**9), ("time_limit_s", 3600)):
        assert f"the recording asks for {name} {asked}; replaying with your own limit, {getattr(defaults, name)}" in (
            result.stderr
        )
    turn = record["turns"][0]
    assert turn["report"]["limit"] == "memory" and turn["report"]["error_type"] == "MemoryError"
    assert "the worker's limit (4096 MB)" in turn["report"]["error"]
    # nothing of the recording or of the program's output reaches the terminal raw
    shown = result.stdout + result.stderr
    assert "\x1b" not in shown and "\x07" not in shown
    assert all(text in shown for text in SHOWN), shown
    # a flag the user gives is their own setting, and it wins
    again = cli(
        *("run", "--replay", str(recording), "--time-limit", "90", "--quiet", "--trajectory", str(tmp_path / "b.jsonl"))
    )
    assert json.loads((tmp_path / "b.jsonl").read_text())["config"]["env"]["limits"]["time_limit_s"] == 90
    assert "time_limit_s" not in again.stderr and "memory_limit_mb 2000000" in again.stderr


def test_on_a_terminal_the_panels_show_escapes_as_text(tmp_path: Path) -> None:
    recording = hostile_recording(tmp_path)
    shown = in_terminal("run", "--replay", str(recording), "--trajectory", str(tmp_path / "replay.jsonl"))
    assert "Thinking" in shown and "owned" in shown
    for escape in ESCAPES:
        assert escape not in shown, repr(escape)
    assert "\\x1b]0;owned" in shown and "\\x1b[8m" in shown


def test_a_chat_shows_the_models_escapes_as_text(tmp_path: Path) -> None:
    script = [
        {"content": f"On it {OSC_TITLE}.\n<execute>\nprint(chr(27) + '[2J' + 'cleared')\n</execute>"},
        {"content": f"Done{HIDDEN} quietly{OSC_CLIPBOARD}."},
    ]
    with FakeOpenAIServer(script) as server:
        result = cli(
            *("chat", "--scene", CHAT_SCENE, "--llm", server.base_url, "--images", str(tmp_path)),
            *"--model fake-model --renderer tiny".split(),
            input="look around\n\n",
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout
    assert "On it \\x1b]0;owned\\x07." in result.stdout and "\\x1b[2Jcleared" in result.stdout
    assert "robot> Done\\x1b[8m quietly\\x1b]52;c;ZWNobyBvd25lZA==\\x07." in result.stdout


def test_an_evaluations_lines_are_sanitised_and_never_markup() -> None:
    console = Console(file=io.StringIO(), width=300)
    say(console, f"episode of [bold]agent[/bold]{OSC_TITLE}: {CLEAR}failed")
    agent = f"a{OSC_CLIPBOARD}{HIDDEN}"
    with Progress(console, total=1, agents=[agent], every_s=0.0) as progress:
        progress.finished(agent, "success", True)
    text = console.file.getvalue()
    assert "\x1b" not in text and "episode of [bold]agent[/bold]\\x1b]0;owned\\x07: \\x1b[2Jfailed" in text
    assert "a\\x1b]52;c;ZWNobyBvd25lZA==\\x07\\x1b[8m 1/1" in text


# --- secrets --------------------------------------------------------------------------------------

SECRET = "sk-very-secret-value"


def suite_file(tmp_path: Path, server: FakeOpenAIServer, **llm: str) -> Path:
    agent = {"name": "m", "renderer": "tiny", "llm": {"backend": "openai", "base_url": server.base_url, **llm}}
    path = tmp_path / "shared-suite.yaml"
    path.write_text(yaml.safe_dump({"name": "shared", "tasks": ["PickPlace"], "seeds": [0], "agents": [agent]}))
    return path


def authorizations(server: FakeOpenAIServer) -> list[str]:
    return [headers.get("authorization", "") for headers in server.model_list_headers]


def test_a_suite_cannot_choose_which_secret_eval_sends(tmp_path: Path) -> None:
    # The suite asks for a model the server does not have, so eval stops after its pre-flight.
    environment = {"ROBOT_SECRET": SECRET, "OPENAI_API_KEY": SECRET}
    with FakeOpenAIServer() as server:
        named = suite_file(tmp_path, server, model="absent", api_key_env="ROBOT_SECRET")
        refused = cli("eval", "--suite", str(named), "--out", str(tmp_path / "out"), env=environment)
        assert refused.returncode == 2 and server.model_list_headers == []
        assert (
            f"error: {named}: agents[0] (m) names the API key variable 'ROBOT_SECRET': a file cannot choose which "
            "of your secrets is sent; give --api-key-env ROBOT_SECRET to send it, or remove api_key_env from the file"
        ) == refused.stderr.strip()

        # a URL from the file: the default variable's value is not sent there either
        url_only = suite_file(tmp_path, server, model="absent")
        checked = cli("eval", "--suite", str(url_only), "--out", str(tmp_path / "out"), env=environment)
        assert checked.returncode == 2 and "has no model named 'absent'" in checked.stderr
        assert authorizations(server) == ["Bearer EMPTY"]

        # the user names the variable: then, and only then, its value is sent
        given = ("--api-key-env", "ROBOT_SECRET")
        cli("eval", "--suite", str(named), "--out", str(tmp_path / "out"), *given, env=environment)
        cli("eval", "--suite", str(url_only), "--out", str(tmp_path / "out"), *given, env=environment)
        assert authorizations(server)[1:] == [f"Bearer {SECRET}"] * 2
        # a URL the user gives on the command line gets the default variable, as before
        cli("eval", "--suite", str(url_only), "--out", str(tmp_path / "out"), "--llm", server.base_url, env=environment)
        assert authorizations(server)[3:] == [f"Bearer {SECRET}"]


def test_run_files_cannot_choose_which_secret_is_sent(tmp_path: Path) -> None:
    environment = {"ROBOT_SECRET": SECRET, "OPENAI_API_KEY": SECRET}
    with FakeOpenAIServer() as server:
        endpoint = tmp_path / "endpoint.yaml"
        endpoint.write_text(yaml.safe_dump({"backend": "openai", "base_url": server.base_url, "model": "absent"}))
        run = ("run", "--task", "PickPlace", "--trajectory", str(tmp_path / "t.jsonl"))
        checked = cli(*run, "--llm-config", str(endpoint), env=environment)
        assert checked.returncode == 2 and "has no model named 'absent'" in checked.stderr
        assert authorizations(server) == ["Bearer EMPTY"]
        config = tmp_path / "run.yaml"
        config.write_text(yaml.safe_dump({"llm": {"backend": "openai", "api_key_env": "ROBOT_SECRET"}}))
        refused = cli(*run, "--config", str(config), "--llm", server.base_url, env=environment)
        assert refused.returncode == 2 and len(server.model_list_headers) == 1
        assert f"error: {config} names the API key variable 'ROBOT_SECRET'" in refused.stderr


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_cells_never_run_as_formulas(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path, create=True)
    store.add_suite("h" * 16, '=HYPERLINK("http://x")', suite_definition("s", ["PickPlace"], [0], ["a"]), False)
    store.start_run("h" * 16, {})
    formulas = episode_row(
        "@SUM(1+1)", "PickPlace", 0, False, suite_hash="h" * 16, model="-2+3", instruction=f"+cmd|' /C calc'!A0{CLEAR}"
    )
    write_rows(store, [formulas, episode_row("plain", "PickPlace", 1, True, suite_hash="h" * 16, instruction="\rx")])
    out = io.StringIO()
    assert write_csv(store, out) == 2
    store.close()
    first, second = csv.DictReader(io.StringIO(out.getvalue()))
    assert first["suite"] == '\'=HYPERLINK("http://x")' and first["agent"] == "'@SUM(1+1)"
    assert first["model"] == "'-2+3" and first["instruction"] == "'+cmd|' /C calc'!A0\\x1b[2J"
    assert second["agent"] == "plain" and second["instruction"] == "'\\x0dx" and second["seed"] == "1"
    assert "\x1b" not in out.getvalue()


def test_a_librarys_skills_are_shown_sanitised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = f'def wave():\n    """Wave{OSC_TITLE}."""\n    return "{CLEAR}{HIDDEN}"\n'
    store_skill(SkillLibrary(tmp_path), source, Provenance(task="StackBlocks"), VerifyRequest(call=f"wave()#{CLEAR}"))
    for command in ("list", "show"):
        assert main(["skills", command, *(["wave"] if command == "show" else []), "--library", str(tmp_path)]) == 0
        shown = capsys.readouterr().out
        assert "\x1b" not in shown and "Wave\\x1b]0;owned\\x07." in shown
    assert 'return "\\x1b[2J\\x1b[8m"' in shown and "verification program: wave()#\\x1b[2J" in shown
