"""Any OpenAI-compatible chat-completions endpoint: vLLM's server first."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import openai

from codeact_robot.llm.base import Completion, LLMBackend, LLMError, Message
from codeact_robot.llm.config import LLMConfig
from codeact_robot.llm.context import ContextWindow, is_overflow
from codeact_robot.llm.model_server import listed_models
from codeact_robot.llm.server_errors import one_line, reason_in, server_reason

RETRIED_STATUS = (408, 409, 429)
"""Statuses asked again (besides every 5xx): a timeout, a conflict, a rate limit."""
UNAVAILABLE_STATUS = (502, 503, 504)
"""5xx statuses that say the server is not there yet (a gateway, a model still loading): asked again even
when they repeat word for word. Any other 5xx that comes back identical is a deterministic failure."""
BACKOFF_S = 0.5
MAX_BACKOFF_S = 8.0


@dataclass(frozen=True)
class _Failure:
    """One failed request: what to tell, whether to ask again, and how it compares with the previous failure."""

    what: str
    retry: bool
    overflow: bool = False
    status: int | None = None
    reason: str = ""

    def repeats(self, previous: _Failure | None) -> bool:
        """Whether this is a deterministic server failure: a 5xx (not 'unavailable') identical to the previous one."""
        return (
            previous is not None
            and self.status is not None
            and self.status >= 500
            and self.status not in UNAVAILABLE_STATUS
            and (self.status, self.reason) == (previous.status, previous.reason)
        )


class OpenAIBackend(LLMBackend):
    """Chat completions over HTTP, with timeouts and retries (exponential backoff).

    The API key is read from the environment variable ``config.api_key_env`` and never
    logged; vLLM accepts any key, so a missing variable means ``"EMPTY"``.

    A request is sent again after a timeout, a connection failure, HTTP 408, 409, 429 or a
    5xx, at most ``config.max_retries`` times, but never after a 5xx that repeats the
    previous one word for word (a deterministic failure of the server: asking again
    answers the same). An error names the server's own reason and the requests sent.

    Each reply may take ``config.max_tokens``, or the room left in the model's context
    window if less (:class:`ContextWindow`): the window is ``max_model_len`` from the
    server's model listing, else ``config.context_length``, looked up at the first request.

    Args:
        config: endpoint, model and sampling settings.
    """

    name = "openai"

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key or "EMPTY",
            timeout=config.timeout_s,
            max_retries=0,  # retried here, where the attempts are counted
        )
        self._window: ContextWindow | None = None

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """Ask the endpoint for the next turn (see :class:`LLMBackend`).

        Raises:
            LLMError: no answer; ``context_overflow`` when the conversation no longer fits
                (found before sending, or the server's 400 saying so).
        """
        c = self.config
        window = self._context_window()
        request: dict[str, Any] = {
            "model": c.model,
            "messages": messages,
            "temperature": c.temperature,
            "top_p": c.top_p,
            "max_tokens": window.max_tokens(messages),
            "stop": stop or None,
            "seed": c.seed,
        }
        previous: _Failure | None = None
        sent = 0
        while True:
            sent += 1
            start = time.perf_counter()
            try:
                completion = self._streamed(request, start) if c.stream else self._answer(request, start)
            except openai.APIError as error:
                failure = self._failure(error)
            else:
                window.answered(messages, completion)
                return completion
            repeated = failure.repeats(previous)
            if not failure.retry or repeated or sent > c.max_retries:
                raise LLMError(
                    f"the model server at {c.base_url} {failure.what}{_sent_note(sent, repeated)}",
                    transient=failure.retry and not repeated,
                    context_overflow=failure.overflow,
                )
            previous = failure
            time.sleep(min(MAX_BACKOFF_S, BACKOFF_S * 2 ** (sent - 1)))

    def _answer(self, request: dict[str, Any], start: float) -> Completion:
        response = self.client.chat.completions.create(**request)
        if not response.choices:
            raise LLMError(f"the model server at {self.config.base_url} answered with no choices")
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            latency_s=time.perf_counter() - start,
            finish_reason=choice.finish_reason,
        )

    def _streamed(self, request: dict[str, Any], start: float) -> Completion:
        parts: list[str] = []
        usage = None
        finish = None
        stream = self.client.chat.completions.create(**request, stream=True, stream_options={"include_usage": True})
        for chunk in stream:
            if chunk.usage is not None:
                usage = chunk.usage
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
        return Completion(
            text="".join(parts),
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            latency_s=time.perf_counter() - start,
            finish_reason=finish,
        )

    def _failure(self, error: openai.APIError) -> _Failure:
        """What a failed request means (a timeout, no connection, an HTTP error, an error event in a stream)."""
        if isinstance(error, openai.APITimeoutError):
            return _Failure(f"did not answer within {self.config.timeout_s:g} s", retry=True)
        if isinstance(error, openai.APIConnectionError):
            return _Failure("could not be reached; is it running? (`codeact-robot serve` starts one)", retry=True)
        if isinstance(error, openai.APIStatusError):
            status, reason = error.status_code, server_reason(error.response)
            return _Failure(
                f"answered HTTP {status}: {reason}",
                retry=status in RETRIED_STATUS or status >= 500,
                overflow=status == 400 and is_overflow(reason),
                status=status,
                reason=reason,
            )
        # An error event inside a stream that began with HTTP 200 (vLLM sends them), or a body that is no completion.
        reason = one_line(reason_in({"error": error.body}) or error.message)
        return _Failure(f"failed while answering: {reason}", retry=False, overflow=is_overflow(reason))

    def _context_window(self) -> ContextWindow:
        """The conversation's context window: its length from the server's listing, else the config's."""
        if self._window is None:
            length = self.config.context_length
            try:
                listed = {m.id: m.max_model_len for m in listed_models(self.client)}
            except openai.APIError:  # the chat request will tell what is wrong
                listed = {}
            self._window = ContextWindow(listed.get(self.config.model) or length, self.config.max_tokens)
        return self._window

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.client.close()


def _sent_note(sent: int, repeated: bool) -> str:
    """How many requests a failure took: nothing for one, the count for more, and why asking stopped."""
    if repeated:
        return f" (the same answer {sent} times in a row; not asked again)"
    return f" (after {sent} attempts)" if sent > 1 else ""
