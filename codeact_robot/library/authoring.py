"""Putting skills into a library: from an episode, from a file written by hand, from another library.

Whatever the way in, each function is checked against the sandbox's rule before it is
stored, the library skills it calls are pinned to a version, and it starts ``pending``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from codeact_robot.errors import UsageError
from codeact_robot.library.rules import SkillRejected, called_skills, check_skill
from codeact_robot.skills.library import (
    MAX_SOURCE_BYTES,
    LearnedSkill,
    Provenance,
    SkillLibrary,
    VerifyRequest,
    now,
    read_text,
)


def store_skill(
    library: SkillLibrary,
    source: str,
    provenance: Provenance,
    verify: VerifyRequest | None = None,
    loaded: Mapping[str, int] | None = None,
) -> LearnedSkill:
    """Check a skill against the sandbox's rule and store it as its name's next version.

    Args:
        library: where to store it.
        source: the function's source.
        provenance: where it came from.
        verify: how to verify it.
        loaded: skills the episode it was written in had loaded, name -> version: a call
            of one of those is pinned to that version, any other to the newest.

    Raises:
        SkillRejected: the source breaks the rule.
    """
    check_skill(source)
    versions = {**library.latest_versions(), **(loaded or {})}
    calls = {name: versions[name] for name in sorted(called_skills(source, versions))}
    return library.save(source, provenance, calls, verify)


@dataclass(frozen=True)
class Added:
    """What became of one function (or statement) offered to a library.

    Attributes:
        name: the function's name, a version's ``name@version`` or a statement's line.
        skill: the version stored, or the one holding the same source already.
        refused: why it was not stored (None when it was).
        new: whether ``skill`` was stored now (False: the library held it already).
    """

    name: str
    skill: LearnedSkill | None = None
    refused: str | None = None
    new: bool = True


def add_file(library: SkillLibrary, path: str | Path, verify: VerifyRequest) -> list[Added]:
    """Add every function of a Python file written by hand, each checked on its own.

    Functions the file's other functions call are stored first, so that their callers pin
    the new versions. Anything in the file but functions (and a module docstring) is
    reported as refused: it would not be kept.

    Raises:
        UsageError: the file cannot be read or does not parse.
    """
    path = Path(path)
    try:
        text = read_text(path, MAX_SOURCE_BYTES * 16)
    except (OSError, ValueError) as error:
        raise UsageError(f"{path} cannot be read: {error}") from None
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise UsageError(f"{path} is not valid Python: {error.msg} (line {error.lineno})") from None
    results: list[Added] = []
    functions: dict[str, str] = {}
    for index, statement in enumerate(tree.body):
        if isinstance(statement, ast.FunctionDef):
            functions[statement.name] = _segment(text, statement)
        elif not (index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
            kind = type(statement).__name__
            results.append(Added(f"line {statement.lineno}", refused=f"a {kind} statement; only functions are added"))
    provenance = Provenance(file=str(path), time=now())
    for name in _callees_first(functions):
        try:
            results.append(Added(name, skill=store_skill(library, functions[name], provenance, verify)))
        except (SkillRejected, UsageError) as error:
            results.append(Added(name, refused=str(error)))
    return results


def import_library(library: SkillLibrary, other: SkillLibrary) -> list[Added]:
    """Copy every version of another library's skills into this one, as new versions.

    Sources are checked again here, calls are re-pinned to the versions they became, and
    verdicts are not carried over: a skill is verified by the physics where it is used,
    so every imported skill starts ``pending`` (with its provenance and verification
    request kept). A version whose exact source this library holds already is skipped.
    """
    results: list[Added] = []
    held = {(s.name, s.sha256): s for s in library.skills()}
    renamed: dict[tuple[str, int], int] = {}
    for skill in _callees_before_callers(other.skills()):
        mine = held.get((skill.name, skill.sha256))
        if mine is not None:
            results.append(Added(skill.ref, skill=mine, new=False))
            renamed[(skill.name, skill.version)] = mine.version
            continue
        try:
            source = other.source(skill)
            check_skill(source)
        except (SkillRejected, UsageError) as error:
            results.append(Added(skill.ref, refused=str(error)))
            continue
        calls = {n: renamed.get((n, v), v) for n, v in skill.meta.calls.items()}
        provenance = skill.meta.provenance.model_copy(update={"file": skill.meta.provenance.file or str(other.folder)})
        stored = library.save(source, provenance, calls, skill.meta.verify)
        renamed[(skill.name, skill.version)] = stored.version
        results.append(Added(skill.ref, skill=stored))
    return results


def _callees_before_callers(skills: list[LearnedSkill]) -> list[LearnedSkill]:
    """The versions in an order where each comes after the versions it calls and its name's older versions."""
    versions = {(s.name, s.version): s for s in skills}
    ordered: dict[tuple[str, int], LearnedSkill] = {}

    def visit(key: tuple[str, int], trail: frozenset[tuple[str, int]]) -> None:
        if key in ordered or key in trail or key not in versions:
            return
        older = sorted(k for k in versions if k[0] == key[0] and k[1] < key[1])
        for callee in [*older, *sorted(versions[key].meta.calls.items())]:
            visit(callee, trail | {key})
        ordered[key] = versions[key]

    for key in versions:
        visit(key, frozenset())
    return list(ordered.values())


def _segment(text: str, function: ast.FunctionDef) -> str:
    """A function's own lines (decorators included, so the rule sees them), without the file's indentation."""
    first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    lines = text.splitlines()[first - 1 : function.end_lineno]
    return "\n".join(lines) + "\n"


def _callees_first(functions: dict[str, str]) -> list[str]:
    """The functions' names, each after the functions of the same file that it calls (file order otherwise)."""
    ordered: list[str] = []

    def visit(name: str, trail: frozenset[str]) -> None:
        if name in ordered or name in trail:
            return
        for callee in sorted(called_skills(functions[name], functions)):
            visit(callee, trail | {name})
        ordered.append(name)

    for name in functions:
        visit(name, frozenset())
    return ordered
