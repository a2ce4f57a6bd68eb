"""The results store: one SQLite database per evaluation folder, one row per finished episode.

``DIR/results.sqlite`` (WAL journal, full sync) holds:

- ``meta``: the schema version and who created the store;
- ``suites``: every suite evaluated here, by content hash, with its canonical definition;
- ``runs``: one row per ``eval`` invocation (when, where, how, how it ended);
- ``episodes``: one row per finished episode, unique per (suite hash, agent, task, seed,
  repeat), written in one transaction with its turn images; the flat metrics reports
  read, the text the viewer searches, and the whole transcript (``record``, the
  :class:`~codeact_robot.agent.trajectory.EpisodeRecord` as JSON);
- ``turn_images``: the camera images after each turn (JPEG).

A killed evaluation loses at most the episodes in flight: a row is either written whole
or not at all. The store is data another person may hand you: reading it runs nothing,
and a row that does not parse is reported and skipped, never fatal.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from codeact_robot.errors import UsageError
from codeact_robot.eval.results.rows import TRANSCRIPT_COLUMNS, EpisodeKey, EpisodeResult, EpisodeRow, TurnImage
from codeact_robot.skills.registry import DEFAULT_API

SCHEMA_VERSION = 1
TABLES = ("meta", "suites", "runs", "episodes", "turn_images")
STORE_FILE = "results.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS suites (
    suite_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    heldout INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    suite_hash TEXT NOT NULL REFERENCES suites(suite_hash),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS episodes (
    id INTEGER PRIMARY KEY,
    suite_hash TEXT NOT NULL REFERENCES suites(suite_hash),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    agent TEXT NOT NULL,
    task TEXT NOT NULL,
    seed INTEGER NOT NULL,
    repeat INTEGER NOT NULL,
    split TEXT NOT NULL,
    mode TEXT NOT NULL,
    api TEXT NOT NULL DEFAULT '{default_api}',
    model TEXT NOT NULL,
    outcome TEXT NOT NULL,
    success INTEGER NOT NULL,
    failure_kind TEXT NOT NULL,
    turns INTEGER NOT NULL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    llm_s REAL NOT NULL,
    exec_s REAL NOT NULL,
    sim_s REAL NOT NULL,
    wall_s REAL NOT NULL,
    instruction TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL,
    finished_at TEXT NOT NULL,
    search_text TEXT NOT NULL,
    record TEXT NOT NULL,
    video TEXT,
    UNIQUE (suite_hash, agent, task, seed, repeat)
);
CREATE INDEX IF NOT EXISTS episodes_by_agent ON episodes (suite_hash, agent, task);
CREATE INDEX IF NOT EXISTS episodes_by_outcome ON episodes (outcome, failure_kind);
CREATE TABLE IF NOT EXISTS turn_images (
    episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    turn INTEGER NOT NULL,
    camera TEXT NOT NULL,
    image BLOB NOT NULL,
    PRIMARY KEY (episode_id, turn, camera)
);
""".replace("{default_api}", DEFAULT_API)
ADDED_COLUMNS = {"episodes": {"api": DEFAULT_API}}  # table -> column -> its default (text columns)
"""Columns added since the schema's version was fixed: a store without one gains it when opened
for writing, and reads it as its default when opened read-only (episodes stored before the
API tiers saw the high tier)."""


SUMMARY_COLUMNS = list(EpisodeRow.model_fields)
"""The columns reports, the viewer and exports read: every column but the transcript's."""
COLUMNS = [*(c for c in SUMMARY_COLUMNS if c != "id"), *TRANSCRIPT_COLUMNS]
"""The columns a new row is written with (every one but ``id``)."""


