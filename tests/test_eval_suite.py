"""Suites: the minimal form as written, validation errors, the content hash, pre-flight refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from codeact_robot.cli import main
from codeact_robot.envs.tasks import TASKS
from codeact_robot.errors import UsageError
from codeact_robot.eval.results.rows import EpisodeKey
from codeact_robot.eval.results.store import STORE_FILE
from codeact_robot.eval.running.suite import load_suite, parse_suite, suite_names

MINIMAL = """\
name: my-suite
tasks: [PickPlace, StackBlocks]     # task names, or one of: all, seen, unseen, feedback
seeds: [0, 1, 2]                    # a list, or {start: 0, count: 20}
agents:                             # one or more agent configurations, each a column in the results
  - name: codeact
    mode: codeact                   # codeact | json | text
    llm: {backend: openai, base_url: http://localhost:8000/v1, model: xingyaoww/CodeActAgent-Mistral-7b-v0.1}
  - name: expert
    llm: {backend: reference}
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_minimal_form_works_exactly_as_written(tmp_path: Path) -> None:
    suite = load_suite(str(write(tmp_path, MINIMAL)))
    assert suite.name == "my-suite" and suite.tasks == ("PickPlace", "StackBlocks") and suite.seeds == (0, 1, 2)
    assert list(suite.agents) == ["codeact", "expert"]
    assert suite.agents["codeact"].llm.backend == "openai" and suite.agents["expert"].llm.backend == "reference"
    jobs = suite.jobs()
    assert len(jobs) == 2 * 3 * 2 == len(set(jobs))
    # agents alternate innermost: a run cut short has both agents on the same tasks and seeds
    assert jobs[:3] == [
        EpisodeKey("codeact", "PickPlace", 0, 0),
        EpisodeKey("expert", "PickPlace", 0, 0),
        EpisodeKey("codeact", "StackBlocks", 0, 0),
    ]


def test_task_groups_seed_ranges_repeats_and_env_settings(tmp_path: Path) -> None:
    data = {
        "name": "groups",
        "tasks": "unseen",
        "seeds": {"start": 5, "count": 3},
        "agents": [
            {"name": "a", "llm": {"backend": "reference"}, "repeats": 2, "perception": "vision", "time_limit_s": 7},
            {"name": "b", "llm": {"backend": "openai"}, "temperature": 0.7, "max_tokens": 99, "max_turns": 4},
        ],
    }
    suite = parse_suite(data, "groups.yaml")
    assert suite.tasks == tuple(name for name, task in TASKS.items() if task.split == "unseen")
    assert suite.tasks[:5] == (
        "BlocksInCorners",
        "MismatchedBowls",
        "StackOnPlace",
        "PlaceRelativeToBowl",
        "BlocksInLine",
    )
    assert suite.seeds == (5, 6, 7)
    assert len(suite.jobs()) == len(suite.tasks) * 3 * (2 + 1)
    a, b = suite.agents["a"], suite.agents["b"]
    assert a.env_config().perception == "vision" and a.env_config().limits.time_limit_s == 7
    assert a.env_config().max_turns is None  # everything unset keeps the environment's default
    assert b.env_config().max_turns == 4 and b.llm_config().temperature == 0.7 and b.llm_config().max_tokens == 99
    assert parse_suite({**data, "tasks": "all"}, "x").tasks == tuple(TASKS)
    assert parse_suite({**data, "tasks": ["feedback", "pickplace"]}, "x").tasks == (
        "FindHiddenBlock",
        "SortHiddenBlocks",
        "PickPlace",
    )


def test_the_hash_follows_what_changes_results_not_where_the_server_runs(tmp_path: Path) -> None:
    data = yaml.safe_load(MINIMAL)
    first = parse_suite(data, "a").hash
    assert parse_suite(data, "b").hash == first and len(first) == 16
    assert load_suite(str(write(tmp_path, MINIMAL))).with_endpoint("http://elsewhere:9/v1", None).hash == first
    assert load_suite(str(write(tmp_path, MINIMAL))).with_endpoint(None, None, engine="vllm").hash == first
    assert load_suite(str(write(tmp_path, MINIMAL))).with_endpoint(None, "another-model").hash != first
    data["agents"][0]["max_turns"] = 3
    assert parse_suite(data, "a").hash != first
    data["agents"][0].pop("max_turns")
    data["agents"][0]["llm"]["timeout_s"] = 5
    assert parse_suite(data, "a").hash == first


def test_an_empty_suite_says_what_a_suite_needs(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"suite.yaml is empty; a suite needs name, tasks, seeds and agents$"):
        load_suite(str(write(tmp_path, "")))
    with pytest.raises(UsageError, match=r"suite.yaml: missing tasks, seeds, agents \(each is required\)$"):
        load_suite(str(write(tmp_path, "name: x\n")))


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        (
            {"seed": [0]},
            ["suite.yaml", "seed: unknown setting (did you mean 'seeds'?)", "settings here are: name, description"],
        ),
        (
            {"agents": [{"name": "x", "max_turn": 3}]},
            ["agents.0.max_turn: unknown setting (did you mean 'max_turns'?)", "perception", "repeats"],
        ),
        (
            {"agents": [{"name": "x", "perception": "radar"}]},
            ["suite.yaml", "agents.0.perception: 'radar' is not valid; valid: state, vision"],
        ),
        (
            {"agents": [{"name": "x", "llm": {"backend": "openia"}}]},
            ["agents.0.llm.backend: 'openia' is not valid (did you mean 'openai'?); valid: openai, vllm, reference"],
        ),
        ({"tasks": ["PickPlace", "StackBlock"]}, ["tasks: no task named 'StackBlock' (did you mean 'StackBlocks'?)"]),
        ({"tasks": ["Tabletop"]}, ["Tabletop has no success check"]),
        ({"seeds": [1, 1]}, ["seeds: 1 is given twice; seeds are distinct whole numbers from 0 up"]),
        ({"seeds": [3, -4]}, ["seeds: -4 is negative; seeds are distinct whole numbers from 0 up"]),
        ({"seeds": {"start": -4, "count": 3}}, ["seeds: start: -4 is out of range; it must be at least 0"]),
        ({"seeds": {"start": 0, "cout": 3}}, ["seeds: missing count (each is required); cout: unknown setting"]),
        ({"name": None, "seeds": None}, ["name: Input should be a valid string; seeds:"]),
        ({"agents": [{"name": "x"}, {"name": "x"}]}, ["agent names must be unique; used twice: x"]),
        ({"agents": [{"name": "x", "mode": "json"}]}, ["the reference agent writes programs; use mode codeact"]),
        ({"agents": [{"name": "x", "llm": {"backend": "replay"}}]}, ["replay backend replays one recorded episode"]),
    ],
)
def test_invalid_suites_name_the_file_the_field_and_what_is_valid(
    tmp_path: Path, change: dict, fragments: list[str]
) -> None:
    data = {**yaml.safe_load(MINIMAL), **change}
    path = write(tmp_path, yaml.safe_dump(data))
    with pytest.raises(UsageError) as caught:
        load_suite(str(path))
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(
    ("seeds", "fragment"),
    [
        ([0, 2**63], f"seeds: {2**63} is too large; seeds are distinct whole numbers from 0 to {2**63 - 1}"),
        ({"start": 10**30, "count": 2}, f"seeds: start: {10**30} is out of range; it must be at most {2**63 - 1}"),
        ({"start": 2**63 - 2, "count": 3}, f"the last seed, {2**63}, is larger than {2**63 - 1}"),
    ],
)
def test_numbers_out_of_range_seeds_beyond_64_bits_are_refused_before_any_episode_runs(
    tmp_path: Path, seeds: object, fragment: str
) -> None:
    # An episode's seed is stored as a 64-bit integer: a larger one failed as its result was stored.
    path = write(tmp_path, yaml.safe_dump({**yaml.safe_load(MINIMAL), "seeds": seeds}))
    with pytest.raises(UsageError) as caught:
        load_suite(str(path))
    assert fragment in str(caught.value)


