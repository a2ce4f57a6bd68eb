"""numpy behind checks: what goes into a numpy call from sandboxed code, and what comes back.

numpy's memory-level danger is an array whose bytes a program chose being read as
pointers (an object dtype, or a structured dtype with an object field), an array reaching
outside its own memory (a buffer, an offset, strides), or memory nobody wrote being
handed out (``np.empty``; an element-wise call whose ``where=`` mask leaves elements of
its fresh result unwritten). Every numpy callable the sandbox offers is a
:class:`Checked` stand-in that refuses, whatever the signature:

- a dtype outside the plain numeric and text ones (:func:`checked_dtype`: kind one of
  :data:`SAFE_KINDS`, native byte order, not extended precision), given as ``dtype=`` or
  at the dtype's position; the dtype numpy receives is the one that was checked, never a
  second reading of the spec;
- ``out=`` (by keyword or position) that is not an array of a safe dtype;
- ``where=`` without ``out=`` in element-wise calls (ufuncs, their ``outer``, ``clip``);
- the keywords that place an array in memory or hand the call to other code
  (:data:`REFUSED_KEYWORDS`);
- an array argument of an unsafe dtype;
- a result of an unsafe dtype, including the object arrays numpy makes implicitly
  (``np.array([None])``, ``np.array([10**30])``), in a tuple or list of results too.

The classes are never handed out: see :mod:`codeact_robot.sandbox.classes`.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

from codeact_robot.sandbox.classes import ClassView
from codeact_robot.sandbox.refusals import RefusedOperation

SAFE_KINDS = frozenset("biufcU")
"""dtype kinds sandboxed code may have: bool, signed and unsigned int, float, complex, str.
Not bytes (``S``): an ``S`` array hands out ``bytes`` objects, and the sandbox has none (see
the policy module on buffers)."""

NUMERIC_KINDS = frozenset("biufc")
"""The kinds whose scalar types convert a value (``np.float64("1.5")``); the string scalar
types, which would decode a buffer like ``str(obj, encoding)``, construct nothing."""

EXTENDED_PRECISION = frozenset("gG")
"""``longdouble`` and ``clongdouble``: 10 bytes of number in 16, the rest never written."""

REFUSED_KEYWORDS = frozenset({"buffer", "offset", "strides", "like", "signature", "sig", "extobj"})
"""Keywords that place an array over given memory, or route the call through another object's code."""

_PLAIN_RESULTS = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.int32, np.bool_, np.uint8})
_KIND_NAMES = {
    "O": "Python objects",
    "V": "raw or structured records",
    "M": "dates",
    "m": "time spans",
    "S": "bytes",
}


@dataclass(frozen=True)
class Positions:
    """Where a callable takes its dtype and its output positionally (None: not by position)."""

    dtype: int | None = None
    out: int | None = None

    @classmethod
    def of(cls, function: Any) -> Positions:
        """Read the positions from the callable's signature (none when it has no signature)."""
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            return cls()
        positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        return cls(*(positional.index(n) if n in positional else None for n in ("dtype", "out")))

    @functools.cached_property
    def inputs(self) -> int | None:
        """How many leading positional arguments are inputs for sure (later ones may be a dtype or out=)."""
        return min((p for p in (self.dtype, self.out) if p is not None), default=None)


def is_safe_array(value: Any) -> bool:
    """Whether ``value`` is a plain array of a safe dtype."""
    return type(value) is np.ndarray and value.dtype.kind in SAFE_KINDS


def _refusal(name: str, what: str, dtype: np.dtype) -> RefusedOperation:
    if dtype.kind not in SAFE_KINDS:
        kind = _KIND_NAMES.get(dtype.kind, f"dtype kind {dtype.kind!r}")
    elif not dtype.isnative:
        kind = "non-native byte order"
    else:
        kind = "extended precision"
    return RefusedOperation(
        f"{name}(): {what} of {kind} ({dtype}) is not available in the sandbox; "
        "use bool, int, float, complex or str arrays"
    )


@functools.lru_cache(maxsize=256)
def _dtype_of_text(text: str) -> np.dtype:
    return np.dtype(text)


