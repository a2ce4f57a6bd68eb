"""Replays the assistant turns of a recorded trajectory, to reproduce an episode exactly."""

from __future__ import annotations

from pathlib import Path

from codeact_robot.agent.trajectory import read_trajectory
from codeact_robot.llm.base import Completion, LLMBackend, Message

END_OF_RECORDING = "The recorded episode has no more turns."


class ReplayBackend(LLMBackend):
    """Answers with the recorded assistant messages, in order.

    Args:
        path: a trajectory file written by ``codeact-robot run``.
        index: which episode of the file (one JSON line each) to replay.
    """

    name = "replay"

    def __init__(self, path: str | Path, index: int = 0) -> None:
        self.record = read_trajectory(path, index)
        self._turns = [str(m.get("content", "")) for m in self.record.messages if m.get("role") == "assistant"]
        self._finish_reasons = [t.finish_reason for t in self.record.turns]  # a cut-off turn replays as one
        self._next = 0

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """The next recorded turn (a closing message once the recording ends)."""
        if self._next >= len(self._turns):
            return Completion(text=END_OF_RECORDING, finish_reason="stop")
        text = self._turns[self._next]
        finish = self._finish_reasons[self._next] if self._next < len(self._finish_reasons) else None
        self._next += 1
        return Completion(text=text, finish_reason=finish or "stop")
