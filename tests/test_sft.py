"""``codeact-robot export --format sft``: CodeActInstruct conversations from real episodes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from stores import SUITE_HASH, RealStore, episode_row, real_store, suite_definition, write_rows
from test_report import cli, insert_corrupt_row

from codeact_robot.errors import UsageError
from codeact_robot.eval.results.sft import SFTFilters, export_sft, heldout_pairs
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.running.suite import parse_suite

HELDOUT_HASH = "b" * 64


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealStore:
    return real_store(tmp_path_factory.mktemp("real") / "eval")


@pytest.fixture
def store_copy(real: RealStore, tmp_path: Path) -> Path:
    """A copy of the real store that a test may add rows and suites to."""
    return Path(shutil.copytree(real.folder, tmp_path / "eval"))


def export(folder: Path, out: Path, *args: str) -> tuple[int, list[dict], str]:
    result = cli("export", str(folder), "--format", "sft", "--out", str(out), *args)
    lines = out.read_text().splitlines() if out.exists() else []
    return result.returncode, [json.loads(line) for line in lines], result.stderr


def test_successful_episodes_round_trip_as_codeactinstruct_conversations(real: RealStore, tmp_path: Path) -> None:
    code, items, stderr = export(real.folder, tmp_path / "sft.jsonl")
    assert code == 0, stderr
    assert "2 conversation(s) written" in stderr
    assert [item["id"] for item in items] == [
        "codeact-robot/real/expert/PickPlace/seed-0/repeat-0",
        "codeact-robot/real/model/PickPlace/seed-0/repeat-0",
    ]  # the hostile episode gave up: not exported
    for item in items:
        assert set(item) == {"id", "conversations"}
        roles = [m["role"] for m in item["conversations"]]
        assert roles[:2] == ["system", "user"] and roles[-1] == "assistant"
        assert roles[2:] == ["assistant", "user"] * ((len(roles) - 3) // 2) + ["assistant"]
        assert all(set(m) == {"role", "content"} and isinstance(m["content"], str) for m in item["conversations"])
        assert item["conversations"][1]["content"].startswith("Task: pick up the blue block")
        for message in item["conversations"][2:]:
            if message["role"] == "assistant":
                assert "<execute>" in message["content"] and message["content"].rstrip().endswith("</execute>")
            else:
                assert message["content"].startswith("Observation:")
    self_debug = items[1]["conversations"]
    assert (
        self_debug[2]["content"]
        == "Let me look first.\n<execute>\nprint(get_object_names())\npick('purple block')\n</execute>"
    )
    assert "no object named 'purple block'" in self_debug[3]["content"]
    assert self_debug[4]["content"].startswith("The block is blue.\n<execute>\nok = pick_and_place('blue block'")


def test_conversations_are_the_messages_the_model_saw(real: RealStore, tmp_path: Path) -> None:
    export(real.folder, tmp_path / "sft.jsonl")
    (item,) = [i for i in map(json.loads, (tmp_path / "sft.jsonl").read_text().splitlines()) if "/model/" in i["id"]]
    store = ResultsStore(real.folder, read_only=True)
    messages = store.record(real.self_debug_id)["messages"]
    store.close()
    assert item["conversations"] == messages[:-1]  # the last observation answers nothing and is dropped


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--self-debug"], ["model"]),
        (["--min-turns", "2"], ["model"]),
        (["--agent", "expert"], ["expert"]),
        (["--agent", "expert,model", "--tasks", "PickPlace"], ["expert", "model"]),
    ],
)
def test_filters(real: RealStore, tmp_path: Path, args: list[str], ids: list[str]) -> None:
    code, items, stderr = export(real.folder, tmp_path / "sft.jsonl", *args)
    assert code == 0, stderr
    assert [item["id"].split("/")[2] for item in items] == ids


def test_nothing_to_export_exits_1_and_keeps_an_earlier_file(real: RealStore, tmp_path: Path) -> None:
    out = tmp_path / "sft.jsonl"
    assert export(real.folder, out, "--min-turns", "5")[:2] == (1, [])
    assert not out.exists()
    out.write_text('{"earlier": "export"}\n')
    code, items, stderr = export(real.folder, out, "--min-turns", "5")
    assert (code, items) == (1, [{"earlier": "export"}])
    assert f"nothing to export: no successful episode passes the filters; {out} was not written" in stderr
    assert [p.name for p in tmp_path.iterdir()] == ["sft.jsonl"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--agent", "expertt"],
            "error: no agent named 'expertt' (did you mean 'expert'?); agents in this store are: expert, model",
        ),
        (["--tasks", "StackBlocks"], "error: no task named 'StackBlocks'"),
        (["--min-turns", "0"], "error: --min-turns must be at least 1, not 0"),
    ],
)
def test_bad_filters_are_one_line_and_exit_2(real: RealStore, tmp_path: Path, args: list[str], message: str) -> None:
    result = cli("export", str(real.folder), "--format", "sft", "--out", str(tmp_path / "x.jsonl"), *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and result.stderr.startswith(message)
    assert not (tmp_path / "x.jsonl").exists()


def test_identical_conversations_are_written_once(store_copy: Path, tmp_path: Path) -> None:
    store = ResultsStore(store_copy)
    expert = next(store.summaries("agent = 'expert'"))
    record = store.db.execute("SELECT record FROM episodes WHERE id = ?", (expert["id"],)).fetchone()[0]
    write_rows(store, [episode_row("expert", "PickPlace", 0, True, repeat=1, record=record)])
    store.close()
    code, items, stderr = export(store_copy, tmp_path / "sft.jsonl")
    assert code == 0
    assert len(items) == 2 and "1 duplicate conversation(s) written once" in stderr


def test_the_leakage_guard_refuses_held_out_tasks_and_seeds(store_copy: Path, tmp_path: Path) -> None:
    store = ResultsStore(store_copy)
    # a held-out suite that declares PickPlace seeds 0-2 and has run none of them here
    store.add_suite(HELDOUT_HASH, "test-set", suite_definition("test-set", ["PickPlace"], [0, 1, 2], ["x"]), True)
    store.close()
    code, items, stderr = export(store_copy, tmp_path / "sft.jsonl")
    assert (code, items) == (1, [])
    assert (
        "2 episode(s) refused: their task and seed belong to a held-out suite (--allow-heldout exports them)" in stderr
    )
    code, items, _ = export(store_copy, tmp_path / "all.jsonl", "--allow-heldout")
    assert code == 0 and len(items) == 2


def test_held_out_pairs_come_from_definitions_and_from_episodes_run(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path / "eval", create=True)
    store.add_suite(SUITE_HASH, "train", suite_definition("train", ["PickPlace"], [0], ["a"]), False)
    held = parse_suite(
        {"name": "test", "tasks": "feedback", "seeds": {"start": 5, "count": 2}, "agents": [{"name": "x"}]}, "x"
    )
    store.add_suite(HELDOUT_HASH, "test", held.definition_json(), True)  # stored resolved, as eval stores it
    store.add_suite("c" * 64, "test2", "not json", True)
    store.start_run(SUITE_HASH, {})
    write_rows(store, [episode_row("a", "StackBlocks", 9, True, suite_hash="c" * 64)])
    assert heldout_pairs(store) == {
        ("FindHiddenBlock", 5),
        ("FindHiddenBlock", 6),
        ("SortHiddenBlocks", 5),
        ("SortHiddenBlocks", 6),
        ("StackBlocks", 9),
    }
    store.close()


def test_unreadable_episodes_are_reported_and_skipped(store_copy: Path, tmp_path: Path) -> None:
    insert_corrupt_row(store_copy, seed=40, record="{not json")
    insert_corrupt_row(store_copy, seed=41, record=json.dumps({"messages": [{"role": "tool", "content": "x"}]}))
    insert_corrupt_row(store_copy, seed=42, turns="many")
    code, items, stderr = export(store_copy, tmp_path / "sft.jsonl")
    assert code == 0 and len(items) == 2
    skipped = [line for line in stderr.splitlines() if line.startswith("skipped unreadable")]
    assert len(skipped) == 3
    assert sum("the transcript is missing or not a conversation" in line for line in skipped) == 2
    assert any("turns" in line for line in skipped)


def test_the_export_is_written_whole_or_not_at_all(real: RealStore, tmp_path: Path) -> None:
    out = tmp_path / "sft.jsonl"
    out.write_text("earlier export\n")
    store = ResultsStore(real.folder, read_only=True)
    with pytest.raises(UsageError, match="no agent named"):
        export_sft(store, SFTFilters(agents=("nobody",)), out)
    assert out.read_text() == "earlier export\n" and [p.name for p in tmp_path.iterdir()] == ["sft.jsonl"]
    result = export_sft(store, SFTFilters(), out)
    store.close()
    assert result.written == 2 and len(out.read_text().splitlines()) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["sft.jsonl"]
