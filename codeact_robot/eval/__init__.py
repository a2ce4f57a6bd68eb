"""Evaluation: suites of tasks x seeds x agents run many at a time into a crash-proof store; reading it.

Running a suite:

- ``suite.py``: the suite format, its validation and content hash;
- ``evaluation.py``: one ``eval`` run: pre-flight (``preflight.py``), the episodes still to
  run, the one writer of the store, Ctrl-C, the report at the end;
- ``scheduler.py`` / ``ray_backend.py``: where episodes run (threads here, or Ray);
- ``runner.py``: one episode of a suite, its retries and its result; ``pool.py`` hands
  workers from one episode to the next; ``cache.py`` and ``batching.py`` wrap the model;
- ``failures.py``: why an episode failed, from structured facts;
- ``rows.py``: an episode's row, each column declared once; ``store.py``: the results store;
- ``progress.py``: the live display.

Reading the store:

- ``report.py``: the numbers of a report (``stats.py``: Wilson intervals, McNemar, the
  paired bootstrap), rendered by ``report_terminal.py``, ``report_markdown.py`` and
  ``report_html.py`` through ``report_tables.py``, with ``plots.py`` (matplotlib);
  ``prices.py``: the user's price table, for dollars beside tokens;
- ``viewer/``: the episode viewer, a local web server and its page;
- ``export.py``: episodes as JSON Lines or CSV; ``sft.py``: fine-tuning conversations.
"""
