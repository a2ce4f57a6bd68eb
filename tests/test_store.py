"""The results store: schema, one transaction per episode, the unique key, untrusted contents."""

from __future__ import annotations

import json
import sqlite3
import time
import typing
from pathlib import Path
from typing import Any

import pytest

from codeact_robot.errors import UsageError
from codeact_robot.eval.results.rows import (
    TRANSCRIPT_COLUMNS,
    EpisodeFacts,
    EpisodeKey,
    EpisodeResult,
    EpisodeRow,
    TurnImage,
)
from codeact_robot.eval.results.store import COLUMNS, STORE_FILE, ResultsStore

SUITE = "0123456789abcdef"


def result(
    seed: int = 0,
    outcome: str = "success",
    record: str | None = None,
    images: tuple[TurnImage, ...] = (),
    **changes: object,
) -> EpisodeResult:
    facts = EpisodeFacts(
        agent="expert",
        task="PickPlace",
        seed=seed,
        repeat=0,
        split="seen",
        mode="codeact",
        api="high",
        model="reference",
        outcome=outcome,
        success=outcome == "success",
        failure_kind="success" if outcome == "success" else "error",
        turns=1,
        prompt_tokens=None,
        completion_tokens=None,
        llm_s=0.0,
        exec_s=0.4,
        sim_s=6.5,
        wall_s=1.0,
        instruction="pick up the red block and place it on the blue bowl",
        error=None if outcome != "error" else "the model server could not be reached",
        attempts=1,
    )
    transcript = record or json.dumps({"task": "PickPlace", "seed": seed, "messages": []})
    search = "pick_and_place('red block', 'blue bowl')"
    return EpisodeResult(facts.model_copy(update=changes), transcript, search, images)


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    store = ResultsStore(tmp_path, create=True)
    store.add_suite(SUITE, "mini", json.dumps({"name": "mini"}), heldout=True)
    yield store
    store.close()


def test_a_new_store_is_wal_with_full_sync_and_records_its_schema(store: ResultsStore) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    version = store.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == "1"
    assert store.suites()[0] | {"created_at": None} == {
        "suite_hash": SUITE,
        "name": "mini",
        "definition": {"name": "mini"},
        "heldout": True,
        "created_at": None,
    }


def test_an_episode_and_its_images_read_back_exactly(store: ResultsStore) -> None:
    run = store.start_run(SUITE, {"workers": 2})
    images = [TurnImage(0, "front", b"\xff\xd8jpeg0"), TurnImage(1, "front", b"\xff\xd8jpeg1")]
    episode_id = store.write_episode(result(images=tuple(images)), SUITE, run)
    store.finish_run(run, "finished")
    (summary,) = store.summaries()
    assert summary["id"] == episode_id and summary["task"] == "PickPlace" and summary["sim_s"] == 6.5
    assert "record" not in summary and "search_text" not in summary
    assert store.record(episode_id) == {"task": "PickPlace", "seed": 0, "messages": []}
    assert store.images(episode_id) == images
    assert store.finished(SUITE) == {EpisodeKey("expert", "PickPlace", 0, 0): "success"}
    (recorded,) = store.runs()
    assert recorded["status"] == "finished" and json.loads(recorded["settings"]) == {"workers": 2}


def test_an_episode_is_stored_once_unless_it_was_an_error(store: ResultsStore) -> None:
    run = store.start_run(SUITE, {})
    store.write_episode(result(seed=0), SUITE, run)
    with pytest.raises(sqlite3.IntegrityError):
        store.write_episode(result(seed=0, outcome="message"), SUITE, run)
    store.write_episode(result(seed=1, outcome="error", images=(TurnImage(0, "front", b"x"),)), SUITE, run)
    store.write_episode(result(seed=1, outcome="turn_limit", attempts=2), SUITE, run)
    assert store.db.execute("SELECT COUNT(*) FROM turn_images").fetchone()[0] == 0  # went with the error row
    outcomes = store.finished(SUITE)
    assert outcomes == {
        EpisodeKey("expert", "PickPlace", 0, 0): "success",
        EpisodeKey("expert", "PickPlace", 1, 0): "turn_limit",
    }
    assert store.db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 2


def test_a_failed_write_leaves_nothing_behind(store: ResultsStore) -> None:
    run = store.start_run(SUITE, {})
    duplicate_images = [TurnImage(0, "front", b"a"), TurnImage(0, "front", b"b")]  # the same primary key twice
    with pytest.raises(sqlite3.IntegrityError):
        store.write_episode(result(images=tuple(duplicate_images)), SUITE, run)
    assert store.db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0] == 0
    assert store.db.execute("SELECT COUNT(*) FROM turn_images").fetchone()[0] == 0


def test_rows_written_by_one_connection_are_seen_by_another(store: ResultsStore, tmp_path: Path) -> None:
    reader = ResultsStore(tmp_path)
    run = store.start_run(SUITE, {})
    store.write_episode(result(seed=3), SUITE, run)
    assert list(reader.finished(SUITE)) == [EpisodeKey("expert", "PickPlace", 3, 0)]
    reader.close()


