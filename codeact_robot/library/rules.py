"""The sandbox's rule for learned skills as the host applies it, and what a skill calls.

The worker checks a skill when a program saves it and when an episode loads it; the host
checks it again before a skill from a worker's reply or a file is stored (a worker is
untrusted too), with the same function and the same reserved names.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Collection

from codeact_robot.sandbox.executor import Sandbox
from codeact_robot.sandbox.skills import SkillRejected, check_skill_source
from codeact_robot.skills import SKILLS
from codeact_robot.worker.config import Limits

__all__ = ["SkillRejected", "called_skills", "check_skill", "program_using", "reserved_names"]


@functools.cache
def reserved_names() -> frozenset[str]:
    """The names a learned skill must not take, exactly as an episode's sandbox has them."""
    # A sandbox over the registry's functions, never run: nothing in it needs ending.
    sandbox = Sandbox({name: skill.function for name, skill in SKILLS.items()}, Limits())
    return sandbox.api_names


def check_skill(source: str) -> str:
    """Check a learned skill's source against the sandbox's rule.

    Returns:
        The function's name.

    Raises:
        SkillRejected: naming the part of the rule the source breaks.
    """
    return check_skill_source(source, reserved_names())


def called_skills(source: str, library: Collection[str]) -> set[str]:
    """The library skills a skill's body names (calls, or passes on), itself left out.

    Args:
        source: a source that :func:`check_skill` accepts.
        library: the names of the library's skills.
    """
    function = ast.parse(source).body[0]
    assert isinstance(function, ast.FunctionDef)
    named = {node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    return (named & set(library)) - {function.name}


def program_using(action: str, name: str) -> str | None:
    """The program a code action ran, as a verification of skill ``name``, when it calls ``name``.

    The skill's own ``def`` and every statement that saves a skill are left out: a
    verification episode has the skill loaded already and no library to save to.

    Returns:
        The action's other top-level statements, or None when it does not call ``name``.
    """
    try:
        tree = ast.parse(action)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    kept = []
    calls_it = False
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == name:
            continue
        calls = {_called(node) for node in ast.walk(statement) if isinstance(node, ast.Call)}
        if "save_skill" in calls:
            continue
        calls_it = calls_it or name in calls
        kept.append(ast.get_source_segment(action, statement) or ast.unparse(statement))
    return "\n".join(kept) if calls_it else None


def _called(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None
