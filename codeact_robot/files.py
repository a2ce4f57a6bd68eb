"""Files written whole or not at all: a reader never sees half of one, and a failed write leaves what was there."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A hidden file beside ``path`` to write; when the block ends without error it replaces ``path``.

    On an error (or an interrupt) the hidden file is removed and ``path`` stays as it was.
    The hidden file has a fresh random name and is created here, exclusively: a link someone
    placed beside ``path`` is never written through. It keeps ``path``'s suffix, so a writer
    that goes by it (a video encoder) still knows the format. Missing folders are created.

    Args:
        path: the file to write.

    Yields:
        The path to write to.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.fchmod(handle, 0o644)  # as a file written in place would be, not mkstemp's 0600
    os.close(handle)
    part = Path(name)
    try:
        yield part
        os.replace(part, path)
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
