"""Run configuration: what to run, with which agent and model, under which limits.

Configurations are YAML files (see ``configs/``) validated here; every field has a
default, and the command line overrides them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeact_robot.envs.errors import UsageError
from codeact_robot.sandbox.limits import Limits

ActionMode = Literal["codeact", "json", "text"]
Backend = Literal["openai", "vllm", "reference", "replay"]


class EnvConfig(BaseModel):
    """The environment side: perception, rendering, limits, learned skills."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    perception: Literal["state", "vision"] = "state"
    colours: Literal["seen", "unseen", "all"] = "seen"
    camera_size: tuple[int, int] = (320, 240)
    renderer: Literal["auto", "tiny", "egl"] = "auto"
    limits: Limits = Field(default_factory=Limits)
    skill_library: str | None = None


class AgentConfig(BaseModel):
    """The agent side of the protocol."""

    model_config = ConfigDict(extra="forbid")

    mode: ActionMode = "codeact"
    max_turns: int | None = Field(None, gt=0)
    images: bool = False  # send the front camera image with each observation (multimodal models)


class LLMConfig(BaseModel):
    """Where the agent's turns come from."""

    model_config = ConfigDict(extra="forbid")

    backend: Backend = "reference"
    base_url: str = "http://localhost:8000/v1"
    model: str = "xingyaoww/CodeActAgent-Mistral-7b-v0.1"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(1024, gt=0)
    seed: int | None = None
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0)
    stream: bool = False
    max_model_len: int = Field(32768, gt=0)  # for the in-process vLLM engine
    replay_path: str | None = None


class RunConfig(BaseModel):
    """One episode: task, seed and the three parts above."""

    model_config = ConfigDict(extra="forbid")

    task: str = "StackBlocks"
    seed: int = Field(0, ge=0)
    env: EnvConfig = Field(default_factory=EnvConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)


def validated(model: type[BaseModel], data: dict[str, Any], source: str) -> Any:
    """``model(**data)`` with a one-line error naming every bad field.

    Raises:
        UsageError: listing each invalid field and why.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise UsageError(validation_message(f"invalid configuration in {source}", error)) from None


def validation_message(what: str, error: ValidationError) -> str:
    """``what: field: problem; field: problem`` from a pydantic error."""
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors())
    return f"{what}: {problems}"


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from a file, or a clear error."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"configuration file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise UsageError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a mapping of settings, not {type(data).__name__}")
    return data


def load_run_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """A run configuration from a YAML file (or the defaults), with overrides merged in.

    Args:
        path: YAML file, or None for the defaults.
        overrides: nested settings that win over the file (e.g. from the command line).
    """
    data = read_yaml(path) if path else {}
    merged = merge_settings(data, overrides or {})
    return validated(RunConfig, merged, str(path) if path else "the command line")


def packaged_config(name: str) -> str:
    """Text of a file shipped in ``configs/`` (prompts, serving settings)."""
    return resources.files("codeact_robot.configs").joinpath(name).read_text()


def merge_settings(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the settings of ``extra`` on top, nested mappings merged; None means unset."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict):
            inner = merged.get(key)
            merged[key] = merge_settings(inner if isinstance(inner, dict) else {}, value)
        elif value is not None:
            merged[key] = value
    return merged
