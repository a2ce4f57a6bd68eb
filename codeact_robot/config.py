"""Run configuration: what to run, with which agent and model, in which environment.

A run configuration is YAML (see ``configs/``) validated here; every field has a
default (written once, in the model that owns it), and the command line overrides them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeact_robot.configs import DEFAULT_PROMPT, PromptStyle
from codeact_robot.errors import UsageError, settings_error
from codeact_robot.llm.config import LLMConfig, Seed
from codeact_robot.worker.config import EnvConfig

ActionMode = Literal["codeact", "json", "text"]


class AgentConfig(BaseModel):
    """The agent side of the protocol."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: ActionMode = "codeact"
    images: bool = False  # send the front camera image with each observation (multimodal models)
    prompt: PromptStyle = DEFAULT_PROMPT  # the system prompt: full, or compact for small contexts


class RunConfig(BaseModel):
    """One episode: task, seed, the environment, the agent and its model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str = "StackBlocks"
    seed: Seed = 0
    env: EnvConfig = Field(default_factory=EnvConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)


def validated(model: type[BaseModel], data: dict[str, Any], source: str) -> Any:
    """``model(**data)`` with a one-line error naming every bad field.

    Raises:
        UsageError: naming ``source``, each invalid field and what is valid.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise settings_error(source, model, error) from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from a file, or a one-line error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"configuration file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a YAML file (not UTF-8 text)") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise UsageError(f"{path} is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a mapping of settings, not {type(data).__name__}")
    return data


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
