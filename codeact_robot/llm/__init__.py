"""LLM backends: an OpenAI-compatible server, the in-process vLLM engine, the scripted
reference expert, and replay of a recorded trajectory."""

from __future__ import annotations

from codeact_robot.config import LLMConfig
from codeact_robot.envs.errors import UsageError
from codeact_robot.llm.base import Completion, LLMBackend, LLMError


def make_backend(config: LLMConfig) -> LLMBackend:
    """The backend ``config.backend`` names, built from ``config``."""
    if config.backend == "openai":
        from codeact_robot.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    if config.backend == "vllm":
        from codeact_robot.llm.vllm_engine import VLLMEngineBackend

        return VLLMEngineBackend(config)
    if config.backend == "reference":
        from codeact_robot.llm.reference import ReferenceBackend

        return ReferenceBackend()
    if config.replay_path is None:
        raise UsageError("the replay backend needs a trajectory file (--replay FILE)")
    from codeact_robot.llm.replay import ReplayBackend

    return ReplayBackend(config.replay_path)


__all__ = ["Completion", "LLMBackend", "LLMError", "make_backend"]
