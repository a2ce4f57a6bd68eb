"""Evaluation: suites of tasks x seeds x agents, run many at a time, into a crash-proof store.

- ``suite.py``: the suite format, its validation and content hash;
- ``evaluation.py``: one ``eval`` run: pre-flight (``preflight.py``), the episodes still to
  run, the one writer of the store, Ctrl-C, the summary (``summary.py``);
- ``scheduler.py`` / ``ray_backend.py``: where episodes run (threads here, or Ray);
- ``episode.py``: one episode of a suite, its retries and its row; ``pool.py`` hands
  workers from one episode to the next; ``cache.py`` and ``batching.py`` wrap the model;
- ``failures.py``: why an episode failed, from structured facts;
- ``store.py``: the results store that reports, the episode viewer and ``export.py`` read;
- ``progress.py``: the live display.
"""
