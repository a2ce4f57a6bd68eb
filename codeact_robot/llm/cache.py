"""The response cache: model answers kept in SQLite, so a re-run asks the model nothing new.

An answer is keyed by what determines it: the backend and model, the sampling settings
(temperature, top_p, max_tokens, seed), the stop sequences, the whole conversation and,
when sampling is random (temperature > 0), which sample of the episode it is (the
suite's ``repeat``), so repeats stay independent samples while a temperature-0 suite
re-runs from the cache alone. ``DIR/llm_cache.sqlite`` holds it, apart from the results.

``max_tokens`` in the key is the configured limit: a reply the backend limited to the room
left in the context window is keyed by its conversation, which holds what decided that room.

A cache file is data another person may hand you: an entry that does not parse as a
completion is treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from codeact_robot.llm.base import Completion, LLMBackend, Message
from codeact_robot.llm.config import LLMConfig

CACHE_FILE = "llm_cache.sqlite"


def cache_key(config: LLMConfig, messages: list[Message], stop: list[str] | None, sample: int) -> str:
    """SHA-256 of everything that determines the model's answer."""
    identity = {
        "backend": config.backend,
        "model": config.model,
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_tokens": config.max_tokens,
        "seed": config.seed,
        "stop": stop or [],
        "sample": sample if config.temperature > 0 else 0,
        "messages": messages,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ResponseCache:
    """Completions by key, in one SQLite file; safe to use from many threads.

    Args:
        folder: the evaluation folder (``folder/llm_cache.sqlite``).
    """

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / CACHE_FILE
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL)")

    def get(self, key: str) -> Completion | None:
        """The stored completion, or None (counted as a hit or a miss)."""
        with self._lock:
            row = self._db.execute("SELECT completion FROM responses WHERE key = ?", (key,)).fetchone()
            completion = _parsed(row[0]) if row else None
            if completion is None:
                self.misses += 1
            else:
                self.hits += 1
            return completion

    def put(self, key: str, completion: Completion) -> None:
        """Store a completion (its latency is not kept: a cached answer takes none)."""
        data = {
            "text": completion.text,
            "prompt_tokens": completion.prompt_tokens,
            "completion_tokens": completion.completion_tokens,
            "finish_reason": completion.finish_reason,
        }
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, completion) VALUES (?, ?)", (key, json.dumps(data))
            )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class CachedBackend(LLMBackend):
    """Answers from the cache when it has them, else from ``inner`` (and stores the answer).

    Args:
        inner: the backend that asks the model.
        cache: where answers are kept.
        config: the model settings the key is made of.
        sample: which sample of the episode this is (the suite's repeat).
    """

    def __init__(self, inner: LLMBackend, cache: ResponseCache, config: LLMConfig, sample: int) -> None:
        self.inner = inner
        self.cache = cache
        self.config = config
        self.sample = sample
        self.name = inner.name

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """The cached answer, or the model's (see :class:`LLMBackend`)."""
        key = cache_key(self.config, messages, stop, self.sample)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        completion = self.inner.complete(messages, stop)
        self.cache.put(key, completion)
        return completion

    def close(self) -> None:
        """Close the inner backend (the cache stays open for other episodes)."""
        self.inner.close()


def _parsed(text: str) -> Completion | None:
    try:
        data = json.loads(text)
    except (TypeError, json.JSONDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        return None
    tokens = [data.get("prompt_tokens"), data.get("completion_tokens")]
    if not all(t is None or (isinstance(t, int) and t >= 0) for t in tokens):
        return None
    finish = data.get("finish_reason")
    return Completion(
        text=data["text"],
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        finish_reason=finish if isinstance(finish, str) else None,
    )
