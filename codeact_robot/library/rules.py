"""The sandbox's rule for learned skills as the host applies it, and what a skill calls.

The worker checks a skill when a program saves it and when an episode loads it; the host
checks it again before a skill from a worker's reply or a file is stored, and whenever it
reads a library's file (a worker is untrusted, and so is a library), with the same
function and the same reserved names.
"""

from __future__ import annotations

import ast
from collections.abc import Collection

from codeact_robot.sandbox.names import SANDBOX_NAMES
from codeact_robot.sandbox.skill_rule import CheckedSkill, SkillRejected, check_skill_source
from codeact_robot.skills import SKILLS

__all__ = ["RESERVED_NAMES", "CheckedSkill", "SkillRejected", "called_skills", "check_skill", "program_using"]

RESERVED_NAMES = frozenset(SKILLS) | SANDBOX_NAMES
"""The names a learned skill must not take, exactly as an episode's sandbox has them."""


def check_skill(source: str) -> CheckedSkill:
    """Check a learned skill's source against the sandbox's rule.

    Returns:
        The function, as checking it found it.

    Raises:
        SkillRejected: naming the part of the rule the source breaks.
    """
    return check_skill_source(source, RESERVED_NAMES)


def called_skills(skill: CheckedSkill, library: Collection[str]) -> set[str]:
    """The library skills a skill's body names (calls, or passes on), itself left out.

    Args:
        skill: a checked skill.
        library: the names of the library's skills.
    """
    return (skill.names & set(library)) - {skill.name}


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
