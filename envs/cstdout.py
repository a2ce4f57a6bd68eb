"""Capture what C extensions print to the process's standard output and error."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
from collections.abc import Iterator

_LIBC = ctypes.CDLL(None)


@contextlib.contextmanager
def captured_c_output() -> Iterator[list[str]]:
    """Capture what C code writes to file descriptors 1 and 2 (PyBullet prints there).

    Yields:
        A list that holds the captured text once the block has exited.
    """
    captured: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    with tempfile.TemporaryFile() as sink:
        saved = [os.dup(1), os.dup(2)]
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            _LIBC.fflush(None)  # C stdio buffers what it prints when stdout is not a terminal
            for fd, original in zip((1, 2), saved):
                os.dup2(original, fd)
                os.close(original)
            sink.seek(0)
            captured.append(sink.read().decode(errors="replace"))