class ResultsStore:
    """The SQLite results store of one evaluation folder.

    Args:
        folder: the evaluation folder; ``folder/results.sqlite`` is the database.
        create: create the folder and the database if they do not exist (else it must).
        read_only: open the database for reading only (reports, the viewer, exports):
            nothing can be written through this object, and another process may go on
            writing episodes, which each new query sees.

    Raises:
        UsageError: the folder holds no store (and ``create`` is False), or a store of
            another schema version, or a file that is not a results store.
    """

    def __init__(self, folder: str | Path, create: bool = False, read_only: bool = False) -> None:
        self.folder = Path(folder)
        self.path = self.folder / STORE_FILE
        if self.path.is_symlink():  # it could lead the store's reads and writes anywhere
            raise UsageError(f"{self.path} is a symbolic link; a results store is a file of its own folder")
        if not create and not self.path.is_file():
            raise UsageError(f"{self.folder} holds no results store ({STORE_FILE}); run `codeact-robot eval` first")
        self._read_only = read_only
        self._defaulted: dict[str, str] = {}  # added columns an older store opened read-only lacks
        if read_only:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, timeout=30.0, check_same_thread=False, isolation_level=None)
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            # One connection per store object; the scheduler writes from one thread.
            self.db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        try:
            if not read_only:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=FULL")  # a written episode survives a power cut
            self.db.execute("PRAGMA foreign_keys=ON")
            self._check_schema(create and not read_only)
        except sqlite3.DatabaseError as error:
            self.db.close()
            raise UsageError(f"{self.path} is not a codeact-robot results store: {error}") from None

    def _check_schema(self, create: bool) -> None:
        tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            if tables or not create:  # another program's database (never add tables to it), or none
                raise UsageError(f"{self.path} is not a codeact-robot results store")
            with self.transaction() as db:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("created_at", _now())],
                )
            return
        version = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if version is None or version[0] != str(SCHEMA_VERSION):
            found = version[0] if version else "none"
            raise UsageError(f"{self.path} has schema version {found}; this codeact-robot reads {SCHEMA_VERSION}")
        foreign = [
            f"{kind} {name}"
            for kind, name in self.db.execute("SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view')")
        ]
        if foreign:  # a trigger would run on this program's writes, and could rewrite them
            raise UsageError(f"{self.path} holds what a results store never has: {', '.join(foreign)}")
        missing = [table for table in TABLES if table not in tables]
        if missing:
            raise UsageError(f"{self.path} is a damaged results store: its table(s) {', '.join(missing)} are gone")
        for table, columns in _schema_columns().items():
            gone = columns - _columns(self.db, table)
            added = {name: default for name, default in ADDED_COLUMNS.get(table, {}).items() if name in gone}
            if added and not self._read_only:
                for name, default in added.items():
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} TEXT NOT NULL DEFAULT '{default}'")
            self._defaulted.update(added if self._read_only else {})
            gone -= set(added)
            if gone:
                raise UsageError(f"{self.path} is a damaged results store: {table} lacks {', '.join(sorted(gone))}")

    # --- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``with store.transaction() as db:`` writes everything inside it, or nothing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def add_suite(self, suite_hash: str, name: str, definition: str, heldout: bool) -> None:
        """Record a suite (once; its hash is its identity)."""
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO suites (suite_hash, name, definition, heldout, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (suite_hash, name, definition, int(heldout), _now()),
            )

    def start_run(self, suite_hash: str, settings: dict[str, Any]) -> int:
        """Record the start of an ``eval`` invocation; returns its id."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (suite_hash, started_at, status, settings) VALUES (?, ?, 'running', ?)",
                (suite_hash, _now(), json.dumps(settings, sort_keys=True)),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str) -> None:
        """Record how an ``eval`` invocation ended (``finished``, ``interrupted`` ...)."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at = ?, status = ? WHERE id = ?", (_now(), status, run_id))

    def write_episode(self, result: EpisodeResult, suite_hash: str, run_id: int, video: str | None = None) -> int:
        """Store a finished episode and its images in one transaction, stamped with the time; returns its id.

        An earlier row with the same key is replaced only when its outcome was ``error``
        (a retried infrastructure failure); any other duplicate is refused.

        Args:
            result: the finished episode.
            suite_hash: the suite it belongs to.
            run_id: the ``eval`` invocation storing it (:meth:`start_run`).
            video: its video's path relative to the store's folder, or None.

        Raises:
            sqlite3.IntegrityError: the episode is already stored with a real outcome.
        """
        row = {
            **result.facts.model_dump(),
            "suite_hash": suite_hash,
            "run_id": run_id,
            "finished_at": _now(),
            "video": video,
            "search_text": result.search_text,
            "record": result.record,
        }
        key = result.job
        with self.transaction() as db:
            db.execute(
                "DELETE FROM episodes WHERE suite_hash = ? AND agent = ? AND task = ? AND seed = ? AND repeat = ? "
                "AND outcome = 'error'",
                (suite_hash, key.agent, key.task, key.seed, key.repeat),
            )
            cursor = db.execute(
                f"INSERT INTO episodes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [row[c] for c in COLUMNS],
            )
            episode_id = int(cursor.lastrowid or 0)
            db.executemany(
                "INSERT INTO turn_images (episode_id, turn, camera, image) VALUES (?, ?, ?, ?)",
                [(episode_id, i.turn, i.camera, i.jpeg) for i in result.images],
            )
        return episode_id

    # --- reading -----------------------------------------------------------------------------

    def suites(self) -> list[dict[str, Any]]:
        """Every suite evaluated here: hash, name, definition (parsed), heldout, created_at."""
        found = []
        for suite_hash, name, definition, heldout, created in self.db.execute(
            "SELECT suite_hash, name, definition, heldout, created_at FROM suites ORDER BY created_at"
        ):
            try:
                parsed = json.loads(definition)
            except (TypeError, json.JSONDecodeError, RecursionError):
                parsed = None
            found.append(
                {
                    "suite_hash": suite_hash,
                    "name": name,
                    "definition": parsed,
                    "heldout": bool(heldout),
                    "created_at": created,
                }
            )
        return found

    def runs(self) -> list[dict[str, Any]]:
        """Every ``eval`` invocation, newest first."""
        cursor = self.db.execute(
            "SELECT id, suite_hash, started_at, finished_at, status, settings FROM runs ORDER BY id DESC"
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    def finished(self, suite_hash: str) -> dict[EpisodeKey, str]:
        """Key -> outcome of every episode of a suite stored so far (resume skips these)."""
        rows = self.db.execute(
            "SELECT agent, task, seed, repeat, outcome FROM episodes WHERE suite_hash = ?", (suite_hash,)
        )
        return {EpisodeKey(a, t, int(s), int(r)): o for a, t, s, r, o in rows}

    def summaries(
        self,
        where: str = "",
        parameters: Sequence[Any] = (),
        order_by: str = "id",
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Every episode's flat metrics (no transcript), optionally filtered by an SQL condition.

        Args:
            where: an SQL condition on the columns (written by the caller's code, never by a user).
            parameters: values for the condition's ``?`` placeholders.
            order_by: an SQL ordering (written by the caller's code, never by a user).
            limit: at most this many episodes (all when None), from ``offset`` on.
            offset: how many episodes of the ordering to skip.
        """
        condition = f"WHERE {where}" if where else ""
        page = "LIMIT ? OFFSET ?" if limit is not None else ""
        columns = ", ".join(map(self._column, SUMMARY_COLUMNS))
        cursor = self.db.execute(
            f"SELECT {columns} FROM episodes {condition} ORDER BY {order_by} {page}",
            [*parameters, limit, offset] if limit is not None else parameters,
        )
        names = [d[0] for d in cursor.description]
        for values in cursor:
            yield dict(zip(names, values))

    def _column(self, column: str) -> str:
        """A summary column as a SELECT names it: its default where an older store lacks it."""
        if column in self._defaulted:
            return f"'{self._defaulted[column]}' AS {column}"
        return column

    def count(self, where: str = "", parameters: Sequence[Any] = ()) -> int:
        """How many episodes match an SQL condition (written by the caller's code) or all."""
        condition = f"WHERE {where}" if where else ""
        return int(self.db.execute(f"SELECT COUNT(*) FROM episodes {condition}", parameters).fetchone()[0])

    def distinct(self, column: str) -> dict[Any, int]:
        """Each value of a column (one of the summary columns) and how many episodes have it."""
        if column not in SUMMARY_COLUMNS:
            raise ValueError(f"{column!r} is not a summary column")
        rows = self.db.execute(
            f"SELECT {self._column(column)}, COUNT(*) FROM episodes GROUP BY {column} ORDER BY {column}"
        )
        return dict(rows.fetchall())

    def record(self, episode_id: int, max_chars: int | None = None) -> dict[str, Any] | None:
        """The whole transcript of one episode (parsed JSON), or None when missing or corrupt.

        Args:
            episode_id: the episode's id.
            max_chars: also None when the stored JSON is longer than this (a reader's memory cap).
        """
        limit = "AND length(record) <= ?" if max_chars is not None else ""
        parameters = (episode_id, max_chars) if max_chars is not None else (episode_id,)
        row = self.db.execute(f"SELECT record FROM episodes WHERE id = ? {limit}", parameters).fetchone()
        if row is None:
            return None
        try:
            record = json.loads(row[0])
        except (TypeError, json.JSONDecodeError, RecursionError):
            return None
        return record if isinstance(record, dict) else None

    def images(self, episode_id: int) -> list[TurnImage]:
        """The camera images of one episode, by turn and camera."""
        rows = self.db.execute(
            "SELECT turn, camera, image FROM turn_images WHERE episode_id = ? ORDER BY turn, camera", (episode_id,)
        )
        return [TurnImage(int(turn), str(camera), bytes(image)) for turn, camera, image in rows]

    def image_index(self, episode_id: int) -> list[tuple[int, str]]:
        """(turn, camera) of each image of one episode, without the images."""
        rows = self.db.execute(
            "SELECT turn, camera FROM turn_images WHERE episode_id = ? ORDER BY turn, camera", (episode_id,)
        )
        return [(turn, camera) for turn, camera in rows if isinstance(turn, int) and isinstance(camera, str)]

    def image(self, episode_id: int, turn: int, camera: str) -> bytes | None:
        """One camera image (JPEG bytes), or None when there is none."""
        row = self.db.execute(
            "SELECT image FROM turn_images WHERE episode_id = ? AND turn = ? AND camera = ?",
            (episode_id, turn, camera),
        ).fetchone()
        return bytes(row[0]) if row is not None and isinstance(row[0], bytes) else None

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@functools.cache
def _schema_columns() -> dict[str, frozenset[str]]:
    """Each table's columns as :data:`SCHEMA` declares them (read from an empty database made with it)."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        return {table: _columns(db, table) for table in TABLES}
    finally:
        db.close()


def _columns(db: sqlite3.Connection, table: str) -> frozenset[str]:
    return frozenset(row[1] for row in db.execute(f"PRAGMA table_info({table})"))  # table: one of TABLES
