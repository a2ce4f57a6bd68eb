"""Files shipped with the package: prompts, serving settings, run configurations, suites."""

from __future__ import annotations

from importlib import resources


def read_text(name: str) -> str:
    """Text of a shipped file, by its path under ``configs/`` (``"prompts/system.md"``)."""
    return resources.files(__name__).joinpath(name).read_text()