def test_shipped_suites_load_by_name_and_an_unknown_name_suggests_one() -> None:
    assert suite_names() == ["action-modes", "perception", "robustness", "smoke", "tabletop", "tiers"]
    smoke = load_suite("smoke")
    assert smoke.tasks == tuple(TASKS) and smoke.seeds == (0, 1) and list(smoke.agents) == ["expert"]
    assert len(load_suite("tabletop").jobs()) == len(TASKS) * 20
    robustness = load_suite("robustness")
    perturbations = [a.env_config().perturbation.plain() for a in robustness.agents.values()]
    assert [(p.paraphrase, p.distractors, p.unseen_colours, p.layout_shift) for p in perturbations] == [
        (False, 0, False, 0.0),
        (True, 0, False, 0.0),
        (False, 3, False, 0.0),
        (False, 0, True, 0.0),
        (False, 0, False, 0.05),
        (False, 0, False, 0.0),
    ]
    assert not robustness.agents["codeact-physics"].env_config().physics.perfect

    modes = load_suite("action-modes")
    assert [a.mode for a in modes.agents.values()] == ["codeact", "json", "text"]
    assert [a.env_config().perception for a in load_suite("perception").agents.values()] == ["state", "vision"]
    with pytest.raises(UsageError, match=r"no suite named 'smok' \(did you mean 'smoke'\?\); suites are: action-modes"):
        load_suite("smok")
    with pytest.raises(UsageError, match="suite file nowhere/suite.yaml does not exist"):
        load_suite("nowhere/suite.yaml")


