"""Any OpenAI-compatible chat-completions endpoint: vLLM's server first."""

from __future__ import annotations

import time
from typing import Any

import openai

from codeact_robot.llm.base import Completion, LLMBackend, LLMError, Message
from codeact_robot.llm.config import LLMConfig

TRANSIENT_STATUS = (408, 409, 429)  # and every 5xx: the statuses the client itself retries


class OpenAIBackend(LLMBackend):
    """Chat completions over HTTP, with timeouts and retries (exponential backoff).

    The API key is read from the environment variable ``config.api_key_env`` and never
    logged; vLLM accepts any key, so a missing variable means ``"EMPTY"``.

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
            max_retries=config.max_retries,
        )

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """Ask the endpoint for the next turn (see :class:`LLMBackend`)."""
        c = self.config
        request: dict[str, Any] = {
            "model": c.model,
            "messages": messages,
            "temperature": c.temperature,
            "top_p": c.top_p,
            "max_tokens": c.max_tokens,
            "stop": stop or None,
            "seed": c.seed,
        }
        start = time.perf_counter()
        try:
            if c.stream:
                return self._streamed(request, start)
            response = self.client.chat.completions.create(**request)
        except openai.APITimeoutError:
            raise LLMError(self._failure(f"did not answer within {c.timeout_s:g} s"), transient=True) from None
        except openai.APIConnectionError:
            raise LLMError(
                self._failure("could not be reached; is it running? (`codeact-robot serve` starts one)"),
                transient=True,
            ) from None
        except openai.APIStatusError as error:
            raise LLMError(
                self._failure(f"answered HTTP {error.status_code}: {_short(error.message)}"),
                transient=error.status_code in TRANSIENT_STATUS or error.status_code >= 500,
            ) from None
        if not response.choices:
            raise LLMError(self._failure("answered with no choices"))
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

    def _failure(self, what: str) -> str:
        retries = f" (after {self.config.max_retries} retries)" if self.config.max_retries else ""
        return f"the model server at {self.config.base_url} {what}{retries}"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.client.close()


def _short(text: Any, limit: int = 200) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "..."
