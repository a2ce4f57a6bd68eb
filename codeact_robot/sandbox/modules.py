"""The modules sandboxed code can import: allowlisted members only, behind proxies.

numpy is the dangerous one: ``np.ctypeslib``, ``ndarray.ctypes``, ``np.load`` (pickle),
``tofile``/``fromfile``/``memmap``, ``np.lib``, ``np.testing`` and ``f2py`` reach raw
memory or files. Only the functions tabletop maths needs are offered.
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


class SafeModule:
    """A read-only stand-in for a module that offers an allowlist of its members.

    Its own methods start with an underscore, so the only public names it answers to
    are the members it offers (Python's ``from m import x`` reads them directly).

    Args:
        name: the module's import name.
        members: name -> object (functions, constants or nested ``SafeModule`` objects).
    """

    __slots__ = ("_members", "_name")

    def __init__(self, name: str, members: dict[str, Any]) -> None:
        hidden = [member for member in members if member.startswith("_")]
        if hidden:
            raise ValueError(f"a sandboxed module cannot offer underscore names: {hidden}")
        self._name = name
        self._members = dict(members)

    def _has(self, member: str) -> bool:
        return member in self._members

    def _member(self, member: str) -> Any:
        return self._members[member]

    def _names(self) -> list[str]:
        return sorted(self._members)

    def __getattr__(self, member: str) -> Any:
        members = object.__getattribute__(self, "_members")
        if member.startswith("_") or member not in members:
            raise AttributeError(
                f"module '{object.__getattribute__(self, '_name')}' has no attribute '{member}' "
                "available in the sandbox"
            )
        return members[member]

    def __repr__(self) -> str:
        return f"<module '{self._name}' (sandboxed)>"


def _pick(module: ModuleType | Any, names: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(module, name) for name in names}


_MATH = [n for n in dir(math) if not n.startswith("_")]

_NUMPY = """
    abs absolute add all allclose amax amin angle any append arange arccos arcsin arctan arctan2 argmax argmin
    argsort around array array_equal asarray atleast_1d atleast_2d average bool_ ceil clip column_stack
    concatenate cos cosh count_nonzero cross cumprod cumsum deg2rad degrees diag diff digitize divide dot dstack
    e einsum equal exp expand_dims eye fabs flip fliplr flipud float32 float64 floor floor_divide fmax fmin
    full full_like greater greater_equal hstack hypot identity inf inner int32 int64 interp intersect1d isclose
    isfinite isin isinf isnan less less_equal linspace log log10 log1p log2 logical_and logical_not logical_or
    logical_xor matmul max maximum mean median meshgrid min minimum mod multiply nan nanmax nanmean nanmin
    nansum negative nonzero not_equal ones ones_like outer percentile pi polyfit polyval power prod ptp
    quantile rad2deg radians ravel reciprocal remainder repeat reshape rint roll rot90 round sign sin sinh sort
    split sqrt square squeeze stack std subtract sum swapaxes take tan tanh tile trace transpose tril triu
    true_divide uint8 union1d unique unravel_index var vstack where zeros zeros_like
""".split()
RANDOM = "choice choices gauss randint random sample seed shuffle uniform".split()
STATISTICS = "mean median mode pstdev stdev variance fmean".split()
_LINALG = "cond det eig eigh inv lstsq matrix_rank norm pinv qr solve svd".split()


def _numpy() -> SafeModule:
    members = _pick(np, _NUMPY)
    members["linalg"] = SafeModule("numpy.linalg", _pick(np.linalg, _LINALG))
    members["random"] = SafeModule("numpy.random", {"default_rng": np.random.default_rng})
    return SafeModule("numpy", members)


def build_modules(seed: int) -> dict[str, SafeModule]:
    """Every importable module, keyed by import name; ``random`` is seeded for the episode.

    Args:
        seed: seed of the sandbox's own ``random.Random``.
    """
    rng = random.Random(seed)
    numpy = _numpy()
    modules = {
        "math": SafeModule("math", _pick(math, _MATH)),
        "numpy": numpy,
        "itertools": SafeModule("itertools", _pick(itertools, [n for n in dir(itertools) if not n.startswith("_")])),
        "random": SafeModule("random", _pick(rng, RANDOM)),
        "statistics": SafeModule("statistics", _pick(statistics, STATISTICS)),
        "collections": SafeModule("collections", _pick(collections, "Counter OrderedDict defaultdict deque".split())),
        "functools": SafeModule("functools", _pick(functools, ["reduce"])),
        "json": SafeModule("json", {"dumps": _json_dumps, "loads": _json_loads}),
    }
    return modules


def _json_dumps(value: Any, indent: int | None = None, sort_keys: bool = False) -> str:
    """``json.dumps`` of plain data (no custom encoder classes)."""
    return json.dumps(value, indent=indent, sort_keys=sort_keys)


def _json_loads(text: str) -> Any:
    """``json.loads`` of a string (no custom decoder classes or hooks)."""
    return json.loads(text)
