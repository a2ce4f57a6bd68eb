"""Where an agent's turns come from: the model endpoint and its sampling settings."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Backend = Literal["openai", "vllm", "reference", "replay"]
Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
MaxTokens = Annotated[int, Field(gt=0)]


class LLMConfig(BaseModel):
    """The model behind an agent.

    ``openai`` is any OpenAI-compatible chat-completions endpoint (vLLM's server first);
    ``vllm`` the in-process vLLM engine; ``reference`` the scripted expert; ``replay``
    the assistant turns of a recorded trajectory (``replay_path``, ``replay_episode``).
    How vLLM holds a model (context length, dtype ...) is the model's, in ``configs/serve.yaml``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Backend = "reference"
    base_url: str = "http://localhost:8000/v1"
    model: str = "xingyaoww/CodeActAgent-Mistral-7b-v0.1"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: Temperature = 0.0
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: MaxTokens = 1024
    seed: int | None = None
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0)
    stream: bool = False
    replay_path: str | None = None
    replay_episode: int = Field(0, ge=0)

    @field_validator("base_url")
    @classmethod
    def _web_address(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            example = url.split("://")[-1] or "localhost:8000/v1"
            raise ValueError(f"{url!r} must start with http:// or https://, e.g. http://{example}")
        return url

    @property
    def uses_model(self) -> bool:
        """Whether turns come from a language model (not the expert or a recording)."""
        return self.backend in ("openai", "vllm")

    @property
    def label(self) -> str:
        """Who writes the turns, as records, rows and learned skills name it: the model, or the backend."""
        return self.model if self.uses_model else self.backend
