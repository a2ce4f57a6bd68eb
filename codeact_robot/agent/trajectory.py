"""Episode records: every message, code action, observation, timing and the outcome.

A trajectory file holds one JSON object per line, one per episode. Records are read
back through the same schema they are written with; reading one runs nothing from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeact_robot.errors import UsageError
from codeact_robot.worker.protocol import ActionReport

TRAJECTORY_VERSION = 2


class TurnRecord(BaseModel):
    """One model turn and what came of it.

    Attributes:
        turn: 1 for the first turn of the episode.
        kind: ``"action"``, ``"message"``, ``"malformed"`` or ``"cut_off"`` (the reply reached the
            token limit before it ended: nothing of it ran; see the parser).
        assistant: the turn as it went into the conversation.
        code: the program that ran, for actions.
        note: what the observation added (an ignored second block, the expected format).
        observation: the user message that answered the turn.
        report: what the code did (empty for turns that ran none).
        success: whether the task's check held after the turn.
        llm_s: seconds the model took.
        prompt_chars: characters of the conversation sent to the model.
        prompt_tokens, completion_tokens: as the backend reported them.
        finish_reason: why the reply ended, as the backend reported it (``"stop"``, ``"length"`` ...).
    """

    model_config = ConfigDict(extra="forbid")

    turn: int
    kind: Literal["action", "message", "malformed", "cut_off"]
    assistant: str
    code: str | None = None
    note: str | None = None
    observation: str = ""
    report: ActionReport = Field(default_factory=ActionReport)
    success: bool = False
    llm_s: float = 0.0
    prompt_chars: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None


class EpisodeRecord(BaseModel):
    """A whole episode, written as one JSON line.

    ``episode_id`` is the environment's id of the episode (the provenance of the skills it
    saved names it) and ``skills`` the learned skills it was offered (``name@version``).
    """

    model_config = ConfigDict(extra="forbid")

    version: Literal[2] = TRAJECTORY_VERSION
    config: dict[str, Any]
    task: str
    seed: int
    instruction: str
    mode: str
    episode_id: str | None = None
    skills: list[str] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    turns: list[TurnRecord] = Field(default_factory=list)
    outcome: str = "running"
    success: bool = False
    check: str = ""
    error: str | None = None
    final_objects: dict[str, Any] = Field(default_factory=dict)
    wall_s: float = 0.0

    def totals(self) -> dict[str, Any]:
        """Sums over the turns: LLM, execution and simulated time, tokens, limit hits."""
        tokens = [t.prompt_tokens for t in self.turns if t.prompt_tokens is not None]
        generated = [t.completion_tokens for t in self.turns if t.completion_tokens is not None]
        return {
            "turns": len(self.turns),
            "llm_s": sum(t.llm_s for t in self.turns),
            "exec_s": sum(t.report.timings.exec_s for t in self.turns),
            "sim_s": sum(t.report.timings.sim_s for t in self.turns),
            "prompt_tokens": sum(tokens) if tokens else None,
            "completion_tokens": sum(generated) if generated else None,
            "limit_hits": [t.report.limit for t in self.turns if t.report.limit],
            "wall_s": self.wall_s,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data, with the totals."""
        return {**self.model_dump(mode="json"), "totals": self.totals()}


def write_trajectory(record: EpisodeRecord, path: str | Path) -> Path:
    """Append the episode as one JSON line to ``path`` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write(json.dumps(record.to_dict()) + "\n")
    return path


def read_trajectory(path: str | Path, index: int = 0) -> EpisodeRecord:
    """Episode number ``index`` (0 for the first) of a trajectory file.

    Raises:
        UsageError: the file is missing, not a trajectory, or has fewer episodes.
    """
    path = Path(path)
    lines = _episode_lines(path)
    if not 0 <= index < len(lines):
        held = f"episodes 0 to {len(lines) - 1}" if len(lines) > 1 else "only episode 0"
        raise UsageError(f"{path} holds {held}; there is no episode {index}")
    not_one = f"{path} line {index + 1} is not a codeact-robot trajectory (version {TRAJECTORY_VERSION})"
    try:
        data = json.loads(lines[index])
    except json.JSONDecodeError as error:
        raise UsageError(f"{not_one}: not valid JSON ({error.msg}; a file cut off?)") from None
    except RecursionError:
        raise UsageError(f"{not_one}: its JSON is nested too deeply") from None
    try:
        data.pop("totals", None)
        return EpisodeRecord.model_validate(data)
    except (AttributeError, ValidationError):
        raise UsageError(not_one) from None


def count_episodes(path: str | Path) -> int:
    """How many episodes (lines) a trajectory file holds.

    Raises:
        UsageError: the file is missing, not text, or holds no episode.
    """
    return len(_episode_lines(Path(path)))


def _episode_lines(path: Path) -> list[str]:
    if not path.exists():
        raise UsageError(f"trajectory file {path} does not exist")
    if not path.is_file():
        raise UsageError(f"{path} is not a trajectory file (it is a folder or a device)")
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a trajectory file (not UTF-8 text)") from None
    if not lines:
        raise UsageError(f"{path} is empty: it holds no episode")
    return lines
