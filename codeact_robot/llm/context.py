"""How full a conversation's context window is, without a tokenizer: the reply's room, or an overflow.

The prompt's size is the server's own count for the previous request (``usage.prompt_tokens``)
plus an estimate of what was added since: the previous reply and the new observation, at
:data:`CHARS_PER_TOKEN` characters a token (a conservative figure: prose and Python run
about 3.5 to 4 characters a token with Llama and Mistral tokenizers, so the estimate errs
towards a fuller window). Before any count is known, the whole conversation is estimated so.
The conversation is append-only, so the previous request is always a prefix of the next.
Image parts are not counted (a server's count includes them from the next turn on).
"""

from __future__ import annotations

import math
import re

from codeact_robot.llm.base import Completion, LLMError, Message, message_text

CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD_TOKENS = 6
"""A chat template's tokens around each message (ChatML: ``<|im_start|>role\\n`` ... ``<|im_end|>\\n``)."""
MIN_REPLY_TOKENS = 64
"""The fewest tokens worth asking for: with less room than this left, the conversation no longer fits."""

OVERFLOW_TEXT = re.compile(
    r"maximum context length is \d+ tokens|exceeds the available context size|context length exceeded",
    re.IGNORECASE,
)
"""How servers word a refusal of a prompt too long for the context: vLLM, old ("... However, you requested
N tokens ...") and new ("... your request has N input tokens ..."), and llama.cpp."""


def estimate_tokens(messages: list[Message]) -> int:
    """Tokens the messages take, estimated from their characters (see the module docstring)."""
    return sum(math.ceil(len(message_text(m.get("content")) or "") / CHARS_PER_TOKEN) for m in messages) + (
        MESSAGE_OVERHEAD_TOKENS * len(messages)
    )


def is_overflow(reason: str) -> bool:
    """Whether a server's error text says the prompt does not fit the model's context."""
    return OVERFLOW_TEXT.search(reason) is not None


class ContextWindow:
    """The context window of one conversation, as it fills.

    Args:
        length: the model's context length in tokens (prompt and reply together); None
            when unknown: every request asks for ``reply_tokens`` and only the server's
            refusal tells of an overflow.
        reply_tokens: the most tokens a reply may take (``LLMConfig.max_tokens``).
    """

    def __init__(self, length: int | None, reply_tokens: int) -> None:
        self.length = length
        self.reply_tokens = reply_tokens
        self._counted_messages = 0  # the server's count covers this many messages ...
        self._counted_tokens = 0  # ... and this is its count

    def prompt_tokens(self, messages: list[Message]) -> int:
        """The estimated size of a request holding ``messages``."""
        if 0 < self._counted_messages <= len(messages):
            return self._counted_tokens + estimate_tokens(messages[self._counted_messages :])
        return estimate_tokens(messages)

    def max_tokens(self, messages: list[Message]) -> int:
        """The ``max_tokens`` of the next request: the reply's limit, or the room left if less.

        Raises:
            LLMError: (``context_overflow``) fewer than :data:`MIN_REPLY_TOKENS` are left.
        """
        if self.length is None:
            return self.reply_tokens
        prompt = self.prompt_tokens(messages)
        room = self.length - prompt
        if room < MIN_REPLY_TOKENS:
            raise LLMError(
                f"the conversation no longer fits the model's context of {self.length} tokens "
                f"(about {prompt} tokens of prompt, {max(room, 0)} left for the reply)",
                context_overflow=True,
            )
        return min(self.reply_tokens, room)

    def answered(self, messages: list[Message], completion: Completion) -> None:
        """Take in the server's count of a request's prompt (when it reported one)."""
        if completion.prompt_tokens is not None:
            self._counted_messages = len(messages)
            self._counted_tokens = completion.prompt_tokens
