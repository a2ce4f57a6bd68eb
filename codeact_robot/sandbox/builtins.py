"""The builtins sandboxed code gets: an explicit allowlist, each safe under the guards."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from codeact_robot.sandbox.modules import SafeModule
from codeact_robot.sandbox.policy import ATTRIBUTES, Policy

PLAIN = """
    abs all any ascii bin bool bytes callable chr complex dict divmod enumerate filter float frozenset hash hex id
    int isinstance issubclass iter len list map max min next object oct ord pow property range repr reversed round
    set slice sorted staticmethod classmethod str sum tuple zip None True False Ellipsis NotImplemented
""".split()

EXCEPTIONS = """
    ArithmeticError AssertionError AttributeError Exception FloatingPointError ImportError IndexError KeyError
    LookupError MemoryError NameError NotImplementedError OverflowError RecursionError RuntimeError
    StopIteration TimeoutError TypeError ValueError ZeroDivisionError
""".split()
"""Catchable exceptions. BaseException, KeyboardInterrupt, SystemExit and GeneratorExit are left
out so that a program cannot catch the exception that stops it at a limit."""


def safe_builtins(policy: Policy, import_module: Callable[..., Any]) -> dict[str, Any]:
    """The ``__builtins__`` of a sandbox.

    Args:
        policy: the sandbox's guards (for getattr, hasattr, type and dir).
        import_module: the ``__import__`` that resolves allowlisted modules.
    """
    names = {name: getattr(builtins, name) for name in PLAIN + EXCEPTIONS}
    exception_bases = tuple(getattr(builtins, name) for name in EXCEPTIONS)

    def sandbox_type(obj: Any) -> type:
        """type(obj) for objects of allowlisted or sandbox-defined types."""
        kind = type(obj)
        if kind in ATTRIBUTES or policy.is_sandbox_class(kind) or isinstance(obj, BaseException):
            return kind
        if isinstance(obj, (int, float, complex, bool)) or obj is None:
            return kind
        raise TypeError(f"type() of a {kind.__name__} object is not available in the sandbox")

    sandbox_type.__name__ = "type"

    def sandbox_dir(obj: Any = None) -> list[str]:
        """The attributes the policy offers on obj."""
        if obj is None:
            raise TypeError("dir() needs an argument in the sandbox")
        if isinstance(obj, SafeModule):
            return obj._names()
        return sorted(name for name in dir(obj) if policy.allows_attribute(obj, name))

    names.update(
        {
            "getattr": policy.getattr,
            "hasattr": policy.hasattr,
            "type": sandbox_type,
            "dir": sandbox_dir,
            "__import__": import_module,
            "__build_class__": builtins.__build_class__,
        }
    )
    names["__metaclass__"] = policy.make_class((object, *exception_bases))
    return names
