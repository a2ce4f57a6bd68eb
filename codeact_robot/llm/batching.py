"""One in-process vLLM engine shared by every episode in flight, answering them in batches.

Each episode's backend puts its request on a queue and waits; the engine's thread takes
every request waiting (after a short window for stragglers), makes one ``engine.chat``
call for all of them, and hands each episode its answer. While a batch runs, the next
requests queue up and form the next batch, so the engine is never called once per
episode. vLLM itself is imported only to build the real engine.

Every request is answered: its completion, or an :class:`LLMError` when the engine
failed on its batch (raised, or answered with outputs that do not match the requests),
or when no answer came within the model's ``timeout_s``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from codeact_robot.llm.base import Completion, LLMBackend, LLMError, Message
from codeact_robot.llm.config import LLMConfig
from codeact_robot.llm.vllm_engine import VLLMEngineBackend, completion_of, sampling_params

SamplingParams = Callable[[LLMConfig, "list[str] | None"], Any]


@dataclass
class _Request:
    messages: list[Message]
    params: Any
    future: Future[Completion] = field(default_factory=Future)


class BatchingEngine:
    """A model engine (``vllm.LLM`` or anything with its ``chat``) behind a batching queue.

    Args:
        engine: has ``chat(conversations, sampling_params=[...], use_tqdm=False,
            chat_template=...)`` returning one output per conversation.
        chat_template: the template passed to every call.
        sampling_params: builds a request's sampling parameters from its model settings.
        window_s: how long a batch waits for more requests after its first.
        max_batch: the most requests in one call.
    """

    def __init__(
        self,
        engine: Any,
        chat_template: str | None,
        sampling_params: SamplingParams = sampling_params,
        window_s: float = 0.01,
        max_batch: int = 256,
    ) -> None:
        self.engine = engine
        self.chat_template = chat_template
        self.sampling_params = sampling_params
        self.window_s = window_s
        self.max_batch = max_batch
        self.batch_sizes: list[int] = []  # one entry per engine call
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._serve, name="llm-batcher", daemon=True)
        self._thread.start()

    def complete(self, config: LLMConfig, messages: list[Message], stop: list[str] | None) -> Completion:
        """Queue a request and wait for its answer, at most ``config.timeout_s``.

        Raises:
            LLMError: the engine failed on the batch this request was in, or did not
                answer in time (transient: asking again may succeed).
        """
        request = _Request(messages, self.sampling_params(config, stop))
        self._queue.put(request)
        try:
            return request.future.result(timeout=config.timeout_s)
        except FutureTimeout:
            raise LLMError(f"the vLLM engine did not answer within {config.timeout_s:g} s", transient=True) from None

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            deadline = time.monotonic() + self.window_s
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(item)
            self._answer(batch)

    def _answer(self, batch: list[_Request]) -> None:
        """Settle every request of the batch: its completion, or the error that stopped the batch."""
        self.batch_sizes.append(len(batch))
        failure = LLMError("the vLLM engine stopped before it answered")
        try:
            start = time.perf_counter()
            outputs = list(
                self.engine.chat(
                    [r.messages for r in batch],
                    sampling_params=[r.params for r in batch],
                    use_tqdm=False,
                    chat_template=self.chat_template,
                )
            )
            latency = time.perf_counter() - start
            if len(outputs) != len(batch):
                raise ValueError(f"it answered {len(batch)} requests with {len(outputs)} output(s)")
            for request, output in zip(batch, outputs):
                request.future.set_result(completion_of(output, latency))
        except Exception as error:  # the engine's own failure: every request not yet answered gets it
            failure = LLMError(f"the vLLM engine failed: {error}")
        finally:
            for request in batch:
                if not request.future.done():
                    request.future.set_exception(failure)

    def close(self) -> None:
        """Stop the batching thread once the queued requests are answered."""
        self._queue.put(None)
        self._thread.join(timeout=60)


class BatchedBackend(LLMBackend):
    """An episode's view of a shared :class:`BatchingEngine`.

    Args:
        engine: the shared engine.
        config: this agent's model and sampling settings.
    """

    name = "vllm"

    def __init__(self, engine: BatchingEngine, config: LLMConfig) -> None:
        self.engine = engine
        self.config = config

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """The next turn, answered in a batch with the other episodes' (see :class:`LLMBackend`)."""
        return self.engine.complete(self.config, messages, stop)


class SharedEngines:
    """One batching engine per model, made when an episode first needs it.

    Args:
        make: builds the engine for a model's settings (default: vLLM in this process).
    """

    def __init__(self, make: Callable[[LLMConfig], BatchingEngine] | None = None) -> None:
        self._make = make or _vllm_engine
        self._engines: dict[str, BatchingEngine] = {}
        self._lock = threading.Lock()

    def load(self, configs: list[LLMConfig]) -> None:
        """Make the engines of these models now (a model that cannot load fails before any episode).

        Raises:
            UsageError: vLLM is not installed (saying how to get it).
        """
        for config in configs:
            self._engine(config)

    def backend(self, config: LLMConfig) -> BatchedBackend:
        """A backend for one episode, sharing the engine of ``config.model``."""
        return BatchedBackend(self._engine(config), config)

    def _engine(self, config: LLMConfig) -> BatchingEngine:
        with self._lock:
            engine = self._engines.get(config.model)
            if engine is None:
                engine = self._engines[config.model] = self._make(config)
            return engine

    def close(self) -> None:
        """Stop every engine's batching thread."""
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.close()


def _vllm_engine(config: LLMConfig) -> BatchingEngine:
    loaded = VLLMEngineBackend(config)
    return BatchingEngine(loaded.engine, loaded.chat_template)
