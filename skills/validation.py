"""Argument checks: bad arguments raise before anything moves, and say what is valid."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from codeact_robot.envs.workspace import WORKSPACE


def as_name(value: Any, what: str = "name") -> str:
    """A plain ``str`` argument.

    Raises:
        TypeError: when ``value`` is not a string.
    """
    if type(value) is not str:
        raise TypeError(f"{what} must be a string such as 'red block', got {type(value).__name__} {value!r}")
    return value


def as_number(value: Any, what: str) -> float:
    """A finite real number.

    Raises:
        TypeError: when ``value`` is not a number.
        ValueError: when it is NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{what} must be finite, got {number}")
    return number


def as_vector(value: Any, what: str, sizes: Sequence[int] = (3,)) -> np.ndarray:
    """A fresh float array of one of the allowed ``sizes``.

    Raises:
        TypeError: for a string, a non-sequence or non-numeric entries.
        ValueError: for a wrong length, NaN or infinity.
    """
    expected = " or ".join(f"{n} numbers" for n in sizes)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{what} must be a list of {expected} (metres), got {type(value).__name__} {value!r}")
    if len(value) not in sizes:
        raise ValueError(f"{what} must have {expected}, got {len(value)}: {_short(value)}")
    coordinates = [as_number(v, f"each coordinate of {what}") for v in value]
    return np.array(coordinates, dtype=float)


def as_workspace_position(value: Any, what: str = "position", sizes: Sequence[int] = (3,)) -> np.ndarray:
    """A position inside the workspace (xy, or xyz when 3 are given).

    Raises:
        TypeError, ValueError: as :func:`as_vector`, or when outside the workspace.
    """
    position = as_vector(value, what, sizes)
    if not WORKSPACE.contains(position):
        raise ValueError(
            f"{what} {_short(position)} is outside the workspace ({WORKSPACE.describe()}); "
            "the robot cannot reach it with the gripper pointing down"
        )
    return position


def _short(value: Any) -> str:
    try:
        return "[" + ", ".join(f"{float(v):.3f}" for v in value) + "]"
    except (TypeError, ValueError):
        return repr(value)[:80]
