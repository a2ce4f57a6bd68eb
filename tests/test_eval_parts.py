"""The evaluation's parts on their own: progress display, response cache keys, the batching engine, the scheduler."""

from __future__ import annotations

import io
import queue
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from codeact_robot.agent.trajectory import TurnRecord
from codeact_robot.eval.results.rows import EpisodeKey
from codeact_robot.eval.running.pool import WorkerPool
from codeact_robot.eval.running.progress import Progress
from codeact_robot.eval.running.runner import Retries
from codeact_robot.eval.running.scheduler import LocalScheduler
from codeact_robot.llm import LLMConfig, LLMError
from codeact_robot.llm.base import Completion, LLMBackend
from codeact_robot.llm.batching import BatchingEngine
from codeact_robot.llm.cache import CachedBackend, ResponseCache, cache_key

MESSAGES = [{"role": "system", "content": "robot"}, {"role": "user", "content": "stack the blocks"}]
JOB = EpisodeKey("a", "PickPlace", 0, 0)


def test_plain_progress_lines_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(Console(file=out, width=300), total=4, agents=["a", "b"], every_s=0.0)
    with progress:
        progress.turn(JOB, TurnRecord(turn=1, kind="action", assistant="", completion_tokens=50))
        progress.finished("a", "success", True)
        progress.finished("b", "message", False)
        progress.finished("b", "error", False)
        progress.refresh(in_flight=1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2  # one at the refresh, one at the end
    assert lines[0].startswith("3/4 done, 1 in flight, 1 error(s); success: a 1/1, b 0/1; ")
    assert "episodes/min" in lines[0] and "tokens/s" in lines[0] and "ETA 00:" in lines[0]


def test_a_live_display_on_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(Console(file=out, force_terminal=True, width=120, highlight=False), total=2, agents=["a"])
    with progress:
        progress.finished("a", "success", True)
        progress.refresh(in_flight=1)
    shown = out.getvalue()
    assert "1/2" in shown and "in flight" in shown and "100%" in shown and "\x1b[" in shown


def test_the_cache_key_follows_everything_that_changes_an_answer() -> None:
    config = LLMConfig(backend="openai", model="m")
    key = cache_key(config, MESSAGES, ["</execute>"], sample=0)
    assert cache_key(config, MESSAGES, ["</execute>"], sample=3) == key  # temperature 0: one answer
    assert cache_key(config.model_copy(update={"base_url": "http://x/v1"}), MESSAGES, ["</execute>"], 0) == key
    for changed in (
        cache_key(config.model_copy(update={"model": "n"}), MESSAGES, ["</execute>"], 0),
        cache_key(config.model_copy(update={"max_tokens": 5}), MESSAGES, ["</execute>"], 0),
        cache_key(config, [*MESSAGES, {"role": "assistant", "content": "x"}], ["</execute>"], 0),
        cache_key(config, MESSAGES, None, 0),
    ):
        assert changed != key
    sampled = config.model_copy(update={"temperature": 0.8})
    assert cache_key(sampled, MESSAGES, None, 0) != cache_key(sampled, MESSAGES, None, 1)  # repeats stay samples


class Counting(LLMBackend):
    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, messages: list, stop: list[str] | None = None) -> Completion:
        self.calls += 1
        return Completion(text=f"answer {self.calls}", prompt_tokens=10, completion_tokens=2, latency_s=1.0)


def test_cached_answers_survive_a_restart_and_corrupt_entries_are_misses(tmp_path: Path) -> None:
    config = LLMConfig(backend="openai", model="m")
    inner = Counting()
    cache = ResponseCache(tmp_path)
    backend = CachedBackend(inner, cache, config, sample=0)
    assert backend.complete(MESSAGES).text == "answer 1"
    cache.close()
    cache = ResponseCache(tmp_path)
    backend = CachedBackend(inner, cache, config, sample=0)
    again = backend.complete(MESSAGES)
    assert again == Completion(text="answer 1", prompt_tokens=10, completion_tokens=2, finish_reason=None)
    assert inner.calls == 1 and (cache.hits, cache.misses) == (1, 0)
    cache._db.execute("UPDATE responses SET completion = ?", ('{"text": 5}',))
    assert backend.complete(MESSAGES).text == "answer 2" and cache.misses == 1
    cache.close()


class FailingEngine:
    def chat(self, conversations: list, **kwargs: Any) -> list:
        raise RuntimeError("CUDA out of memory")


def test_an_engine_failure_reaches_every_request_of_its_batch() -> None:
    engine = BatchingEngine(FailingEngine(), None, sampling_params=lambda c, s: None)
    with pytest.raises(LLMError, match="the vLLM engine failed: CUDA out of memory"):
        engine.complete(LLMConfig(backend="vllm"), MESSAGES, None)
    engine.close()


