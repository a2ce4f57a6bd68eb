"""The in-process vLLM engine, for batch evaluations on a GPU host (``pip install '.[vllm]'``)."""

from __future__ import annotations

import time
from typing import Any

from codeact_robot.configs import read_text
from codeact_robot.errors import UsageError
from codeact_robot.llm.base import Completion, LLMBackend, Message
from codeact_robot.llm.config import LLMConfig

INSTALL_HINT = (
    "the 'vllm' backend needs the vllm package, which runs on a GPU host with CUDA: "
    "pip install 'codeact-robot[vllm]' there, or point --llm at a server started with `codeact-robot serve`"
)


class VLLMEngineBackend(LLMBackend):
    """``vllm.LLM`` in this process, prefix caching on; vLLM is imported only here.

    Args:
        config: model, context length and sampling settings.
    """

    name = "vllm"

    def __init__(self, config: LLMConfig) -> None:
        try:
            import vllm
        except ImportError:
            raise UsageError(INSTALL_HINT) from None
        self.config = config
        self._vllm: Any = vllm
        self.engine = vllm.LLM(
            model=config.model,
            max_model_len=config.max_model_len,
            enable_prefix_caching=True,
            seed=config.seed or 0,
        )
        self.chat_template = read_text("chatml.jinja")

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """Generate the next turn with the engine (see :class:`LLMBackend`)."""
        c = self.config
        params = self._vllm.SamplingParams(
            temperature=c.temperature, top_p=c.top_p, max_tokens=c.max_tokens, stop=stop or None, seed=c.seed
        )
        start = time.perf_counter()
        output = self.engine.chat(messages, sampling_params=params, use_tqdm=False, chat_template=self.chat_template)[0]
        generated = output.outputs[0]
        return Completion(
            text=generated.text,
            prompt_tokens=len(output.prompt_token_ids or []),
            completion_tokens=len(generated.token_ids),
            latency_s=time.perf_counter() - start,
            finish_reason=generated.finish_reason,
        )
