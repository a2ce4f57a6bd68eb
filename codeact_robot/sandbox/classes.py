"""Stand-ins for host classes: what ``type()`` returns, and what modules offer in place of a class.

A real class is a constructor and a door to its attributes (``type(a)(shape, dtype, buffer)``
built arrays over memory a program chose). A :class:`ClassView` keeps what programs use a
class for, printing it, comparing it and ``isinstance``, and offers no attribute; calling
it builds an object only where the view was given a checked constructor (``np.float64(x)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