@pytest.mark.parametrize(
    ("text", "extra", "fragment"),
    [
        (MINIMAL.replace("StackBlocks", "StackBlox"), [], "no task named 'StackBlox' (did you mean 'StackBlocks'?)"),
        (MINIMAL.replace("    mode: codeact", "    mdoe: codeact"), [], "did you mean 'mode'?"),
        (MINIMAL, ["--llm", "http://127.0.0.1:9/v1"], "no model server answers at http://127.0.0.1:9/v1"),
        (MINIMAL, ["--workers", "0"], "argument --workers: must be 1 or more, got 0"),
        (
            "name: s\ntasks: [PickPlace]\nseeds: [0]\nagents: [{name: expert}]\n",
            ["--out", "/proc/results"],
            "--out /proc/results cannot be created: No such file or directory",
        ),
    ],
)
def test_bad_suites_and_unreachable_endpoints_stop_before_any_episode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, extra: list[str], fragment: str
) -> None:
    out = tmp_path / "results"
    try:
        status = main(["eval", "--suite", str(write(tmp_path, text)), "--out", str(out), *extra])
    except SystemExit as exit:  # argparse refuses a bad number itself
        status = exit.code
    error = capsys.readouterr().err
    assert status == 2 and error.startswith("error: ") and error.count("\n") == 1
    assert fragment in error
    assert not (out / STORE_FILE).exists()  # nothing ran, nothing was written


def test_a_broken_store_in_out_is_left_alone_unless_new_moves_it_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = write(tmp_path, "name: s\ntasks: [PickPlace]\nseeds: [0]\nagents: [{name: expert}]\n")
    out = tmp_path / "results"
    out.mkdir()
    (out / STORE_FILE).write_text("not a database")
    assert main(["eval", "--suite", str(suite), "--out", str(out), "--limit", "1"]) == 2
    error = capsys.readouterr().err
    assert "is not a codeact-robot results store" in error and "use --new to keep it under another name" in error
    assert [p.name for p in out.iterdir()] == [STORE_FILE] and (out / STORE_FILE).read_text() == "not a database"
    assert main(["eval", "--suite", str(suite), "--out", str(out), "--limit", "1", "--new"]) == 0
    kept = [p for p in out.iterdir() if p.name.startswith("results-")]
    assert len(kept) == 1 and kept[0].read_text() == "not a database"


def test_an_out_folder_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = write(tmp_path, "name: s\ntasks: [PickPlace]\nseeds: [0]\nagents: [{name: expert}]\n")
    assert main(["eval", "--suite", str(suite), "--out", str(suite)]) == 2
    assert f"--out {suite} is a file; give a folder" in capsys.readouterr().err
