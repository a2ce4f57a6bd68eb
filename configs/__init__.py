"""Files shipped with the package: prompts, serving settings, run configurations, suites."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

PromptStyle = Literal["full", "compact"]
"""The shipped system prompts: ``full`` (every function's whole docstring; about 4,200 tokens at three
characters a token) or ``compact`` (one line per function; for models with a 4k context)."""
DEFAULT_PROMPT: PromptStyle = "full"
SYSTEM_PROMPTS: dict[str, str] = {"full": "prompts/system.md", "compact": "prompts/system_compact.md"}


def read_text(name: str) -> str:
    """Text of a shipped file, by its path under ``configs/`` (``"prompts/system.md"``)."""
    return resources.files(__name__).joinpath(name).read_text()


def path_of(name: str) -> Path:
    """The path of a shipped file, for programs that read it themselves (``vllm serve``'s chat template)."""
    return Path(str(resources.files(__name__).joinpath(name)))
