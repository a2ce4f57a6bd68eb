"""What sandboxed code may read, call, iterate and modify.

The attribute policy is an allowlist by type: an object offers the attributes its
type's entry names, or none at all. Classes and instances the sandbox defines itself
offer the attributes they define. Nothing starting with an underscore, no frame,
code or generator internals, no ``str.format``.
"""

from __future__ import annotations

import collections
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from codeact_robot.sandbox.modules import SafeModule


def _public(kind: type, deny: frozenset[str] = frozenset()) -> frozenset[str]:
    return frozenset(name for name in dir(kind) if not name.startswith("_")) - deny


_FORMATTERS = frozenset({"format", "format_map"})
_ARRAY = frozenset(
    {
        "T",
        "all",
        "any",
        "argmax",
        "argmin",
        "argsort",
        "astype",
        "clip",
        "copy",
        "cumprod",
        "cumsum",
        "dot",
        "dtype",
        "fill",
        "flatten",
        "imag",
        "item",
        "max",
        "mean",
        "min",
        "ndim",
        "nonzero",
        "prod",
        "ptp",
        "ravel",
        "real",
        "repeat",
        "reshape",
        "round",
        "shape",
        "size",
        "sort",
        "squeeze",
        "std",
        "sum",
        "swapaxes",
        "tolist",
        "trace",
        "transpose",
        "var",
    }
)
_NUMPY_SCALAR = frozenset(
    {"dtype", "imag", "is_integer", "item", "ndim", "real", "round", "shape", "size", "tolist", "conjugate"}
)
_GENERATOR_RNG = frozenset(
    {"choice", "integers", "normal", "permutation", "random", "shuffle", "uniform", "standard_normal"}
)

ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _public(str, _FORMATTERS),
    bytes: _public(bytes),
    int: _public(int),
    float: _public(float),
    complex: _public(complex),
    bool: _public(bool),
    list: _public(list),
    tuple: _public(tuple),
    dict: _public(dict),
    set: _public(set),
    frozenset: _public(frozenset),
    range: frozenset({"start", "stop", "step", "count", "index"}),
    slice: frozenset({"start", "stop", "step", "indices"}),
    type({}.keys()): frozenset({"isdisjoint"}),
    type({}.items()): frozenset({"isdisjoint"}),
    type({}.values()): frozenset(),
    collections.Counter: _public(collections.Counter),
    collections.OrderedDict: _public(collections.OrderedDict),
    collections.defaultdict: _public(collections.defaultdict),
    collections.deque: _public(collections.deque),
    np.ndarray: _ARRAY,
    np.dtype: frozenset({"name", "kind", "itemsize", "char"}),
    np.ufunc: frozenset({"reduce", "accumulate", "outer", "nin", "nout"}),
    np.random.Generator: _GENERATOR_RNG,
}
"""Attributes by exact type."""

MUTABLE = (
    list,
    dict,
    set,
    bytearray,
    collections.deque,
    collections.Counter,
    collections.OrderedDict,
    collections.defaultdict,
)
"""Builtin containers code may modify (every one it can reach is its own or a fresh copy)."""

EXCEPTION_ATTRIBUTES = frozenset({"args"})
_TYPE_PUBLIC = frozenset(name for name in dir(type) if not name.startswith("_"))  # mro: would reveal BaseException


