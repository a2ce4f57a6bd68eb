"""Error messages that say what was wrong and what is valid."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UsageError(ValueError):
    """Bad input from a user: the message says what was wrong and what is valid."""


class UnknownNameError(UsageError):
    """A name (task, colour, object, place ...) that does not exist."""


class SceneSamplingError(UsageError):
    """A scene that cannot be laid out on the table."""


def unknown_name_error(what: str, name: object, valid: Iterable[str], plural: str | None = None) -> UnknownNameError:
    """Build the error for an unknown name, listing the valid ones.

    Args:
        what: what the name should denote ("task", "colour", "object" ...).
        name: the name that was asked for.
        valid: every valid name.
        plural: plural of ``what`` (default: ``what`` + "s").

    Returns:
        An ``UnknownNameError`` whose message suggests the closest valid name.
    """
    valid = list(valid)
    message = f"no {what} named {name!r}"
    if isinstance(name, str):
        close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    listed = ", ".join(valid) if valid else "none"
    return UnknownNameError(f"{message}; {plural or what + 's'} are: {listed}")
