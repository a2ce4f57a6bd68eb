"""How vLLM serves each model, from ``configs/serve.yaml``: one reading for ``serve`` and the in-process engine."""

from __future__ import annotations

import yaml
from pydantic import BaseModel, ConfigDict, Field

from codeact_robot.configs import read_text

SERVE_FILE = "serve.yaml"


class ServeSettings(BaseModel):
    """vLLM's settings for one model.

    Attributes:
        served_model_name: the name the server answers to (None: the model's own).
        max_model_len: the context length, prompt and completion together.
        dtype: the weights' type (``bfloat16``, ``auto`` ...).
        enable_prefix_caching: reuse the conversation's earlier turns (it is append-only).
        chat_template: a template file of ``configs/`` (None: the one the model ships).
        gpu_memory_utilization: the share of the GPU's memory vLLM may take.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    served_model_name: str | None = None
    max_model_len: int = Field(gt=0)
    dtype: str
    enable_prefix_caching: bool
    chat_template: str | None = None
    gpu_memory_utilization: float = Field(gt=0.0, le=1.0)


def serve_settings(model: str) -> ServeSettings:
    """The settings ``configs/serve.yaml`` gives ``model``: its own entry over the ``default`` one."""
    data = yaml.safe_load(read_text(SERVE_FILE))
    return ServeSettings.model_validate({**data["default"], **data["models"].get(model, {})})
