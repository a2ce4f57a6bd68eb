"""Building the backend that writes an agent's turns, from its :class:`LLMConfig`."""

from __future__ import annotations

from codeact_robot.agent.replay import ReplayBackend
from codeact_robot.envs.tasks import TaskInstance
from codeact_robot.errors import UsageError
from codeact_robot.expert import ExpertBackend
from codeact_robot.llm import LLMBackend, LLMConfig
from codeact_robot.skills.registry import DEFAULT_API


def make_backend(
    config: LLMConfig, instance: TaskInstance | None = None, mode: str = "codeact", api: str = DEFAULT_API
) -> LLMBackend:
    """The backend ``config.backend`` names.

    Args:
        config: which backend, and its endpoint and sampling settings.
        instance: the episode, for the scripted expert (which solves that instance).
        mode: the action mode the backend must write.
        api: the API tier the expert writes its program against.

    Raises:
        UsageError: a backend that cannot work with these arguments (the expert without
            an instance or in a mode other than codeact; replay without a file).
    """
    if config.backend == "openai":
        from codeact_robot.llm.openai_backend import OpenAIBackend

        return OpenAIBackend(config)
    if config.backend == "vllm":
        from codeact_robot.llm.vllm_engine import VLLMEngineBackend

        return VLLMEngineBackend(config)
    if config.backend == "reference":
        if mode != "codeact":
            raise UsageError(f"the reference agent writes programs; use the codeact action mode, not {mode}")
        if instance is None:
            raise UsageError("the reference agent needs the episode it solves")
        return ExpertBackend(instance, api)
    if config.replay_path is None:
        raise UsageError("the replay backend needs a trajectory file (--replay FILE)")
    return ReplayBackend(config.replay_path, config.replay_episode)