class Policy:
    """The guards of one sandbox, and the registry of the classes its code defines."""

    def __init__(self) -> None:
        self.sandbox_classes: weakref.WeakSet[type] = weakref.WeakSet()
        self._verdicts: dict[tuple[type, str], bool] = {}  # (type of an instance, name)
        self._allowed: dict[type, set[str]] = {}  # the names found allowed, by instance type
        self._class_verdicts: dict[tuple[type, str], bool] = {}  # (the class itself, name)
        self._instance_types: set[type] = set()

    # --- classes defined by sandboxed code -----------------------------------------------

    def make_class(self, allowed_bases: tuple[type, ...]) -> Callable[..., type]:
        """The ``__metaclass__`` RestrictedPython calls for every ``class`` statement."""

        def build(name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
            for base in bases:
                if base not in self.sandbox_classes and base not in allowed_bases:
                    raise TypeError(
                        f"class {name} cannot derive from {base.__name__}; bases may be object, an exception "
                        "class or a class defined in the sandbox"
                    )
            cls = type(name, bases, namespace)
            self.sandbox_classes.add(cls)
            return cls

        return build

    def is_sandbox_class(self, cls: Any) -> bool:
        """Whether ``cls`` is a class defined by sandboxed code."""
        return isinstance(cls, type) and cls in self.sandbox_classes

    def _sandbox_offers(self, cls: type, name: str) -> bool:
        """Whatever a sandbox class and its instances hold, but nothing a builtin base offers
        (``object`` offers nothing public; exception bases only ``args``)."""
        return name in EXCEPTION_ATTRIBUTES or not any(
            name in vars(base) for base in cls.__mro__ if base not in self.sandbox_classes
        )

    # --- reading --------------------------------------------------------------------------

    def getattr(self, obj: Any, name: Any, *default: Any) -> Any:
        """``obj.name`` for sandboxed code (also its ``getattr`` builtin).

        Verdicts depend only on the object's type (or class) and the name, so they are
        cached: an allowed attribute costs one dictionary lookup.

        Raises:
            AttributeError: for names the policy does not offer, even if they exist.
        """
        if type(name) is not str:
            raise TypeError(f"attribute name must be a str, not {type(name).__name__}")
        kind = type(obj)
        if kind is SafeModule:
            if obj._has(name):  # offered members never start with an underscore
                return obj._member(name)
        else:
            is_class = isinstance(obj, type)
            verdicts, key = (self._class_verdicts, (obj, name)) if is_class else (self._verdicts, (kind, name))
            allowed = verdicts.get(key)
            if allowed is None:
                allowed = verdicts[key] = self.allows_attribute(obj, name)
                if allowed and not is_class:
                    self._allowed.setdefault(kind, set()).add(name)
            if allowed:
                return getattr(obj, name, default[0]) if default else getattr(obj, name)
        if default:
            return default[0]
        raise AttributeError(self._denial(obj, name))

    def attribute_guard(self) -> Callable[[Any, str], Any]:
        """RestrictedPython's ``_getattr_``: :meth:`getattr` with a fast path for known verdicts.

        RestrictedPython calls it only for ``obj.name`` syntax, so ``name`` is always a
        string literal that passed the compile-time checks.
        """
        known = self._allowed  # instances only: classes and modules are never recorded here
        slow = self.getattr

        def guarded(obj: Any, name: str, _type: type = type, _getattr: Callable[..., Any] = getattr) -> Any:
            kind = _type(obj)
            names = known.get(kind)
            if names is not None and name in names:
                return _getattr(obj, name)
            if kind is SafeModule:
                members = obj._members
                if name in members:
                    return members[name]
            return slow(obj, name)

        return guarded

    def hasattr(self, obj: Any, name: Any) -> bool:
        """``hasattr`` under the policy."""
        try:
            self.getattr(obj, name)
        except AttributeError:
            return False
        return True

    def allows_attribute(self, obj: Any, name: str) -> bool:
        """Whether the policy offers ``obj.name`` (it may still not exist).

        The answer depends only on ``name`` and on ``obj``'s type, or on ``obj`` itself
        when it is a class.
        """
        if name.startswith("_") or name in INSPECT_ATTRIBUTES:
            return False
        if isinstance(obj, SafeModule):
            return obj._has(name)
        if isinstance(obj, type):
            if self.is_sandbox_class(obj):
                return name not in _TYPE_PUBLIC and self._sandbox_offers(obj, name)
            return name in ATTRIBUTES.get(obj, frozenset())
        kind = type(obj)
        if kind in ATTRIBUTES:
            return name in ATTRIBUTES[kind]
        if self._instance_of_sandbox_class(obj):
            return self._sandbox_offers(kind, name)
        if isinstance(obj, BaseException):
            return name in EXCEPTION_ATTRIBUTES
        if isinstance(obj, np.generic):
            return name in _NUMPY_SCALAR
        return False

    @property
    def self_types(self) -> set[type]:
        """Types :meth:`check_self` has accepted; methods skip the call for these."""
        return self._instance_types

    def check_self(self, obj: Any) -> None:
        """Check that a method's ``self`` is an instance of a program-defined class.

        Raises:
            TypeError: otherwise (say ``A.method(np)``), since the method reads ``self``'s
                attributes without the guard.
        """
        if not self._program_instance(obj):
            raise TypeError(
                f"a method of a class defined in the program was called on a {type(obj).__name__} object; "
                "methods take an instance of their class"
            )

    def _program_instance(self, obj: Any) -> bool:
        """Whether ``obj`` is an instance of a program-defined class (remembered per type)."""
        kind = type(obj)
        if kind in self._instance_types:
            return True
        if self._instance_of_sandbox_class(obj):
            self._instance_types.add(kind)
            return True
        return False

    def _instance_of_sandbox_class(self, obj: Any) -> bool:
        return any(k in self.sandbox_classes for k in type(obj).__mro__)

    def _denial(self, obj: Any, name: str) -> str:
        what = obj._name if isinstance(obj, SafeModule) else type(obj).__name__
        if name.startswith("_"):
            return f'"{name}" is an invalid attribute name because it starts with "_"'
        if name in INSPECT_ATTRIBUTES:
            return f'"{name}" is a restricted name, that is forbidden to access in the sandbox'
        if isinstance(obj, str) and name in _FORMATTERS:
            return f"str.{name} is not available in the sandbox; use f-strings or % formatting"
        if isinstance(obj, SafeModule):
            return f"module '{what}' has no attribute '{name}' available in the sandbox"
        return f"'{what}' object has no attribute '{name}' available in the sandbox"

    def getitem(self, obj: Any, index: Any) -> Any:
        """``obj[index]``; only containers and arrays can be indexed."""
        if isinstance(obj, (SafeModule, types.FunctionType, types.BuiltinFunctionType, type)):
            raise TypeError(f"'{type(obj).__name__}' object is not subscriptable in the sandbox")
        return obj[index]

    def getiter(self, obj: Any) -> Any:
        """``iter(obj)`` for ``for`` loops, comprehensions and unpacking."""
        if isinstance(obj, SafeModule):
            raise TypeError(f"module '{obj._name}' is not iterable")
        return iter(obj)

    # --- writing --------------------------------------------------------------------------

    def write(self, obj: Any) -> Any:
        """The target of ``obj.x = ...``, ``obj[i] = ...`` and ``del`` (RestrictedPython's ``_write_``).

        Raises:
            TypeError: for objects sandboxed code does not own.
        """
        if type(obj) in MUTABLE or self._program_instance(obj) or self.is_sandbox_class(obj):
            return obj
        if type(obj) is np.ndarray:
            return _ItemsOnly(obj)
        raise TypeError(f"cannot modify a {type(obj).__name__} object in the sandbox")


class _ItemsOnly:
    """Lets code assign array elements but not array attributes (``a.strides = ...``)."""

    __slots__ = ("_target",)

    def __init__(self, target: np.ndarray) -> None:
        object.__setattr__(self, "_target", target)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._target[index] = value

    def __delitem__(self, index: Any) -> None:
        raise TypeError("cannot delete array elements")

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError(f"cannot set attribute '{name}' of an array in the sandbox")

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"cannot delete attribute '{name}' of an array in the sandbox")
