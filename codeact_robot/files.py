"""Files written whole or not at all: a reader never sees half of one, and a failed write leaves what was there."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A hidden file beside ``path`` to write; when the block ends without error it replaces ``path``.

    On an error (or an interrupt) the hidden file is removed and ``path`` stays as it was.
    The hidden file keeps ``path``'s suffix, so a writer that goes by it (a video encoder)
    still knows the format. Missing folders are created.

    Args:
        path: the file to write.

    Yields:
        The path to write to.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.stem}.part{path.suffix}")
    try:
        yield part
        os.replace(part, path)
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
