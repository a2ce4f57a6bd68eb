"""Evaluation: suites of tasks x seeds x agents run many at a time into a crash-proof store; reading it.

- ``running/``: ``suite.py`` (the suite format, its validation and content hash),
  ``evaluation.py`` (one ``eval`` run: pre-flight in ``preflight.py``, the episodes still to
  run, the one writer of the store, Ctrl-C, the report at the end), ``scheduler.py`` and
  ``ray_backend.py`` (where episodes run: threads here, or Ray), ``runner.py`` (one episode,
  its retries and its result), ``pool.py`` (workers from one episode to the next),
  ``progress.py`` (the live display);
- ``results/``: ``store.py`` (the results store), ``rows.py`` (an episode's row, each column
  declared once), ``failures.py`` (why an episode failed, from structured facts),
  ``export.py`` (JSON Lines, CSV) and ``sft.py`` (fine-tuning conversations);
- ``reports/``: ``report.py`` (the numbers; ``stats.py``: Wilson intervals, McNemar, the
  paired bootstrap), rendered by ``terminal.py``, ``markdown.py`` and ``html.py`` through
  ``tables.py``, with ``plots.py`` (matplotlib);
- ``viewer/``: the episode viewer, a local web server and its page.

The model's response cache and the in-process engine's batching are model backends:
``codeact_robot/llm/cache.py`` and ``codeact_robot/llm/batching.py``.
"""
