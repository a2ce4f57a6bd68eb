"""A read-only proxy of a module: what ``import`` gives sandboxed code."""

from __future__ import annotations

from typing import Any

from codeact_robot.sandbox.refusals import RefusedAttribute


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
            raise RefusedAttribute(
                f"module '{object.__getattribute__(self, '_name')}' has no attribute '{member}' "
                "available in the sandbox"
            )
        return members[member]

    def __repr__(self) -> str:
        return f"<module '{self._name}' (sandboxed)>"
