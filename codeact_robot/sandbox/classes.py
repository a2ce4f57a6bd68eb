"""Stand-ins for host classes: what ``type()`` returns, and what modules offer in place of a class.

A real class is a constructor and a door to its attributes (``type(a)(shape, dtype, buffer)``
built arrays over memory a program chose). A :class:`ClassView` keeps what programs use a
class for, printing it, comparing it and ``isinstance``, and offers no attribute; calling
it builds an object only where the view was given a checked constructor (``np.float64(x)``).
``str`` is a view too (:data:`STR`): it offers str's methods, and converts one value to text
but never decodes a buffer (``str(array, "latin-1")`` would read the array's raw memory).

A method read from a host class whose code is Python (``Counter.copy``) is a
:class:`SelfCheckedMethod`: CPython's methods written in C refuse a ``self`` of another
type, one written in Python takes anything (``Counter.copy(int)`` evaluates
``int.__class__(int)``, the real ``type``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from codeact_robot.sandbox.refusals import RefusedOperation


class ClassView:
    """A host class as sandboxed code sees it.

    Args:
        cls: the class.
        make: what calling the view does (a checked constructor), or None: calling it is refused.
        dtype: for numpy scalar types, their dtype; numpy reads a ``dtype`` attribute, so the
            view serves wherever a dtype is expected (``a.astype(np.float32)``).
    """

    __slots__ = ("_cls", "_make", "dtype")

    def __init__(self, cls: type, make: Callable[..., Any] | None = None, dtype: Any = None) -> None:
        self._cls = cls
        self._make = make
        if dtype is not None:
            self.dtype = dtype

    def _described(self) -> type:
        """The class, for help() (host code only: the name starts with an underscore)."""
        return self._cls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._make is None:
            raise RefusedOperation(f"{self._cls.__name__} objects cannot be created in the sandbox")
        return self._make(*args, **kwargs)

    def __instancecheck__(self, obj: Any) -> bool:
        return isinstance(obj, self._cls)

    def __subclasscheck__(self, cls: Any) -> bool:
        return issubclass(cls._cls if isinstance(cls, ClassView) else cls, self._cls)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ClassView):
            return other._cls is self._cls
        return NotImplemented  # ``a.dtype == np.float64`` is the dtype's to answer

    def __hash__(self) -> int:
        return hash(self._cls)

    def __repr__(self) -> str:
        return repr(self._cls)


class StrView(ClassView):
    """``str`` as sandboxed code sees it: what the class offers, minus decoding.

    ``str(value)`` converts one value to text; ``str(obj, encoding)`` is refused, because it
    reads any object that exports a buffer (an array's raw memory) and there are no bytes in
    the sandbox to decode. The methods (``str.join``, ``str.lower``) are str's own, offered
    as the policy's entry for this class says.
    """

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(str, make=_text, dtype=np.dtype(str))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(str, name)

    def __dir__(self) -> list[str]:
        return dir(str)

    def _described(self) -> Callable[..., str]:
        """What help(str) describes (host code only)."""
        return _text


def _text(*args: Any, **kwargs: Any) -> str:
    """The text of a value: str(3.5) is '3.5'. Its methods are str's (str.lower, '-'.join(names)).

    In the sandbox str() takes one value and no encoding: there are no bytes to decode.
    """
    if len(args) + len(kwargs) > 1 or set(kwargs) - {"object"}:
        raise RefusedOperation(
            "str() takes one value in the sandbox; there are no bytes to decode, so no encoding or errors"
        )
    return str(*args, **kwargs)


_text.__name__ = _text.__qualname__ = "str"
_text.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  (help(str) shows it)
    [inspect.Parameter("object", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="")]
)


class SelfCheckedMethod:
    """A Python-level method read from a host class, callable only on an instance of exactly that class.

    Args:
        cls: the host class (``collections.Counter``).
        name: the method's name.
        function: the plain function the class holds.
    """

    __slots__ = ("_cls", "_function", "_name")

    def __init__(self, cls: type, name: str, function: Callable[..., Any]) -> None:
        self._cls = cls
        self._name = name
        self._function = function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not args or type(args[0]) is not self._cls:
            given = f"a {type(args[0]).__name__} object" if args else "nothing"
            owner = self._cls.__name__
            raise RefusedOperation(f"{owner}.{self._name}() takes a {owner} as its first argument (self), not {given}")
        return self._function(*args, **kwargs)

    def _described(self) -> Callable[..., Any]:
        """The method, for help() (host code only)."""
        return self._function

    def __repr__(self) -> str:
        return f"<method '{self._name}' of '{self._cls.__name__}' objects>"


STR = StrView()
"""The one ``str`` of every sandbox: its builtin, and what ``type("text")`` returns."""
