"""The builtins sandboxed code gets: an explicit allowlist, each safe under the guards."""

from __future__ import annotations

import builtins
import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from codeact_robot.sandbox.classes import STR
from codeact_robot.sandbox.introspection import USAGE, describe, names_defined
from codeact_robot.sandbox.policy import Policy
from codeact_robot.sandbox.safemodule import SafeModule

PLAIN = """
    abs all any ascii bin bool callable chr complex dict divmod enumerate filter float frozenset hex
    int isinstance issubclass iter len list map max min next object oct ord pow property range repr reversed round
    set slice sorted staticmethod classmethod sum tuple zip None True False Ellipsis NotImplemented
""".split()
"""Builtins offered as they are. Not ``bytes``, ``bytearray`` or ``memoryview``: the sandbox has no
bytes (see the policy module on buffers); ``str`` is :data:`~codeact_robot.sandbox.classes.STR`."""

EXCEPTIONS = """
    ArithmeticError AssertionError AttributeError Exception FloatingPointError ImportError IndexError KeyError
    LookupError MemoryError NameError NotImplementedError OverflowError RecursionError RuntimeError
    StopIteration TimeoutError TypeError ValueError ZeroDivisionError
""".split()
"""Catchable exceptions. BaseException, KeyboardInterrupt, SystemExit and GeneratorExit are left
out so that a program cannot catch the exception that stops it at a limit."""

GUARDED = "str getattr hasattr type dir help id hash".split()
"""Builtins offered as the sandbox's own versions (see :func:`safe_builtins`)."""

BUILTIN_NAMES = frozenset(PLAIN + EXCEPTIONS + GUARDED)
"""Every builtin a program can name."""


class _KeyedDigest:
    """Numbers that stand for ``id()`` and ``hash()`` values without revealing them.

    ``id(obj)`` is an address in CPython, and so is the default ``hash(obj)`` (shifted):
    addresses are what a memory-level exploit needs. Each sandbox digests them with a
    key of its own, which keeps what programs use them for (equal for the same object,
    or for equal values) and hides the numbers.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def __call__(self, value: int) -> int:
        digest = hashlib.blake2b(value.to_bytes(9, "little", signed=True), key=self._key, digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 2


def safe_builtins(
    policy: Policy, import_module: Callable[..., Any], namespace: dict[str, Any], write: Callable[[str], None]
) -> dict[str, Any]:
    """The ``__builtins__`` of a sandbox.

    Args:
        policy: the sandbox's guards (for getattr, hasattr, type and dir).
        import_module: the ``__import__`` that resolves allowlisted modules.
        namespace: the program's globals (``dir()`` lists them, ``help("name")`` looks names up there).
        write: prints to the current action's output (for ``help``).
    """
    names = {name: getattr(builtins, name) for name in PLAIN + EXCEPTIONS}
    exception_bases = tuple(getattr(builtins, name) for name in EXCEPTIONS)
    digest = _KeyedDigest()

    def sandbox_id(obj: Any) -> int:
        """A number unique to ``obj`` among the objects that exist now (not its address)."""
        return digest(id(obj))

    def sandbox_hash(obj: Any) -> int:
        """A hash of ``obj``: equal for equal values (not the interpreter's own number)."""
        return digest(hash(obj))

    def sandbox_type(obj: Any) -> Any:
        """The class of ``obj``: itself where a program could name it anyway, else a stand-in."""
        return policy.type_of(obj)

    def sandbox_dir(*obj: Any) -> list[str]:
        """Without an argument, the names defined so far and the API; else what ``obj`` offers."""
        if not obj:
            return names_defined(namespace)
        if len(obj) > 1:
            raise TypeError(f"dir expected at most 1 argument, got {len(obj)}")
        if isinstance(obj[0], SafeModule):
            return obj[0]._names()
        return sorted(name for name in dir(obj[0]) if policy.allows_attribute(obj[0], name))

    def sandbox_help(*obj: Any) -> None:
        """Print how to call a function, or what a module or class offers."""
        if not obj:
            write(USAGE + "\n")
            return
        if len(obj) > 1:
            raise TypeError(f"help expected at most 1 argument, got {len(obj)}")
        target, name = obj[0], None
        if type(target) is str and target.isidentifier() and not target.startswith("_"):
            name = target
            if target in namespace:
                target = namespace[target]
            elif target in result:
                target = result[target]
            else:
                raise NameError(f"help(): no name {target!r} is defined; dir() lists the names")
        write(describe(target, name) + "\n")

    result = {
        **names,
        "str": STR,
        "getattr": policy.getattr,
        "hasattr": policy.hasattr,
        "type": sandbox_type,
        "dir": sandbox_dir,
        "help": sandbox_help,
        "id": sandbox_id,
        "hash": sandbox_hash,
        "__import__": import_module,
        "__build_class__": builtins.__build_class__,
    }
    for function in (sandbox_type, sandbox_id, sandbox_hash, sandbox_dir, sandbox_help):
        function.__name__ = function.__qualname__ = function.__name__.removeprefix("sandbox_")
    result["__metaclass__"] = policy.make_class((object, *exception_bases))
    return result
