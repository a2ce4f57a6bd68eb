"""Printed output of a code action, kept up to a cap from the first character on."""

from __future__ import annotations

import io
import re
from typing import Any

from codeact_robot.sandbox.refusals import RefusedOperation

KEEP_FACTOR = 4  # keep a little more than is shown, so the display can cut at a line end
_SURROGATE = re.compile("[\ud800-\udfff]")


def plain_text(text: str) -> str:
    """``text`` as valid Unicode: each lone surrogate (which UTF-8 and JSON cannot carry)
    becomes U+FFFD, the replacement character; a surrogate pair becomes its character."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class CappedOutput(io.TextIOBase):
    """A text sink that stores at most ``limit`` characters and counts the rest.

    Args:
        limit: characters shown to the model.
    """

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self._parts: list[str] = []
        self._kept = 0
        self.total = 0

    def write(self, text: str) -> int:
        """Store what fits under the cap; count everything."""
        text = str(text)
        self.total += len(text)
        room = self.limit * KEEP_FACTOR - self._kept
        if room > 0:
            piece = text[:room]
            self._parts.append(piece)
            self._kept += len(piece)
        return len(text)

    def writable(self) -> bool:
        return True

    @property
    def text(self) -> str:
        """Everything kept so far."""
        return "".join(self._parts)

    def shown(self) -> tuple[str, int]:
        """The text for the model (at most ``limit`` characters) and how many characters were cut."""
        text = self.text
        if self.total <= self.limit:
            return text, 0
        return text[: self.limit], self.total - self.limit


class Printer:
    """What RestrictedPython's rewritten ``print`` calls (``_print._call_print``).

    Args:
        sink: the action's output.
    """

    def __init__(self, sink: CappedOutput) -> None:
        self._sink = sink

    def _call_print(
        self, *objects: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
    ) -> None:
        if file is not None:
            raise RefusedOperation("print(file=...) is not available in the sandbox")
        sep = " " if sep is None else sep
        end = "\n" if end is None else end
        if type(sep) is not str or type(end) is not str:
            raise TypeError("sep and end must be strings")
        self._sink.write(sep.join(str(o) for o in objects) + end)

    def __call__(self) -> str:
        """The value of the name ``printed``: what this action printed so far."""
        return self._sink.text