def test_a_corrupt_record_or_definition_reads_as_missing(store: ResultsStore) -> None:
    run = store.start_run(SUITE, {})
    episode_id = store.write_episode(result(record="{not json"), SUITE, run)
    other = store.write_episode(result(seed=1, record="[1, 2]"), SUITE, run)
    store.db.execute("UPDATE suites SET definition = '<html>'")
    assert store.record(episode_id) is None and store.record(other) is None and store.record(999) is None
    assert store.suites()[0]["definition"] is None


def test_folders_without_a_store_and_files_that_are_not_one_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="holds no results store"):
        ResultsStore(tmp_path / "nothing")
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / STORE_FILE).write_text("hello, this is not a database" * 100)
    with pytest.raises(UsageError, match="is not a codeact-robot results store"):
        ResultsStore(tmp_path / "text")
    other = sqlite3.connect(tmp_path / STORE_FILE)
    other.execute("CREATE TABLE notes (text TEXT)")
    other.commit()
    other.close()
    with pytest.raises(UsageError, match="is not a codeact-robot results store"):
        ResultsStore(tmp_path, create=True)


def test_a_store_that_lost_a_table_is_refused_by_name(store: ResultsStore, tmp_path: Path) -> None:
    store.db.execute("DROP TABLE turn_images")
    store.db.execute("DROP TABLE episodes")
    with pytest.raises(UsageError, match="is a damaged results store: its table.s. episodes, turn_images are gone"):
        ResultsStore(tmp_path, read_only=True)


def test_a_store_that_lost_a_column_is_refused_by_name(store: ResultsStore, tmp_path: Path) -> None:
    store.db.execute("ALTER TABLE episodes DROP COLUMN search_text")
    with pytest.raises(UsageError, match="is a damaged results store: episodes lacks search_text"):
        ResultsStore(tmp_path, read_only=True)


def test_a_store_from_before_the_api_tiers_reads_as_high_and_gains_the_column_when_written(
    store: ResultsStore, tmp_path: Path
) -> None:
    run = store.start_run(SUITE, {})
    store.write_episode(result(seed=0), SUITE, run)
    store.db.execute("ALTER TABLE episodes DROP COLUMN api")
    reader = ResultsStore(tmp_path, read_only=True)
    assert [row["api"] for row in reader.summaries()] == ["high"] and reader.distinct("api") == {"high": 1}
    reader.close()
    writer = ResultsStore(tmp_path)
    writer.write_episode(result(seed=1, api="pixels"), SUITE, run)
    assert [row["api"] for row in writer.summaries()] == ["high", "pixels"]
    writer.close()


def test_a_store_with_a_trigger_or_view_is_refused(store: ResultsStore, tmp_path: Path) -> None:
    store.db.execute("CREATE TRIGGER rewrite AFTER INSERT ON runs BEGIN UPDATE runs SET status = 'x'; END")
    with pytest.raises(UsageError, match="holds what a results store never has: trigger rewrite"):
        ResultsStore(tmp_path)


def test_a_store_that_is_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / STORE_FILE).symlink_to(tmp_path / "elsewhere.sqlite")
    with pytest.raises(UsageError, match="is a symbolic link; a results store is a file of its own folder"):
        ResultsStore(tmp_path / "out", create=True)
    assert not (tmp_path / "elsewhere.sqlite").exists()


def test_a_store_of_another_schema_version_is_refused(store: ResultsStore, tmp_path: Path) -> None:
    store.db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(UsageError, match="has schema version 99; this codeact-robot reads 1"):
        ResultsStore(tmp_path)


def sql_column(annotation: Any) -> tuple[str, bool]:
    """The SQLite type a field's values are stored as, and whether the column must be NOT NULL."""
    args = typing.get_args(annotation)
    nullable = type(None) in args
    value = next(a for a in args if a is not type(None)) if nullable else annotation
    if typing.get_origin(value) is typing.Annotated:
        value = typing.get_args(value)[0]
    return {int: "INTEGER", bool: "INTEGER", float: "REAL", str: "TEXT"}[value], not nullable


def test_the_sql_schema_and_the_row_model_declare_the_same_columns(store: ResultsStore) -> None:
    table = {
        name: (kind, bool(not_null))
        for _, name, kind, not_null, _, _ in store.db.execute("PRAGMA table_info(episodes)")
    }
    modelled = {name: sql_column(field.annotation) for name, field in EpisodeRow.model_fields.items()}
    modelled["id"] = ("INTEGER", False)  # the rowid: SQLite fills it in, never null
    modelled |= {name: ("TEXT", True) for name in TRANSCRIPT_COLUMNS}
    assert table == modelled
    assert sorted(COLUMNS) == sorted(set(table) - {"id"})  # what a new row is written with


def test_the_store_stamps_the_row_it_builds(store: ResultsStore) -> None:
    run = store.start_run(SUITE, {})
    before = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    episode_id = store.write_episode(result(seed=5), SUITE, run, video="videos/x.mp4")
    after = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    (row,) = store.summaries()
    assert (row["id"], row["suite_hash"], row["run_id"], row["video"]) == (episode_id, SUITE, run, "videos/x.mp4")
    assert before <= row["finished_at"] <= after
    stored = EpisodeRow.model_validate(row).model_dump(include=set(EpisodeFacts.model_fields))
    assert stored == result(seed=5).facts.model_dump()
