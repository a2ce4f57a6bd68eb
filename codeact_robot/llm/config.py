"""Where an agent's turns come from: the model endpoint and its sampling settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Backend = Literal["openai", "vllm", "reference", "replay"]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
MaxTokens = Annotated[int, Field(gt=0)]
Seed = Annotated[int, Field(ge=0, le=2**63 - 1)]
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
    api_key_env: str = "OPENAI_API_KEY"
    temperature: Temperature = 0.0
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: MaxTokens = 1024
    seed: Seed | None = None
    context_length: int | None = Field(None, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0)
    stream: bool = False
    replay_path: str | None = None
    replay_episode: int = Field(0, ge=0)

    @property
    def uses_model(self) -> bool:
        """Whether turns come from a language model (not the expert or a recording)."""
        return self.backend in ("openai", "vllm")

    @property
    def label(self) -> str:
        """Who writes the turns, as records, rows and learned skills name it: the model, or the backend."""
        return self.model if self.uses_model else self.backend
