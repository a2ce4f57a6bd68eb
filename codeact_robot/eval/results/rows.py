"""An episode's row in the results store, each column declared once, and its reading back, checked.

- :class:`EpisodeFacts`: what running an episode establishes (the runner fills these in);
- :class:`EpisodeResult`: a finished episode on its way to the store: its facts, its
  transcript (the two :data:`TRANSCRIPT_COLUMNS`), its images and its video;
- :class:`EpisodeRow`: a stored episode as reports, the viewer and exports read it: the
  facts and what the store adds (``id``, ``suite_hash``, ``run_id``, ``finished_at``,
  ``video``), without the transcript.

``store.py``'s SQL schema holds the same columns; a test checks the two against each other.

A results store is data another person may hand over, and SQLite does not enforce column
types: a row can hold text where a count belongs, a negative time, or bytes. Every row is
read through :class:`EpisodeRow`; one that fails is reported (its id and why) and left
out, never fatal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeact_robot.envs.tasks import TASKS
from codeact_robot.eval.results.failures import INFRASTRUCTURE_ERROR

SPLITS = tuple(dict.fromkeys(task.split for task in TASKS.values()))
"""The task splits (``seen``, ``unseen``, ``feedback``), in the task table's order."""
TRANSCRIPT_COLUMNS = ("search_text", "record")
"""The columns of ``episodes`` that hold the transcript, read one episode at a time."""

Count = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(ge=0.0)]


@dataclass(frozen=True)
class EpisodeKey:
    """What identifies an episode of a suite: unique in the store."""

    agent: str
    task: str
    seed: int
    repeat: int


@dataclass(frozen=True)
class TurnImage:
    """A camera image after a turn, as JPEG bytes."""

    turn: int
    camera: str
    jpeg: bytes


class EpisodeFacts(BaseModel):
    """What running an episode establishes, checked as it is made.

    Attributes:
        agent, task, seed, repeat: the episode's key.
        split: the task's split (``seen``, ``unseen``, ``feedback``).
        mode: the action mode (``codeact``, ``json``, ``text``).
        api: the API tier the programs saw (``high``, ``primitive``, ``pixels``).
        model: who wrote the turns (``LLMConfig.label``: the model, or ``reference``).
        outcome: how the episode ended (``success``, ``done``, ``message``, ``turn_limit``,
            ``reply_cut_off``, ``worker_crash``, ``llm_error``, ``context_overflow``, or
            ``error`` when it could not run at all).
        success: whether the task's check held at the end.
        failure_kind: the one reason it failed, from structured facts (``success`` if it did not).
        turns: model turns.
        prompt_tokens, completion_tokens: summed over the turns (None when unknown).
        llm_s, exec_s, sim_s, wall_s: model, code, simulated and total seconds.
        instruction: what the agent was asked.
        error: what went wrong for outcomes ``error``, ``llm_error`` and ``context_overflow``
            (the server's own reason included), else None.
        attempts: how many times the episode was started (retries of transient failures).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    agent: str
    task: str
    seed: int
    repeat: Count
    split: str
    mode: str
    api: str
    model: str
    outcome: str
    success: bool
    failure_kind: str
    turns: Count
    prompt_tokens: Count | None
    completion_tokens: Count | None
    llm_s: Seconds
    exec_s: Seconds
    sim_s: Seconds
    wall_s: Seconds
    instruction: str
    error: str | None
    attempts: Count

    @property
    def key(self) -> EpisodeKey:
        """The episode's key within its suite."""
        return EpisodeKey(self.agent, self.task, self.seed, self.repeat)


class EpisodeRow(EpisodeFacts):
    """A stored episode's row without its transcript, checked: what reports, the viewer and exports count.

    Attributes:
        id: the row's id in the store.
        suite_hash: the suite's content hash.
        run_id: the ``eval`` invocation that stored it.
        finished_at: when it was stored (ISO time).
        video: its video's path relative to the store's folder, or None.
    """

    model_config = ConfigDict(extra="ignore")

    id: int
    suite_hash: str
    run_id: int
    finished_at: str
    video: str | None = None

    @property
    def infrastructure_error(self) -> bool:
        """Whether the episode could not run (counted apart, never as a task failure)."""
        return INFRASTRUCTURE_ERROR in (self.outcome, self.failure_kind)

    @property
    def tokens(self) -> int | None:
        """Prompt plus completion tokens (None when the backend reported neither)."""
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)


@dataclass(frozen=True)
class EpisodeResult:
    """A finished episode, ready for the store (it crosses from a Ray node to the driver, pickled by Ray).

    Attributes:
        facts: what the episode established.
        record: the whole transcript, ``EpisodeRecord.to_dict()`` as JSON.
        search_text: every turn's code, printed output and error (what the viewer searches).
        images: the camera images after the reset (turn 0) and after each turn.
        video: the episode's video, already written: its path relative to the store's folder.
        video_data: the episode's MP4, made where the store is not (a Ray node), for the
            store's writer to save.
        video_problem: why a video the episode should have kept could not be made.
    """

    facts: EpisodeFacts
    record: str
    search_text: str
    images: tuple[TurnImage, ...] = ()
    video: str | None = None
    video_data: bytes | None = None
    video_problem: str | None = None

    @property
    def job(self) -> EpisodeKey:
        """Which episode of the suite it is."""
        return self.facts.key


@dataclass
class Checked:
    """The rows that passed the check, and a line for each that did not.

    Attributes:
        episodes: the readable episodes, in the store's order.
        problems: ``"episode 12: turns: Input should be a valid integer"`` for each skipped row.
    """

    episodes: list[EpisodeRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_row(row: dict[str, Any]) -> EpisodeRow | str:
    """The row as an :class:`EpisodeRow`, or one line saying why it is unreadable."""
    try:
        return EpisodeRow.model_validate(row)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "row"
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        return f"episode {_row_id(row)}: {where}: {first['msg']}{more}"


def check_rows(rows: Iterable[dict[str, Any]]) -> Checked:
    """Check every row; unreadable ones are listed in ``problems`` and left out."""
    checked = Checked()
    for row in rows:
        result = check_row(row)
        if isinstance(result, str):
            checked.problems.append(result)
        else:
            checked.episodes.append(result)
    return checked


def scored(episodes: Iterable[EpisodeRow]) -> Iterator[EpisodeRow]:
    """The episodes that count towards success rates (infrastructure errors left out)."""
    return (e for e in episodes if not e.infrastructure_error)


def mean(values: Iterable[float]) -> float | None:
    """The mean, or None for no values."""
    values = list(values)
    return math.fsum(values) / len(values) if values else None


def _row_id(row: dict[str, Any]) -> str:
    value = row.get("id")
    return str(value) if isinstance(value, int) else "?"
