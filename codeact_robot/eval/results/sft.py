"""Fine-tuning data: successful episodes as CodeActInstruct-format conversations.

Each line of the output is ``{"id": ..., "conversations": [{"role": ..., "content": ...}, ...]}``
with ChatML roles (``system``, ``user``, ``assistant``) and the messages exactly as the
model saw and wrote them: ``<execute>`` actions and ``Observation:`` turns. A trailing
observation that no assistant turn answers is dropped (it teaches nothing). Identical
conversations are written once.

The leakage guard: the (task, seed) pairs of every suite marked ``heldout`` in the store
(its declared tasks and seeds, and every episode it ran) are test data, and episodes on
them are refused unless ``allow_heldout`` says otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codeact_robot.errors import UsageError, unknown_name_error
from codeact_robot.eval.results.rows import EpisodeRow, check_row
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.files import written_whole
from codeact_robot.llm.base import message_text

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class SFTFilters:
    """Which successful episodes to export.

    Attributes:
        agents: only these agents (all when empty).
        tasks: only these task families (all when empty).
        min_turns: only episodes of at least this many turns.
        self_debug: only episodes in which an error observation came before the success.
        allow_heldout: also export episodes on a held-out suite's tasks and seeds.
    """

    agents: Sequence[str] = ()
    tasks: Sequence[str] = ()
    min_turns: int = 1
    self_debug: bool = False
    allow_heldout: bool = False


@dataclass
class SFTExport:
    """What an export wrote and what it left out.

    Attributes:
        written: conversations written.
        duplicates: episodes whose conversation was already written.
        heldout: episodes refused by the leakage guard.
        filtered: successful episodes the filters left out.
        unreadable: one line per episode whose row or transcript could not be read.
    """

    written: int = 0
    duplicates: int = 0
    heldout: int = 0
    filtered: int = 0
    unreadable: list[str] = field(default_factory=list)


class NothingToWrite(Exception):
    """No conversation qualified: the export leaves ``out`` alone."""


def export_sft(store: ResultsStore, filters: SFTFilters, out: str | Path) -> SFTExport:
    """Write the conversations of the store's successful episodes as JSON Lines to ``out``.

    The file is written whole or not at all (through a temporary file beside it); when no
    conversation qualifies, nothing is written and a file already at ``out`` is kept.

    Raises:
        UsageError: a filter names an agent or task the store does not hold, or ``min_turns`` < 1.
    """
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"{out} is a folder; give --out a file name")
    summary = SFTExport()
    with contextlib.suppress(NothingToWrite), written_whole(out) as part:
        with part.open("w", encoding="utf-8") as file:
            for item in sft_conversations(store, filters, summary):
                file.write(json.dumps(item, ensure_ascii=False) + "\n")
        if not summary.written:
            raise NothingToWrite  # an earlier file at ``out`` stays as it was
    return summary


def sft_conversations(
    store: ResultsStore, filters: SFTFilters, summary: SFTExport | None = None
) -> Iterator[dict[str, Any]]:
    """The conversations to export, one at a time (counts go into ``summary``)."""
    summary = summary if summary is not None else SFTExport()
    where, parameters = _condition(store, filters)
    heldout = set() if filters.allow_heldout else heldout_pairs(store)
    names = {s["suite_hash"]: str(s["name"]) for s in store.suites()}
    seen: set[str] = set()
    for row in list(store.summaries(where, parameters)):
        episode = check_row(row)
        if isinstance(episode, str):
            summary.unreadable.append(episode)
            continue
        if episode.infrastructure_error or episode.turns < filters.min_turns:
            summary.filtered += 1
            continue
        if (episode.task, episode.seed) in heldout:
            summary.heldout += 1
            continue
        record = store.record(episode.id)
        conversation = conversation_of(record) if record is not None else None
        if record is None or conversation is None:
            summary.unreadable.append(f"episode {episode.id}: the transcript is missing or not a conversation")
            continue
        if filters.self_debug and not is_self_debug(record):
            summary.filtered += 1
            continue
        digest = hashlib.sha256(json.dumps(conversation, sort_keys=True).encode()).hexdigest()
        if digest in seen:
            summary.duplicates += 1
            continue
        seen.add(digest)
        summary.written += 1
        yield {"id": _episode_id(episode, names), "conversations": conversation}


def conversation_of(record: dict[str, Any]) -> list[dict[str, str]] | None:
    """The record's messages as ChatML turns of text, or None when they are not a conversation.

    Image parts of multimodal messages are left out; a trailing message after the last
    assistant turn is dropped.
    """
    messages = record.get("messages")
    if not isinstance(messages, list):
        return None
    conversation = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return None
        content = message_text(message.get("content"))
        if content is None:
            return None
        conversation.append({"role": message["role"], "content": content})
    while conversation and conversation[-1]["role"] != "assistant":
        conversation.pop()
    return conversation if any(m["role"] == "assistant" for m in conversation) else None


def is_self_debug(record: dict[str, Any]) -> bool:
    """Whether an observation showed an error before the turn that reached success."""
    turns = [t for t in record.get("turns") or [] if isinstance(t, dict)]
    reached = next((i for i, t in enumerate(turns) if t.get("success") is True), len(turns) - 1)
    return any(isinstance(t.get("report"), dict) and t["report"].get("error") for t in turns[:reached])


def heldout_pairs(store: ResultsStore) -> set[tuple[str, int]]:
    """The (task, seed) pairs of every held-out suite: declared in its definition, or run."""
    pairs: set[tuple[str, int]] = set()
    heldout = [s for s in store.suites() if s["heldout"]]
    for suite in heldout:
        pairs |= _declared_pairs(suite["definition"])
        for row in store.summaries("suite_hash = ?", [suite["suite_hash"]]):
            if isinstance(row.get("task"), str) and isinstance(row.get("seed"), int):
                pairs.add((row["task"], row["seed"]))
    return pairs


def _declared_pairs(definition: Any) -> set[tuple[str, int]]:
    """Tasks x seeds of a stored suite definition (``Suite.definition``: tasks resolved, seeds listed)."""
    if not isinstance(definition, dict):
        return set()
    tasks, seeds = definition.get("tasks"), definition.get("seeds")
    tasks = [t for t in tasks if isinstance(t, str)] if isinstance(tasks, list) else []
    seeds = [s for s in seeds if isinstance(s, int)] if isinstance(seeds, list) else []
    return {(task, seed) for task in tasks for seed in seeds}


def _condition(store: ResultsStore, filters: SFTFilters) -> tuple[str, list[Any]]:
    if filters.min_turns < 1:
        raise UsageError(f"--min-turns must be at least 1, not {filters.min_turns}")
    clauses, parameters = ["success = 1"], []
    for column, wanted, what in (("agent", filters.agents, "agent"), ("task", filters.tasks, "task")):
        if not wanted:
            continue
        present = [str(v) for v in store.distinct(column) if v is not None]
        for name in wanted:
            if name not in present:
                raise unknown_name_error(what, name, present, plural=f"{what}s in this store")
        clauses.append(f"{column} IN ({', '.join('?' * len(wanted))})")
        parameters += list(wanted)
    return " AND ".join(clauses), parameters


def _episode_id(episode: EpisodeRow, names: dict[str, str]) -> str:
    suite = names.get(episode.suite_hash, episode.suite_hash[:12])
    return f"codeact-robot/{suite}/{episode.agent}/{episode.task}/seed-{episode.seed}/repeat-{episode.repeat}"
