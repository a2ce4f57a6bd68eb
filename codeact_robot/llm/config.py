"""Where an agent's turns come from: the model endpoint and its sampling settings."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codeact_robot.errors import UsageError

Backend = Literal["openai", "vllm", "reference", "replay"]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
MAX_CONTEXT = 100_000_000  # tokens: far beyond any model's context window
MaxTokens = Annotated[int, Field(gt=0, le=MAX_CONTEXT)]
MAX_SEED = 2**63 - 1
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
"""A sampling seed: a non-negative signed 64-bit integer, the widest range that every server and vLLM's
engine parse (OpenAI's API and vLLM take int64; a larger number is a 400 on one server, a stream error on another)."""


class LLMConfig(BaseModel):
    """The model behind an agent.

    ``openai`` is any OpenAI-compatible chat-completions endpoint (vLLM's server first);
    ``vllm`` the in-process vLLM engine; ``reference`` the scripted expert; ``replay``
    the assistant turns of a recorded trajectory (``replay_path``, ``replay_episode``).
    How vLLM holds a model (context length, dtype ...) is the model's, in ``configs/serve.yaml``.
    ``context_length`` is the model's context window where the server does not report it
    (vLLM's ``GET /models`` gives ``max_model_len``, which wins): replies are limited to the
    room left in it, and an episode whose conversation outgrows it ends ``context_overflow``.
    None: unknown, and only the server's refusal tells.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend = "reference"
    base_url: str = "http://localhost:8000/v1"
    model: str = "xingyaoww/CodeActAgent-Mistral-7b-v0.1"
    api_key_env: str | None = "OPENAI_API_KEY"  # None: send no key (see key_settings)
    temperature: Temperature = 0.0
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: MaxTokens = 1024
    seed: Seed | None = None
    context_length: int | None = Field(None, gt=0, le=MAX_CONTEXT)
    timeout_s: float = Field(120.0, gt=0, le=86_400)  # a day; far beyond it a socket timeout overflows
    max_retries: int = Field(3, ge=0, le=100)
    stream: bool = False
    replay_path: str | None = None
    replay_episode: int = Field(0, ge=0, le=2**63 - 1)

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            example = url.split("://")[-1] or "localhost:8000/v1"
            raise ValueError(f"{url!r} must start with http:// or https://, e.g. http://{example}")
        return url

    @property
    def api_key(self) -> str | None:
        """The key to send: the value of ``api_key_env`` (None when it names no variable, or an unset one)."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    @property
    def uses_model(self) -> bool:
        """Whether turns come from a language model (not the expert or a recording)."""
        return self.backend in ("openai", "vllm")

    @property
    def label(self) -> str:
        """Who writes the turns, as records, rows and learned skills name it: the model, or the backend."""
        return self.model if self.uses_model else self.backend


def key_settings(
    files: Iterable[tuple[str, Mapping[str, Any]]], key_flag: str | None, url_flag: str | None
) -> dict[str, str | None]:
    """Which key variable a model endpoint gets, when files someone may have handed you set it up.

    A file names where a model is and how it answers, never which of your secrets is sent
    there: the key's variable comes from the command line (``--api-key-env``) alone. A file
    that names ``api_key_env`` is refused unless the command line names the same variable;
    a file that names ``base_url`` (and no ``--llm`` URL overrides it) gets no key sent
    unless the command line names its variable.

    Args:
        files: (where it came from, the model settings as that file wrote them), for each file.
        key_flag: ``--api-key-env`` (None: not given).
        url_flag: the URL the command line gives (``--llm``; None: not given).

    Returns:
        The ``api_key_env`` override to apply last (empty: keep the default variable).

    Raises:
        UsageError: a file names a key variable the command line does not.
    """
    url_from_file = False
    for source, settings in files:
        named = settings.get("api_key_env")
        if named is not None and named != key_flag:
            raise UsageError(
                f"{source} names the API key variable {named!r}: a file cannot choose which of your secrets is "
                f"sent; give --api-key-env {named} to send it, or remove api_key_env from the file"
            )
        url_from_file = url_from_file or settings.get("base_url") is not None
    if key_flag is not None:
        return {"api_key_env": key_flag}
    if url_from_file and url_flag is None:
        return {"api_key_env": None}
    return {}
