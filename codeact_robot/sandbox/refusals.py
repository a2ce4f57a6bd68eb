"""The exceptions a rule of the sandbox raises, as opposed to the program's own errors.

Each is a subclass of the builtin exception a program expects (``except AttributeError``
still catches a denied attribute, and the program sees the builtin's name), marked with
:class:`Refusal` so that an action report can say the error came from the sandbox.
"""

from __future__ import annotations


class Refusal(Exception):
    """Marks an exception raised because the sandbox refused something."""


class RefusedAttribute(AttributeError, Refusal):
    """An attribute the policy does not offer."""


class RefusedImport(ImportError, Refusal):
    """A module, or a member of one, the sandbox does not offer."""


class RefusedOperation(TypeError, Refusal):
    """An operation the sandbox does not allow on a value (writing a host object, an object dtype ...)."""


def public_name(kind: type) -> str:
    """The class name a program sees: host exception classes show as their builtin base."""
    if not issubclass(kind, BaseException):
        return kind.__name__
    for base in kind.__mro__:
        if base.__module__ in ("builtins", "__sandbox__"):
            return base.__name__
    return kind.__name__
