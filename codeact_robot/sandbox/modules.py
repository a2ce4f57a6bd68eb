"""The modules sandboxed code can import: allowlisted members only, behind proxies.

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
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import numpy as np

from codeact_robot.sandbox.arrays import offered
from codeact_robot.sandbox.policy import NUMPY_FUNCTIONS, NUMPY_LINALG, NUMPY_TYPES
from codeact_robot.sandbox.safemodule import SafeModule


def _pick(module: ModuleType | Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(module, name) for name in names}


_MATH = [n for n in dir(math) if not n.startswith("_")]
RANDOM = "choice choices gauss randint random sample seed shuffle uniform".split()
STATISTICS = "mean median mode pstdev stdev variance fmean".split()


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
        "statistics": SafeModule("statistics", _pick(statistics, STATISTICS)),
        "collections": SafeModule("collections", _pick(collections, "Counter OrderedDict defaultdict deque".split())),
        "functools": SafeModule("functools", _pick(functools, ["reduce"])),
        "json": SafeModule("json", {"dumps": _json_dumps, "loads": _json_loads}),
    }


def _json_dumps(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    """``json.dumps`` of plain data (no custom encoder classes)."""
    return json.dumps(value, indent=indent, sort_keys=sort_keys)


def _json_loads(text: str) -> Any:
    """``json.loads`` of a string (no custom decoder classes or hooks)."""
    return json.loads(text)
