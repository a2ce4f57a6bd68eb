"""What every LLM backend offers the agent loop."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]


def message_text(content: Any) -> str | None:
    """The text of a message's content: a string, or the text parts of a multimodal list.

    Returns:
        The text (a list's text parts one per line), or None for content of another shape
        (a message read from a file may hold anything).
    """
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "\n".join(p for p in parts if isinstance(p, str))
    return None


class LLMError(RuntimeError):
    """The model could not answer (server down, HTTP errors after retries, timeouts).

    Args:
        message: what went wrong, naming the endpoint and giving the server's own reason.
        transient: whether asking again later may succeed (the server was unreachable,
            overloaded, timed out or failed with a 5xx that changed between attempts), as
            opposed to a refusal of this request (an unknown model, a bad argument, the
            same server failure again and again).
        context_overflow: the conversation no longer fits the model's context window
            (never transient: the same conversation will not fit later either).
    """

    def __init__(self, message: str, transient: bool = False, context_overflow: bool = False) -> None:
        super().__init__(message)
        self.transient = transient
        self.context_overflow = context_overflow


@dataclass(frozen=True)
class Completion:
    """One model turn.

    Attributes:
        text: the generated text (a stop sequence, if hit, is not included).
        prompt_tokens: tokens in the prompt, when the backend reports them.
        completion_tokens: tokens generated, when the backend reports them.
        latency_s: wall time of the request.
        finish_reason: ``"stop"``, ``"length"`` ... as the backend reports it; ``"length"``
            means the reply was cut off at the token limit (its code must not run).
    """

    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float = 0.0
    finish_reason: str | None = None


class LLMBackend(ABC):
    """Produces the assistant's next turn from the conversation so far."""

    name: str

    @abstractmethod
    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """The next assistant turn.

        Args:
            messages: the conversation (system, user, assistant ...), append-only.
            stop: stop sequences; generation ends before them.

        Raises:
            LLMError: when no answer can be had.
        """

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release connections or engines."""


def cut_at_stop(text: str, stop: list[str] | None) -> tuple[str, str | None]:
    """Text up to the first stop sequence, as a server returns it, and the finish reason."""
    cuts = [text.find(s) for s in stop or [] if s in text]
    if not cuts:
        return text, None
    return text[: min(cuts)], "stop"
