"""Language-model backends: an OpenAI-compatible server and the in-process vLLM engine.

A leaf of the architecture: a backend turns chat messages into a completion and knows
nothing of tasks, workers or skills. ``codeact_robot.agent.make_backend`` builds one
from an :class:`LLMConfig` (and the scripted expert or a replay, which live elsewhere).
"""

from codeact_robot.llm.base import Completion, LLMBackend, LLMError, Message
from codeact_robot.llm.config import LLMConfig

__all__ = ["Completion", "LLMBackend", "LLMConfig", "LLMError", "Message"]
