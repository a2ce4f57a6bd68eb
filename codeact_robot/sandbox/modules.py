"""The modules sandboxed code can import: allowlisted members only, behind proxies.

No member is a method that takes a foreign ``self`` (``random``'s are bound to the sandbox's own
``Random``). ``statistics`` is Python code that converts its result with the type of its data
(``T(value)``): its functions take plain numbers only, so no class of the program receives the
module's internal values.

numpy is the dangerous one: ``np.ctypeslib``, ``ndarray.ctypes``, ``np.load`` (pickle),
``tofile``/``fromfile``/``memmap``, ``np.lib``, ``np.testing`` and ``f2py`` reach raw
memory or files. Only the functions tabletop maths needs are offered, each behind the
checks of :mod:`codeact_robot.sandbox.arrays`; the policy module says why each is safe.
"""

from __future__ import annotations

import collections
import functools
import itertools
import json
import math
import random
import statistics
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

import numpy as np

from codeact_robot.sandbox.arrays import offered
from codeact_robot.sandbox.policy import NUMPY_FUNCTIONS, NUMPY_LINALG, NUMPY_TYPES
from codeact_robot.sandbox.refusals import RefusedOperation
from codeact_robot.sandbox.safemodule import SafeModule


def _pick(module: ModuleType | Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(module, name) for name in names}


_MATH = [n for n in dir(math) if not n.startswith("_")]
RANDOM = "choice choices gauss randint random sample seed shuffle uniform".split()
STATISTICS = "mean median pstdev stdev variance fmean".split()
"""The ``statistics`` functions of numbers; ``mode`` (of any hashable values) counts them with a Counter."""


@functools.cache
def _numpy() -> SafeModule:
    """The numpy proxy, built once per process: it and everything in it are read-only."""
    members = {name: offered(getattr(np, name), name) for name in NUMPY_FUNCTIONS + NUMPY_TYPES}
    linalg = {name: offered(getattr(np.linalg, name), f"linalg.{name}") for name in NUMPY_LINALG}
    members["linalg"] = SafeModule("numpy.linalg", linalg)
    members["random"] = SafeModule(
        "numpy.random", {"default_rng": offered(np.random.default_rng, "random.default_rng")}
    )
    return SafeModule("numpy", members)


def build_modules(seed: int) -> dict[str, SafeModule]:
    """Every importable module, keyed by import name; ``random`` is seeded for the episode.

    Args:
        seed: seed of the sandbox's own ``random.Random``.
    """
    rng = random.Random(seed)
    return {
        "math": SafeModule("math", _pick(math, _MATH)),
        "numpy": _numpy(),
        "itertools": SafeModule("itertools", _pick(itertools, [n for n in dir(itertools) if not n.startswith("_")])),
        "random": SafeModule("random", _pick(rng, RANDOM)),
        "statistics": SafeModule(
            "statistics", {**{n: _on_numbers(getattr(statistics, n)) for n in STATISTICS}, "mode": statistics.mode}
        ),
        "collections": SafeModule("collections", _pick(collections, "Counter OrderedDict defaultdict deque".split())),
        "functools": SafeModule("functools", _pick(functools, ["reduce"])),
        "json": SafeModule("json", {"dumps": _json_dumps, "loads": _json_loads}),
    }


def _on_numbers(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its data and other arguments checked to be plain numbers (numpy ones become Python's)."""

    @functools.wraps(function)
    def numbers_only(data: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
        name = function.__name__
        values = [_number(name, value) for value in data]
        return function(values, *(_number(name, a) for a in args), **{k: _number(name, v) for k, v in kwargs.items()})

    return numbers_only


def _number(name: str, value: Any) -> Any:
    if value is None or type(value) in (int, float, bool):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    raise RefusedOperation(
        f"statistics.{name}() takes numbers (int, float or numpy numbers), not {type(value).__name__}"
    )


def _json_dumps(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    """``json.dumps`` of plain data (no custom encoder classes)."""
    return json.dumps(value, indent=indent, sort_keys=sort_keys)


def _json_loads(text: str) -> Any:
    """``json.loads`` of a string (no custom decoder classes or hooks)."""
    return json.loads(text)
