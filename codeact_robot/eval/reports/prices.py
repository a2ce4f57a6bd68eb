"""What a model's tokens cost: a price table the user writes, in US dollars per million tokens.

No price ships as fact (prices change, and a self-served model costs what its GPU costs):
the table is the user's own file, ``prices.yaml`` in the user's configuration folder
(:func:`default_prices_path`), or the file ``report --prices`` names. Its shape, as in the
shipped empty example ``configs/prices.example.yaml``::

    models:
      xingyaoww/CodeActAgent-Mistral-7b-v0.1: {prompt: 0.20, completion: 0.20}

A model is named as the results store names it (``LLMConfig.label``). Reading the file
runs nothing from it; a bad file is one error line naming it and what is valid.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field

from codeact_robot.config import read_yaml, validated

PRICES_FILE = "prices.yaml"
PER_TOKENS = 1_000_000
MAX_PRICE = 1_000_000.0  # dollars per million tokens: a cost stays a finite number for any token count


class ModelPrice(BaseModel):
    """A model's prices in US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    prompt: float = Field(ge=0.0, le=MAX_PRICE)
    completion: float = Field(ge=0.0, le=MAX_PRICE)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Dollars for the tokens."""
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / PER_TOKENS


class PriceTable(BaseModel):
    """Prices by model name (an empty table: no costs are shown)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: dict[str, ModelPrice] = Field(default_factory=dict)


def default_prices_path() -> Path:
    """``prices.yaml`` in the user's configuration folder (``~/.config/codeact-robot`` on Linux)."""
    return platformdirs.user_config_path("codeact-robot") / PRICES_FILE


def load_prices(path: str | Path | None = None) -> PriceTable:
    """The price table in ``path``, else the user's own file if there is one, else an empty table.

    Raises:
        UsageError: ``path`` is given and missing, or a file is not a valid price table.
    """
    if path is None:
        path = default_prices_path()
        if not path.is_file():
            return PriceTable()
    return validated(PriceTable, read_yaml(path), str(path))
