"""Reading the store's episode rows as checked values: what reports, the viewer and exports count.

A results store is data another person may hand over, and SQLite does not enforce column
types: a row can hold text where a count belongs, a negative time, or bytes. Every row is
checked against :class:`EpisodeSummary`; one that fails is reported (its id and why) and
left out, never fatal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeact_robot.eval.failures import INFRASTRUCTURE_ERROR

SPLITS = ("seen", "unseen", "feedback")

Count = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(ge=0.0)]


class EpisodeSummary(BaseModel):
    """One episode's flat metrics, checked: the store's ``episodes`` row without its transcript."""

    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)

    id: int
    suite_hash: str
    run_id: int
    agent: str
    task: str
    seed: int
    repeat: Count
    split: str
    mode: str
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


@dataclass
class Checked:
    """The rows that passed the check, and a line for each that did not.

    Attributes:
        episodes: the readable episodes, in the store's order.
        problems: ``"episode 12: turns: Input should be a valid integer"`` for each skipped row.
    """

    episodes: list[EpisodeSummary] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check_row(row: dict[str, Any]) -> EpisodeSummary | str:
    """The row as an :class:`EpisodeSummary`, or one line saying why it is unreadable."""
    try:
        return EpisodeSummary.model_validate(row)
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


def scored(episodes: Iterable[EpisodeSummary]) -> Iterator[EpisodeSummary]:
    """The episodes that count towards success rates (infrastructure errors left out)."""
    return (e for e in episodes if not e.infrastructure_error)


def mean(values: Iterable[float]) -> float | None:
    """The mean, or None for no values."""
    values = list(values)
    return math.fsum(values) / len(values) if values else None


def _row_id(row: dict[str, Any]) -> str:
    value = row.get("id")
    return str(value) if isinstance(value, int) else "?"
