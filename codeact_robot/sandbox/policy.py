"""What sandboxed code may read, call, iterate and modify.

The attribute policy is an allowlist by type: an object offers the attributes its
type's entry names, or none at all. Classes and instances the sandbox defines itself
offer the attributes they define. Nothing starting with an underscore, no frame,
code or generator internals, no ``str.format``. ``type()`` hands out a class only
where the program could name it anyway; any other class is a
:class:`~codeact_robot.sandbox.classes.ClassView`. No offered callable takes a foreign
``self``: a method written in Python, read from a host class, is a
:class:`~codeact_robot.sandbox.classes.SelfCheckedMethod` (the program's own methods check
their ``self`` themselves: see :meth:`Policy.check_self`).

This module also holds the whole numpy surface, with the reason each entry is safe.
What every numpy entry relies on (:mod:`codeact_robot.sandbox.arrays`): no dtype
outside bool, int, float, complex and str goes in or comes out of any call, ``out=``
is an array of those, and nothing takes ``buffer``, ``offset`` or ``strides``; numpy
keeps the views and copies it makes inside the memory of the arrays it was given.

And it holds the list of every callable the sandbox offers with whether it reads a
buffer (see *Buffers* below): an array exports its raw memory, object pointers
included, to whatever consumes the buffer protocol, and nothing offered does. There
are no bytes in the sandbox at all.
"""

from __future__ import annotations

import collections
import reprlib
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from codeact_robot.sandbox.arrays import SAFE_KINDS, Checked, SafeUfunc, checked_method, view_of
from codeact_robot.sandbox.classes import STR, ClassView, SelfCheckedMethod, StrView
from codeact_robot.sandbox.refusals import RefusedAttribute, RefusedOperation, public_name
from codeact_robot.sandbox.safemodule import SafeModule

# --- the numpy surface ---------------------------------------------------------------------

NUMPY_FUNCTIONS = """
    array asarray zeros ones full zeros_like ones_like full_like arange linspace eye identity meshgrid diag tril triu
""".split()
"""Arrays from values or shapes. The dtype is checked, the result is a fresh array (or, for
``asarray`` of an array, that same array); no buffer, offset or strides are accepted, and
``empty`` (uninitialised memory) is not offered."""

NUMPY_FUNCTIONS += """
    abs absolute add arccos arcsin arctan arctan2 ceil cos cosh deg2rad degrees divide equal exp fabs floor
    floor_divide fmax fmin greater greater_equal hypot isfinite isinf isnan less less_equal log log10 log1p log2
    logical_and logical_not logical_or logical_xor matmul maximum minimum mod multiply negative not_equal power
    rad2deg radians reciprocal remainder rint sign sin sinh sqrt square subtract tan tanh true_divide
""".split()
"""Element-wise ufuncs (``SafeUfunc``): numeric loops over the operands' own elements; their
``dtype=``, ``out=`` and ``signature=`` (the loop's dtypes) are checked or refused."""

NUMPY_FUNCTIONS += """
    all any amax amin argmax argmin average count_nonzero cumprod cumsum max mean median min nanmax nanmean nanmin
    nansum percentile prod ptp quantile std sum var trace
""".split()
"""Reductions and statistics: read the input, return numbers or fresh arrays; dtype and out checked."""

NUMPY_FUNCTIONS += """
    append atleast_1d atleast_2d column_stack concatenate dstack expand_dims flip fliplr flipud hstack ravel
    repeat reshape roll rot90 split squeeze stack swapaxes tile transpose vstack
""".split()
"""Shape and order: views whose shape and strides numpy derives from the input's own (so
they stay inside its memory), or copies."""

NUMPY_FUNCTIONS += """
    argsort clip digitize intersect1d isin nonzero sort take union1d unique unravel_index where
""".split()
"""Sorting, searching and sets: fresh arrays of values or indexes; ``take`` checks its
indexes (``mode`` ``raise``, ``wrap`` and ``clip`` all stay in bounds)."""

NUMPY_FUNCTIONS += """
    allclose angle around array_equal cross diff dot einsum inner interp isclose outer polyfit polyval round
""".split()
"""Geometry and comparison: numeric kernels on the operands, results fresh; ``einsum``'s
subscripts only name axes of its operands."""

NUMPY_FUNCTIONS += "e inf nan pi".split()
"""Constants: Python floats."""

