"""Episode records: every message, code action, observation, timing and the outcome.

A trajectory file holds one JSON object per line, one per episode.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from codeact_robot.envs.errors import UsageError

TRAJECTORY_VERSION = 1


@dataclass
class TurnRecord:
    """One model turn and what came of it."""

    turn: int
    kind: str
    assistant: str
    code: str | None = None
    note: str | None = None
    observation: str = ""
    stdout: str = ""
    stdout_cut: int = 0
    error: str | None = None
    error_type: str | None = None
    limit: str | None = None
    restarted: bool = False
    success: bool = False
    llm_s: float = 0.0
    exec_s: float = 0.0
    sim_steps: int = 0
    sim_s: float = 0.0
    prompt_chars: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass
class EpisodeRecord:
    """A whole episode, ready to be written as one JSON line."""

    config: dict[str, Any]
    task: str
    seed: int
    instruction: str
    mode: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    outcome: str = "running"
    success: bool = False
    check: str = ""
    error: str | None = None
    final_objects: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    def totals(self) -> dict[str, Any]:
        """Sums over the turns: LLM, execution and simulated time, tokens, limit hits."""
        tokens = [t.prompt_tokens for t in self.turns if t.prompt_tokens is not None]
        generated = [t.completion_tokens for t in self.turns if t.completion_tokens is not None]
        return {
            "turns": len(self.turns),
            "llm_s": sum(t.llm_s for t in self.turns),
            "exec_s": sum(t.exec_s for t in self.turns),
            "sim_s": sum(t.sim_s for t in self.turns),
            "prompt_tokens": sum(tokens) if tokens else None,
            "completion_tokens": sum(generated) if generated else None,
            "limit_hits": [t.limit for t in self.turns if t.limit],
            "wall_s": self.wall_s,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain data, with the totals."""
        data = asdict(self)
        data["version"] = TRAJECTORY_VERSION
        data["totals"] = self.totals()
        return data


def write_trajectory(record: EpisodeRecord, path: str | Path) -> Path:
    """Append the episode as one JSON line to ``path`` (folders are created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as file:
        file.write(json.dumps(record.to_dict(), default=_plain) + "\n")
    return path


def read_trajectory(path: str | Path, index: int = 0) -> dict[str, Any]:
    """Episode number ``index`` of a trajectory file.

    Raises:
        UsageError: the file is missing, not a trajectory, or has fewer episodes.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"trajectory file {path} does not exist")
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    if not 0 <= index < len(lines):
        raise UsageError(f"{path} holds {len(lines)} episode(s); there is no episode {index}")
    try:
        record = json.loads(lines[index])
    except json.JSONDecodeError as error:
        raise UsageError(f"{path} line {index + 1} is not JSON: {error}") from None
    if not isinstance(record, dict) or record.get("version") != TRAJECTORY_VERSION or "messages" not in record:
        raise UsageError(f"{path} line {index + 1} is not a codeact-robot trajectory (version {TRAJECTORY_VERSION})")
    return record


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write a {type(value).__name__} to a trajectory")