def checked_dtype(name: str, spec: Any) -> Any:
    """The dtype numpy should receive for ``spec``.

    Programs get the plain dtypes only: a kind in :data:`SAFE_KINDS`, native byte order, and
    not :data:`EXTENDED_PRECISION`. Arrays of other byte orders or of extended precision
    cannot arise without a dtype given (numpy's operators and functions make native,
    at most double precision results from them), so results are checked by kind alone.

    Returns:
        The checked :class:`numpy.dtype`, or ``spec`` itself when numpy cannot read it as
        a dtype at all (numpy then refuses it with its own message).

    Raises:
        RefusedOperation: for a dtype of an unsafe kind.
    """
    if spec is None:
        return None
    try:
        dtype = _dtype_of_text(spec) if type(spec) is str else np.dtype(spec)
    except Exception:
        return spec
    if dtype.kind not in SAFE_KINDS or not dtype.isnative or dtype.char in EXTENDED_PRECISION:
        raise _refusal(name, "a dtype", dtype)
    return dtype


def _check_input(name: str, value: Any) -> None:
    if type(value) is np.ndarray and value.dtype.kind not in SAFE_KINDS:
        raise _refusal(name, "an array", value.dtype)


def _check_out(name: str, value: Any) -> None:
    for target in value if type(value) is tuple else (value,):
        if target is not None and not is_safe_array(target):
            raise RefusedOperation(f"{name}(): out= must be an array of bool, int, float, complex or str")