NUMPY_TYPES = "bool_ float32 float64 int32 int64 uint8 ndarray number integer floating".split()
"""Classes, offered as views: the scalar types convert a value (checked like any function)
and serve as dtypes; ``ndarray`` and the abstract types serve ``isinstance`` only."""

NUMPY_LINALG = "cond det eig eigh inv lstsq matrix_rank norm pinv qr solve svd".split()
"""``np.linalg``: LAPACK on copies of the input; named-tuple results come back as tuples."""

_ARRAY_PLAIN = frozenset(
    # data about the array, and views of its own memory (imag of a real array is read-only zeros)
    {"T", "dtype", "imag", "ndim", "real", "shape", "size"}
    # new arrays or Python values made from its elements; sort reorders its own elements in place
    | {"argsort", "copy", "flatten", "item", "nonzero", "ravel", "repeat", "reshape", "sort", "squeeze"}
    | {"swapaxes", "tolist", "transpose"}
)
ARRAY_CHECKED = frozenset(
    # take a dtype, an out= array or another operand that could make an object result, or write a value
    {"all", "any", "argmax", "argmin", "astype", "clip", "cumprod", "cumsum", "dot", "fill", "max", "mean", "min"}
    | {"prod", "round", "std", "sum", "trace", "var"}
)
"""Array methods called through :func:`~codeact_robot.sandbox.arrays.checked_method`. Not
offered, among others: ``view``, ``getfield``/``setfield``, ``data``, ``base``, ``ctypes``,
``strides``, ``flags``, ``resize``, ``tobytes``/``tofile``/``dump`` (memory, files, pickle)."""

_DTYPE = frozenset({"name", "kind", "itemsize", "char"})
"""What a dtype says about itself (not ``type``, the scalar class, nor ``fields``/``descr``)."""

_NUMPY_SCALAR = frozenset({"dtype", "imag", "is_integer", "item", "ndim", "real", "shape", "size", "tolist"})
SCALAR_CHECKED = frozenset({"conjugate", "round"})
"""Numpy scalars: values; ``round`` takes ``out=``, so it is checked like the array's."""

GENERATOR_CHECKED = frozenset(
    {"choice", "integers", "normal", "permutation", "random", "shuffle", "uniform", "standard_normal"}
)
"""``np.random.default_rng()``: every method is checked (``choice`` of Python objects would
make an object array; ``random`` and ``integers`` take dtype and out). Not offered:
``bit_generator`` (its state and raw bits)."""

# --- buffers --------------------------------------------------------------------------------
#
# An array exports its raw memory through the buffer protocol: an object array its pointers
# (numpy 2 exports dtype=object), any other array the bytes of its numbers. Arrays are the
# only exporters a program can hold, and object arrays still arise from operators
# (np.zeros(2, int) + [10**30, 1] coerces the list to objects), inert as they are to every
# function. So the rule is that nothing offered consumes a buffer. Every callable the
# sandbox offers, and whether it does (tests/test_sandbox_buffers.py calls each with arrays
# and checks that no result carries their raw bytes, and that none returns bytes):
#
# - builtins (builtins.PLAIN and the sandbox's own getattr, hasattr, type, dir, help, id,
#   hash). CPython's readers are bytes(), bytearray(), memoryview() and str(obj, encoding):
#   the first three are not offered and str is classes.STR, which takes one value and no
#   encoding. int(), float() and complex() read a buffer only from an exporter without
#   number methods, and arrays have them (only a size-1 array converts, through its
#   element). The rest read no buffer: abs bin chr divmod hex oct pow round take numbers,
#   ord a character, bool any value; all any dict enumerate filter frozenset iter len list map max min next
#   reversed set sorted sum tuple zip iterate or take callables; ascii and repr make text
#   of a value; callable isinstance issubclass object property staticmethod classmethod
#   range slice and the exception classes take values or classes; getattr hasattr type dir
#   help id hash are the sandbox's own and take names and values.
# - methods, by type (ATTRIBUTES). The bytes family's methods and operators (join,
#   startswith, find, +, %, in ...) read any buffer, so no bytes-like object can be made:
#   no bytes literal (the compiler refuses one), no str.encode, no int.to_bytes, no 'S'
#   arrays (their elements are bytes), and exception args that carry bytes arrive as
#   text. int.from_bytes reads any buffer: withdrawn from int and bool. The methods of
#   str (all public ones but format, format_map and encode), int, float, complex, bool,
#   list, tuple, dict, set, frozenset, range, slice, the dict views and the collections
#   classes take numbers, str, iterables, keys or callables: no buffer.
# - modules: math, itertools, random (seed hashes str, bytes or bytearray, by type),
#   statistics, collections, functools.reduce, json (loads parses str, bytes or bytearray,
#   by type): none reads an array's buffer.
# - numpy (NUMPY_FUNCTIONS, NUMPY_TYPES, NUMPY_LINALG, array and generator methods): every
#   entry refuses arrays of unsafe dtypes, none reinterprets an array's memory (view,
#   frombuffer, ndarray(buffer=), tobytes are not offered), and the string scalar types,
#   whose constructors decode a buffer as str(obj, encoding) does, construct nothing.
# - operators on any value above: only the operators of a bytes-like object read a buffer.
#
# Memory nobody wrote is kept from programs too: np.empty is not offered, where= needs out=
# in element-wise calls, and extended precision (whose padding is never written) is not a
# dtype programs get. Addresses are another matter: default reprs show them, and CPython
# shows their bits in the iteration order of a set of objects, so they are not secret; what
# the sandbox keeps is that nothing reachable turns an address into memory (docs/sandbox.md: threat
# model).

