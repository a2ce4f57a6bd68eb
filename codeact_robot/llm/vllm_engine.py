"""The in-process vLLM engine, for batch evaluations on a GPU host (``pip install '.[vllm]'``).

The engine's settings for a model (context length, dtype, chat template ...) are the
ones ``codeact-robot serve`` uses, from ``configs/serve.yaml``; a request's sampling
parameters and the reading of an output are here once, for this backend and for the
evaluation's batching engine.
"""

from __future__ import annotations

import time
from typing import Any

from codeact_robot.configs import read_text
from codeact_robot.errors import UsageError
from codeact_robot.llm.base import Completion, LLMBackend, Message
from codeact_robot.llm.config import LLMConfig
from codeact_robot.llm.serving import serve_settings

INSTALL_HINT = (
    "the 'vllm' backend needs the vllm package, which runs on a GPU host with CUDA: "
    "pip install 'codeact-robot[vllm]' there, or point --llm at a server started with `codeact-robot serve`"
)


def sampling_params(config: LLMConfig, stop: list[str] | None) -> Any:
    """vLLM's sampling parameters for a request with ``config``'s settings."""
    import vllm

    return vllm.SamplingParams(
        temperature=config.temperature,
        top_p=config.top_p,
        max_tokens=config.max_tokens,
        stop=stop or None,
        seed=config.seed,
    )


def completion_of(output: Any, latency_s: float) -> Completion:
    """One of ``vllm.LLM.chat``'s outputs as a :class:`Completion`."""
    generated = output.outputs[0]
    return Completion(
        text=generated.text,
        prompt_tokens=len(output.prompt_token_ids or []),
        completion_tokens=len(generated.token_ids),
        latency_s=latency_s,
        finish_reason=generated.finish_reason,
    )


class VLLMEngineBackend(LLMBackend):
    """``vllm.LLM`` in this process, with the model's settings from ``configs/serve.yaml``; vLLM is imported only here.

    Args:
        config: the model and its sampling settings.

    Raises:
        UsageError: vLLM is not installed (saying how to get it).
    """

    name = "vllm"

    def __init__(self, config: LLMConfig) -> None:
        try:
            import vllm
        except ImportError:
            raise UsageError(INSTALL_HINT) from None
        self.config = config
        settings = serve_settings(config.model)
        self.engine = vllm.LLM(
            model=config.model,
            max_model_len=settings.max_model_len,
            dtype=settings.dtype,
            enable_prefix_caching=settings.enable_prefix_caching,
            gpu_memory_utilization=settings.gpu_memory_utilization,
            seed=config.seed or 0,
        )
        self.chat_template = read_text(settings.chat_template) if settings.chat_template else None

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """Generate the next turn with the engine (see :class:`LLMBackend`)."""
        start = time.perf_counter()
        (output,) = self.engine.chat(
            messages,
            sampling_params=sampling_params(self.config, stop),
            use_tqdm=False,
            chat_template=self.chat_template,
        )
        return completion_of(output, time.perf_counter() - start)
