"""Copies of values crossing between sandboxed code and host skills.

Skills receive copies and return fresh plain values (numbers, strings, tuples, lists,
dicts, small numpy arrays), so nothing a program gets back leads to a host object,
and nothing a skill keeps can be changed by the program later.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from codeact_robot.sandbox.arrays import SAFE_KINDS

MAX_DEPTH = 16


def _plain(value: Any, depth: int, direction: str) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"value nested deeper than {MAX_DEPTH} levels cannot be passed {direction}")
    kind = type(value)
    if value is None or kind in (bool, int, float, str, complex):
        return value
    if isinstance(value, np.generic):
        return _plain(value.item(), depth + 1, direction)
    if kind is np.ndarray:
        if value.dtype.kind in SAFE_KINDS:
            return value.copy()
        if value.dtype.kind == "O":  # numbers an operator produced (np.zeros(2, int) + [10**30, 1])
            return [_plain(v, depth + 1, direction) for v in value.tolist()]
    if kind in (list, tuple):
        return kind(_plain(v, depth + 1, direction) for v in value)
    if kind is dict:
        return {_plain(k, depth + 1, direction): _plain(v, depth + 1, direction) for k, v in value.items()}
    raise TypeError(
        f"a {kind.__name__} cannot be passed {direction}; use numbers, strings, lists, tuples, dicts or numpy arrays"
    )


def to_skill(value: Any) -> Any:
    """A copy of an argument from sandboxed code (its own functions pass as they are)."""
    if type(value) is types.FunctionType:
        return value
    return _plain(value, 0, "to a skill")


def from_skill(value: Any) -> Any:
    """A fresh plain copy of a skill's result."""
    return _plain(value, 0, "out of a skill")