# --- attributes by type --------------------------------------------------------------------


def _public(kind: type, deny: frozenset[str] = frozenset()) -> frozenset[str]:
    return frozenset(name for name in dir(kind) if not name.startswith("_")) - deny


_FORMATTERS = frozenset({"format", "format_map"})
_STR_WITHDRAWN = _FORMATTERS | {"encode"}  # format: attribute traversal; encode: makes bytes
_INT_WITHDRAWN = frozenset({"from_bytes", "to_bytes"})  # from_bytes reads any buffer; to_bytes makes bytes

ATTRIBUTES: dict[type, frozenset[str]] = {
    str: _public(str, _STR_WITHDRAWN),
    StrView: _public(str, _STR_WITHDRAWN),
    int: _public(int, _INT_WITHDRAWN),
    float: _public(float),
    complex: _public(complex),
    bool: _public(bool, _INT_WITHDRAWN),
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
    np.ndarray: _ARRAY_PLAIN | ARRAY_CHECKED,
    SafeUfunc: frozenset({"reduce", "accumulate", "outer", "nin", "nout"}),
    np.random.Generator: GENERATOR_CHECKED,
}
"""Attributes by exact type (numpy scalars and dtypes, whose types are many, by ``isinstance``)."""

CHECKED_METHODS: dict[type, frozenset[str]] = {np.ndarray: ARRAY_CHECKED, np.random.Generator: GENERATOR_CHECKED}

MUTABLE = (
    list,
    dict,
    set,
    collections.deque,
    collections.Counter,
    collections.OrderedDict,
    collections.defaultdict,
)
"""Builtin containers code may modify (every one it can reach is its own or a fresh copy)."""

EXCEPTION_ATTRIBUTES = frozenset({"args"})
_TYPE_PUBLIC = frozenset(name for name in dir(type) if not name.startswith("_"))  # mro: would reveal BaseException
NAMED_CLASSES = frozenset({type(None), *MUTABLE, *ATTRIBUTES, object, property, staticmethod, classmethod}) - {
    str,
    StrView,
    np.ndarray,
    SafeUfunc,
    np.random.Generator,
    type({}.keys()),
    type({}.items()),
    type({}.values()),
}
"""Classes ``type()`` returns as they are: builtins and ``collections`` classes a program can name
anyway (``str`` is named by its view, :data:`~codeact_robot.sandbox.classes.STR`)."""

_PLAIN_VALUES = (bool, int, float, complex, str)
_STAND_INS = (SafeModule, Checked, SafeUfunc, ClassView, SelfCheckedMethod)
MAX_CARRIED_DEPTH = 4
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 200

MAX_CACHED_VERDICTS = 10_000
MAX_CACHED_NAME = 100  # characters: longer attribute names are judged every time, never remembered


