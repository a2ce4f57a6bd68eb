"""Episodes out of a results store as JSON Lines or CSV, for pandas and other tools.

``jsonl``: one JSON object per episode with the suite, the agent and its settings'
key facts, the task, split, seed and repeat, the outcome, failure kind and metrics, and
the whole conversation (``messages``). ``csv``: the flat metrics only, one row per
episode. Every format is one writer in :data:`FORMATS`.

A store is data another person may hand you: values are written out as they are stored,
never interpreted (a transcript that does not parse exports with no messages). A CSV is
opened in spreadsheets, which run a cell starting ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula: such a text cell is written with a leading ``'``, and control
characters in text as ``\\xNN`` (:func:`spreadsheet_text`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from codeact_robot.errors import printable
from codeact_robot.eval.results.rows import EpisodeFacts
from codeact_robot.eval.results.store import ResultsStore

FLAT_COLUMNS = ["suite", "suite_hash", "run_id", *EpisodeFacts.model_fields, "finished_at", "video", "tokens"]
"""The CSV's columns: every stored column of an episode's row but its id, the suite's name, the token total."""


def episodes(store: ResultsStore, with_messages: bool) -> Iterator[dict[str, Any]]:
    """Every stored episode's flat metrics (and its conversation), oldest first."""
    names = {s["suite_hash"]: s["name"] for s in store.suites()}
    for row in store.summaries():
        counts = [t for t in (row["prompt_tokens"], row["completion_tokens"]) if isinstance(t, int)]
        row["suite"] = names.get(row["suite_hash"], "")
        row["success"] = bool(row["success"])
        row["tokens"] = sum(counts) if counts else None
        if with_messages:
            record = store.record(row["id"]) or {}
            messages = record.get("messages")
            row["messages"] = messages if isinstance(messages, list) else []
        yield row


def write_jsonl(store: ResultsStore, out: TextIO) -> int:
    """One JSON object per episode, conversation included; returns how many."""
    count = 0
    for row in episodes(store, with_messages=True):
        row.pop("id")
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(store: ResultsStore, out: TextIO) -> int:
    """The flat metrics, one row per episode with a header; returns how many."""
    writer = csv.DictWriter(out, fieldnames=FLAT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in episodes(store, with_messages=False):
        writer.writerow({key: spreadsheet_text(v) if isinstance(v, str) else v for key, v in row.items()})
        count += 1
    return count


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def spreadsheet_text(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs: a formula's first character behind a ``'``,
    control characters (the tab and line feed aside) as ``\\xNN``."""
    return ("'" if text.startswith(FORMULA_STARTS) else "") + printable(text)


FORMATS: dict[str, Callable[[ResultsStore, TextIO], int]] = {"jsonl": write_jsonl, "csv": write_csv}