class Answering:
    """Stands in for ``vllm.LLM``: answers each batch with ``outputs(conversations)``, or waits for ``release``."""

    def __init__(self, outputs: Any, release: threading.Event | None = None) -> None:
        self.outputs = outputs
        self.release = release
        self.calls = 0

    def chat(self, conversations: list, **kwargs: Any) -> list:
        self.calls += 1
        if self.release is not None:
            self.release.wait()
        return self.outputs(conversations)


def generated(text: str) -> Any:
    return SimpleNamespace(
        outputs=[SimpleNamespace(text=text, token_ids=[1, 2], finish_reason="stop")], prompt_token_ids=[1]
    )


def answers(engine: BatchingEngine, config: LLMConfig, requests: int) -> list[str]:
    """What ``requests`` episodes asking at once get: the text, or the error; none may wait for ever."""
    got: list[str] = []

    def ask() -> None:
        try:
            got.append(engine.complete(config, MESSAGES, None).text)
        except LLMError as error:
            got.append(f"LLMError: {error}")

    threads = [threading.Thread(target=ask, daemon=True) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)  # far beyond what any answer here takes
    assert not any(thread.is_alive() for thread in threads), "a request was never answered"
    return sorted(got)


def test_an_engine_answering_fewer_outputs_than_requests_fails_the_batch_and_goes_on() -> None:
    engine = BatchingEngine(
        Answering(lambda c: [generated("one")]), None, sampling_params=lambda c, s: None, window_s=0.2
    )
    failed = answers(engine, LLMConfig(backend="vllm"), 3)
    assert failed == ["LLMError: the vLLM engine failed: it answered 3 requests with 1 output(s)"] * 3
    engine.engine.outputs = lambda c: [generated("fine") for _ in c]
    assert answers(engine, LLMConfig(backend="vllm"), 1) == ["fine"]  # the batching thread lives on
    engine.close()


def test_an_output_that_cannot_be_read_fails_its_batch_and_the_next_batch_is_answered() -> None:
    engine = BatchingEngine(Answering(lambda c: [object() for _ in c]), None, sampling_params=lambda c, s: None)
    (failed,) = answers(engine, LLMConfig(backend="vllm"), 1)
    assert failed.startswith("LLMError: the vLLM engine failed: ") and "has no attribute 'outputs'" in failed
    engine.engine.outputs = lambda c: [generated("fine") for _ in c]
    assert answers(engine, LLMConfig(backend="vllm"), 2) == ["fine", "fine"]
    engine.close()


def test_a_request_the_engine_does_not_answer_in_time_fails_with_the_models_timeout() -> None:
    release = threading.Event()
    engine = BatchingEngine(Answering(lambda c: [generated("late") for _ in c], release), None, lambda c, s: None)
    (failed,) = answers(engine, LLMConfig(backend="vllm", timeout_s=0.2), 1)
    assert failed == "LLMError: the vLLM engine did not answer within 0.2 s"
    release.set()
    engine.close()


def test_backoff_doubles_up_to_its_cap() -> None:
    retries = Retries(attempts=5, backoff_s=2.0, max_backoff_s=5.0)
    assert [retries.wait_s(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 5.0, 5.0]


class Instant:
    """Stands in for the episode runner: every episode ends at once; counts those started."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.pool = WorkerPool(gate=None, max_idle=0)
        self.started = 0
        self._lock = threading.Lock()

    def run(self, job: EpisodeKey) -> EpisodeKey:
        with self._lock:
            self.started += 1
        return job


@pytest.mark.parametrize("drain", [False, True], ids=["to-the-end", "drained"])
def test_the_scheduler_is_finished_only_when_every_started_episode_came_back(
    monkeypatch: pytest.MonkeyPatch, drain: bool
) -> None:
    taken = queue.Queue.get_nowait

    def slowly_taken(self: queue.Queue) -> Any:  # widens the moment between taking a job and counting it
        item = taken(self)
        time.sleep(0.002)
        return item

    monkeypatch.setattr(queue.Queue, "get_nowait", slowly_taken)
    lost = 0
    for _ in range(20):
        runner = Instant()
        scheduler = LocalScheduler(runner, max_in_flight=1)  # type: ignore[arg-type]
        scheduler.start([EpisodeKey("a", "PickPlace", seed, 0) for seed in range(3)])
        handed_back = 0
        while not scheduler.finished:  # as the evaluation's writer loop does
            if scheduler.next_result(0.5) is not None:
                handed_back += 1
                if drain:
                    scheduler.drain()
        for thread in threading.enumerate():
            if thread.name.startswith("episode-"):
                thread.join(timeout=10)
        lost += runner.started - handed_back
    assert lost == 0  # an episode started but never handed back would never be stored