class Policy:
    """The guards of one sandbox, and the registry of the classes its code defines."""

    def __init__(self) -> None:
        self.sandbox_classes: weakref.WeakSet[type] = weakref.WeakSet()
        self._verdicts: dict[tuple[type, str], bool] = {}  # (type of an instance, name)
        self._allowed: dict[type, set[str]] = {}  # the names found allowed, by instance type
        self._class_verdicts: dict[tuple[type, str], bool] = {}  # (the class itself, name)
        self._instance_types: set[type] = set()

    def forget(self) -> None:
        """Drop every remembered verdict and program class (when the sandbox ends)."""
        self._verdicts.clear()
        self._allowed.clear()
        self._class_verdicts.clear()
        self._instance_types.clear()

    # --- classes defined by sandboxed code -----------------------------------------------

    def make_class(self, allowed_bases: tuple[type, ...]) -> Callable[..., type]:
        """The ``__metaclass__`` RestrictedPython calls for every ``class`` statement."""

        def build(name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
            for base in bases:
                if base not in self.sandbox_classes and base not in allowed_bases:
                    named = base._described() if isinstance(base, ClassView) else base
                    raise RefusedOperation(
                        f"class {name} cannot derive from {getattr(named, '__name__', repr(base))}; bases may be "
                        "object, an exception class or a class defined in the sandbox"
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

    def type_of(self, obj: Any) -> Any:
        """``type(obj)`` for sandboxed code: the class where the program could name it anyway
        (a builtin it is offered, a ``collections`` class, a builtin exception, a class it
        defined), a :class:`ClassView` of it otherwise."""
        kind = type(obj)
        if kind in NAMED_CLASSES or self.is_sandbox_class(kind):
            return kind
        if kind is str:
            return STR
        if issubclass(kind, Exception) and kind.__module__ == "builtins":
            return kind
        return view_of(kind)

    # --- reading --------------------------------------------------------------------------

    def getattr(self, obj: Any, name: Any, *default: Any) -> Any:
        """``obj.name`` for sandboxed code (also its ``getattr`` builtin).

        Verdicts depend only on the object's type (or class) and the name, so they are
        cached: an allowed attribute costs one dictionary lookup. The caches are bounded
        (entries and name length), so a program cannot fill memory through them.

        Raises:
            RefusedAttribute: for names the policy does not offer, even if they exist.
        """
        if type(name) is not str:
            raise RefusedOperation(f"attribute name must be a str, not {type(name).__name__}")
        kind = type(obj)
        if kind is SafeModule:
            if obj._has(name):  # offered members never start with an underscore
                return obj._member(name)
        else:
            is_class = isinstance(obj, type)
            verdicts, key = (self._class_verdicts, (obj, name)) if is_class else (self._verdicts, (kind, name))
            allowed = verdicts.get(key)
            checked = name in _checked_names(kind)
            if allowed is None:
                allowed = self.allows_attribute(obj, name)
                if len(name) <= MAX_CACHED_NAME and len(verdicts) < MAX_CACHED_VERDICTS:
                    verdicts[key] = allowed
                    if allowed and not is_class and not checked:
                        self._allowed.setdefault(kind, set()).add(name)
            if allowed:
                if checked:
                    return self._exception_args(obj) if isinstance(obj, BaseException) else checked_method(obj, name)
                value = getattr(obj, name, default[0]) if default else getattr(obj, name)
                if is_class and type(value) is types.FunctionType and not self.is_sandbox_class(obj):
                    return SelfCheckedMethod(obj, name, value)  # written in Python: it would take any self
                return value
        if default:
            return default[0]
        raise RefusedAttribute(self._denial(obj, name))

    def attribute_guard(self) -> Callable[[Any, str], Any]:
        """RestrictedPython's ``_getattr_``: :meth:`getattr` with a fast path for known verdicts.

        RestrictedPython calls it only for ``obj.name`` syntax, so ``name`` is always a
        string literal that passed the compile-time checks.
        """
        known = self._allowed  # instances only: classes, modules and checked methods are never recorded here
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
            return name in _NUMPY_SCALAR or name in SCALAR_CHECKED
        if isinstance(obj, np.dtype):
            return name in _DTYPE
        return False

    def _exception_args(self, error: BaseException) -> tuple[Any, ...]:
        """``error.args`` as sandboxed code sees them.

        An exception raised by host code can carry host objects (numpy's loop errors carry
        the real ufunc, whose call no check stands in front of): plain values, arrays and
        dtypes, exceptions and the program's own objects pass; anything else becomes its repr.
        """
        return tuple(self._carried(value, 0) for value in error.args)

    def _carried(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if value is None or kind in _PLAIN_VALUES or isinstance(value, (np.generic, np.dtype, BaseException)):
            return value
        if kind is np.ndarray and value.dtype.kind in SAFE_KINDS:
            return value
        if kind in (tuple, list) and depth < MAX_CARRIED_DEPTH:
            return kind(self._carried(item, depth + 1) for item in value)
        if kind in _STAND_INS or self._program_instance(value) or self.is_sandbox_class(value):
            return value
        if kind is types.FunctionType and value.__module__ == "__sandbox__":
            return value
        return _short.repr(value)

    @property
    def self_types(self) -> set[type]:
        """Types :meth:`check_self` has accepted; methods skip the call for these."""
        return self._instance_types

    def check_self(self, obj: Any) -> None:
        """Check that a method's ``self`` is an instance of a program-defined class.

        Raises:
            RefusedOperation: otherwise (say ``A.method(np)``), since the method reads ``self``'s
                attributes without the guard.
        """
        if not self._program_instance(obj):
            raise RefusedOperation(
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
        what = obj._name if isinstance(obj, SafeModule) else public_name(type(obj))
        if name.startswith("_"):
            return f'"{name}" is an invalid attribute name because it starts with "_"'
        if name in INSPECT_ATTRIBUTES:
            return f'"{name}" is a restricted name, that is forbidden to access in the sandbox'
        if isinstance(obj, (str, StrView)) and name in _FORMATTERS:
            return f"str.{name} is not available in the sandbox; use f-strings or % formatting"
        if isinstance(obj, (str, StrView)) and name == "encode":
            return "str.encode is not available in the sandbox: there are no bytes in it"
        owner = obj if isinstance(obj, type) else type(obj)
        if issubclass(owner, int) and name in _INT_WITHDRAWN:
            return f"{owner.__name__}.{name} is not available in the sandbox: there are no bytes in it"
        if isinstance(obj, SafeModule):
            return f"module '{what}' has no attribute '{name}' available in the sandbox"
        return f"'{what}' object has no attribute '{name}' available in the sandbox"

    def getitem(self, obj: Any, index: Any) -> Any:
        """``obj[index]``; only containers and arrays can be indexed."""
        if isinstance(obj, (SafeModule, types.FunctionType, types.BuiltinFunctionType, type, ClassView)):
            raise RefusedOperation(f"'{type(obj).__name__}' object is not subscriptable in the sandbox")
        return obj[index]

    def getiter(self, obj: Any) -> Any:
        """``iter(obj)`` for ``for`` loops, comprehensions and unpacking."""
        if isinstance(obj, SafeModule):
            raise RefusedOperation(f"module '{obj._name}' is not iterable")
        return iter(obj)

    # --- writing --------------------------------------------------------------------------

    def write(self, obj: Any) -> Any:
        """The target of ``obj.x = ...``, ``obj[i] = ...`` and ``del`` (RestrictedPython's ``_write_``).

        Raises:
            RefusedOperation: for objects sandboxed code does not own, and for arrays of an
                unsafe dtype (an operator can make one; nothing may be stored in it).
        """
        if type(obj) in MUTABLE or self._program_instance(obj) or self.is_sandbox_class(obj):
            return obj
        if type(obj) is np.ndarray:
            if obj.dtype.kind not in SAFE_KINDS:
                raise RefusedOperation(f"cannot modify an array of dtype {obj.dtype} in the sandbox")
            return _ItemsOnly(obj)
        raise RefusedOperation(f"cannot modify a {type(obj).__name__} object in the sandbox")


def _checked_names(kind: type) -> frozenset[str]:
    """Attributes of ``kind`` whose value is checked on every read (methods, exception args)."""
    names = CHECKED_METHODS.get(kind)
    if names is not None:
        return names
    if issubclass(kind, np.generic):
        return SCALAR_CHECKED
    return EXCEPTION_ATTRIBUTES if issubclass(kind, BaseException) else frozenset()


class _ItemsOnly:
    """Lets code assign array elements but not array attributes (``a.strides = ...``)."""

    __slots__ = ("_target",)

    def __init__(self, target: np.ndarray) -> None:
        object.__setattr__(self, "_target", target)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._target[index] = value

    def __delitem__(self, index: Any) -> None:
        raise RefusedOperation("cannot delete array elements")

    def __setattr__(self, name: str, value: Any) -> None:
        raise RefusedOperation(f"cannot set attribute '{name}' of an array in the sandbox")

    def __delattr__(self, name: str) -> None:
        raise RefusedOperation(f"cannot delete attribute '{name}' of an array in the sandbox")
