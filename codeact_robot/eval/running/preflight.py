"""The output folder's check before the first episode runs, failing with one line that says what to do.

The folder holds no results of another suite (by content hash), unless ``--new`` (start
a fresh store, keeping the old one under another name) or ``--force`` (add this suite's
results beside the other's). The model servers are checked as ``run`` and ``chat``
check theirs (:func:`~codeact_robot.llm.model_server.check_model_servers`).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from codeact_robot.errors import UsageError
from codeact_robot.eval.results.store import STORE_FILE, ResultsStore
from codeact_robot.eval.running.suite import Suite


def prepare_folder(out: Path, suite: Suite, new: bool, force: bool) -> str | None:
    """Make sure ``out`` may receive this suite's results.

    Args:
        out: the evaluation folder.
        suite: the suite to run.
        new: move a store of other suites aside and start a fresh one.
        force: add this suite's results to a store that holds other suites'.

    Returns:
        The name the old store was kept under (with ``new``), else None.

    Raises:
        UsageError: the folder holds results of another suite and neither ``new`` nor
            ``force`` says what to do.
    """
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; give a folder (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out} cannot be created: {error.strerror or error}") from None
    path = out / STORE_FILE
    if not path.is_file():
        return None
    try:
        store = ResultsStore(out, read_only=True)
    except UsageError as problem:  # damaged, or another program's file
        if new:
            return _set_aside(path, is_store=False)
        raise UsageError(f"{problem}; use --new to keep it under another name and start a fresh store there") from None
    try:
        suites = store.suites()
    finally:
        store.close()
    others = [s for s in suites if s["suite_hash"] != suite.hash]
    if new and suites:
        return _set_aside(path)
    if not others or force or any(s["suite_hash"] == suite.hash for s in suites):
        return None
    held = ", ".join(f"{s['name']!r} ({s['suite_hash']})" for s in others)
    raise UsageError(
        f"{out} holds results of another suite: {held}, not of {suite.name!r} ({suite.hash}); "
        f"use --new to start a fresh store there (keeping the old one as results-DATE.sqlite) "
        "or --force to add this suite's results beside the other's, or choose another --out folder"
    )


def _set_aside(path: Path, is_store: bool = True) -> str:
    """Move a store aside whole (a store's write-ahead log folded in first); returns the new name."""
    if is_store:
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()
    kept = path.with_name(f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix}")
    path.rename(kept)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return kept.name