def checked_arguments(
    name: str, positions: Positions, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Check a call's arguments; the dtype argument is replaced by the dtype that was checked.

    Raises:
        RefusedOperation: for anything the module docstring lists.
    """
    for index, value in enumerate(args):
        if index == positions.dtype:
            args = (*args[:index], checked_dtype(name, value), *args[index + 1 :])
        elif index == positions.out:
            _check_out(name, value)
        else:
            _check_input(name, value)
    for key, value in kwargs.items():
        if key in REFUSED_KEYWORDS:
            raise RefusedOperation(f"{name}() does not take {key}= in the sandbox")
        if key == "dtype":
            kwargs = {**kwargs, "dtype": checked_dtype(name, value)}
        elif key == "out":
            _check_out(name, value)
        else:
            _check_input(name, value)
    return args, kwargs


def checked_result(name: str, value: Any) -> Any:
    """``value`` if it holds no array or numpy scalar of an unsafe dtype.

    Array subclasses become plain arrays and named tuples (``np.linalg.svd``'s) plain
    tuples, so that every result is of a type the attribute policy knows.

    Raises:
        RefusedOperation: otherwise.
    """
    kind = type(value)
    if kind is np.ndarray:
        if value.dtype.kind not in SAFE_KINDS:
            raise _refusal(name, "a result", value.dtype)
        return value
    if kind is list:
        return [checked_result(name, item) for item in value]
    if isinstance(value, tuple):
        return tuple(checked_result(name, item) for item in value)
    if isinstance(value, np.ndarray):
        return checked_result(name, np.asarray(value))
    if isinstance(value, np.generic) and value.dtype.kind not in SAFE_KINDS:
        raise _refusal(name, "a result", value.dtype)
    return value


WHERE_FORWARDERS = frozenset({"clip"})
"""Functions and methods (besides the ufuncs and their ``outer``) that pass ``where=`` on to an
element-wise ufunc. Reductions take ``where=`` too, but start their result from the identity
or ``initial=``, so every element of it is written."""


def out_given(kwargs: dict[str, Any]) -> bool:
    """Whether a call names, by keyword, an array for each of its results to be written into."""
    out = kwargs.get("out")
    if type(out) is tuple:
        return bool(out) and all(target is not None for target in out)
    return out is not None


class Checked:
    """A numpy function or method as sandboxed code calls it: arguments and result checked.

    Args:
        function: the numpy callable.
        name: its name in messages (``sum``, ``linalg.norm``).
        positions: where it takes dtype and out positionally (read from ``function`` if None).
        elementwise: whether its ``where=`` leaves the elements it masks out of a fresh result
            unwritten (ufuncs, ``clip``): then ``where=`` needs ``out=``, by keyword.
    """

    __slots__ = ("_elementwise", "_function", "_inputs", "_name", "_positions")

    def __init__(self, function: Any, name: str, positions: Positions | None = None, elementwise: bool = False) -> None:
        self._function = function
        self._name = name
        self._positions = positions if positions is not None else Positions.of(function)
        self._elementwise = elementwise
        self._inputs = self._positions.inputs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or (self._inputs is not None and len(args) > self._inputs):
            if self._elementwise and "where" in kwargs and not out_given(kwargs):
                raise RefusedOperation(
                    f"{self._name}(): where= leaves the elements it masks out unwritten, so the sandbox "
                    "needs out= with it (out=np.zeros_like(a), where=mask)"
                )
            args, kwargs = checked_arguments(self._name, self._positions, args, kwargs)
        else:  # the common call: inputs only
            for value in args:
                if type(value) is np.ndarray and value.dtype.kind not in SAFE_KINDS:
                    raise _refusal(self._name, "an array", value.dtype)
        result = self._function(*args, **kwargs)
        kind = type(result)
        if kind is np.ndarray:
            if result.dtype.kind in SAFE_KINDS:
                return result
        elif kind in _PLAIN_RESULTS:
            return result
        return checked_result(self._name, result)

    def _described(self) -> Any:
        """The numpy callable, for help() (host code only)."""
        return self._function

    def __repr__(self) -> str:
        return f"<numpy function {self._name}>"


class SafeUfunc:
    """A numpy ufunc (``np.add``) as sandboxed code sees it: calls and methods checked.

    Args:
        ufunc: the ufunc.
    """

    __slots__ = ("_accumulate", "_call", "_outer", "_reduce", "_ufunc")

    def __init__(self, ufunc: np.ufunc) -> None:
        name = ufunc.__name__
        self._ufunc = ufunc
        self._call = Checked(ufunc, name, elementwise=True)
        self._reduce = Checked(ufunc.reduce, f"{name}.reduce")
        self._accumulate = Checked(ufunc.accumulate, f"{name}.accumulate")
        self._outer = Checked(ufunc.outer, f"{name}.outer", elementwise=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._call(*args, **kwargs)

    def reduce(self, *args: Any, **kwargs: Any) -> Any:
        """``ufunc.reduce``, checked."""
        return self._reduce(*args, **kwargs)

    def accumulate(self, *args: Any, **kwargs: Any) -> Any:
        """``ufunc.accumulate``, checked."""
        return self._accumulate(*args, **kwargs)

    def outer(self, *args: Any, **kwargs: Any) -> Any:
        """``ufunc.outer``, checked."""
        return self._outer(*args, **kwargs)

    @property
    def nin(self) -> int:
        """Number of inputs."""
        return self._ufunc.nin

    @property
    def nout(self) -> int:
        """Number of outputs."""
        return self._ufunc.nout

    def _described(self) -> Any:
        """The ufunc, for help() (host code only)."""
        return self._ufunc

    def __repr__(self) -> str:
        return repr(self._ufunc)


_method_positions: dict[tuple[type, str], Positions] = {}


def checked_method(obj: Any, name: str) -> Checked:
    """``obj.name`` for a method whose arguments or result need the checks (``a.astype``).

    Raises:
        RefusedOperation: when ``obj`` is an array of an unsafe dtype (numpy makes one from
            an operator such as ``np.zeros(2, int) + [10**30, 1]``; nothing may use it).
    """
    _check_input(name, obj)
    method = getattr(obj, name)
    key = (type(obj), name)
    positions = _method_positions.get(key)
    if positions is None:
        positions = _method_positions[key] = Positions.of(method)
    return Checked(method, name, positions, elementwise=name in WHERE_FORWARDERS)


_ABSTRACT_SCALARS = (np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger, np.inexact, np.floating)


@functools.lru_cache(maxsize=1024)
def view_of(cls: type) -> ClassView:
    """The one stand-in of a host class (so ``type(np.float64(1)) is np.float64``).

    A concrete numeric scalar type (``np.float64``) converts a value, checked like any numpy
    function, and serves as a dtype; the string scalar types serve as dtypes but construct
    nothing (``np.str_(obj, encoding)`` would read any buffer, as ``str(obj, encoding)`` does);
    every other class only prints, compares and checks ``isinstance``.
    """
    if issubclass(cls, np.generic) and cls not in _ABSTRACT_SCALARS:
        dtype = np.dtype(cls)
        numeric = dtype.kind in NUMERIC_KINDS and dtype.char not in EXTENDED_PRECISION
        return ClassView(cls, make=Checked(cls, cls.__name__, Positions()) if numeric else None, dtype=dtype)
    return ClassView(cls)


def offered(value: Any, name: str) -> Any:
    """What sandboxed code gets in place of the numpy member ``value``."""
    if isinstance(value, np.ufunc):
        return SafeUfunc(value)
    if isinstance(value, type):
        return view_of(value)
    if callable(value):
        return Checked(value, name, elementwise=name in WHERE_FORWARDERS)
    return value
