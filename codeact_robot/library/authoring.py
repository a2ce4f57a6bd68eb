"""Putting skills into a library: from an episode, from a file written by hand, from another library.

Whatever the way in, each function is checked against the sandbox's rule before it is
stored, the library skills it calls are pinned to a version, and it starts ``pending``.
A skill can pin only versions stored before it, so skills that call each other (in a
file, or in another library's metadata) are refused.
"""

from __future__ import annotations

import ast
import heapq
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TypeVar

from codeact_robot.errors import UsageError
from codeact_robot.library.files import MAX_SOURCE_BYTES, SkillLibrary, read_text
from codeact_robot.library.rules import CheckedSkill, SkillRejected, called_skills, check_skill
from codeact_robot.library.skill import LearnedSkill, Provenance, VerifyRequest, now

Node = TypeVar("Node", bound=Hashable)


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
    return _store(library, check_skill(source), provenance, verify, loaded)


def _store(
    library: SkillLibrary,
    skill: CheckedSkill,
    provenance: Provenance,
    verify: VerifyRequest | None = None,
    loaded: Mapping[str, int] | None = None,
) -> LearnedSkill:
    versions = {**library.latest_versions(), **(loaded or {})}
    calls = {name: versions[name] for name in sorted(called_skills(skill, versions))}
    return library.save(skill, provenance, calls, verify)


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
    """Add every function of a Python file written by hand, or nothing when anything in it is refused.

    Each function is checked on its own, and anything in the file but functions (and a
    module docstring) is refused: it would not be kept. When all of it passes, the
    functions are stored, those the file's other functions call first, so that their
    callers pin the new versions.

    Returns:
        What became of each function, in the order stored; or, when something was refused,
        every problem (``refused`` set) and nothing stored.

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
    problems: list[Added] = []
    functions: dict[str, str] = {}
    for index, statement in enumerate(tree.body):
        if isinstance(statement, ast.FunctionDef):
            functions[statement.name] = _segment(text, statement)
        elif not (index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)):
            refused = f"{_statement(statement)}; only functions are added"
            problems.append(Added(f"line {statement.lineno}", refused=refused))
    checked: dict[str, CheckedSkill] = {}
    for name, source in functions.items():
        try:
            checked[name] = check_skill(source)
        except SkillRejected as error:
            problems.append(Added(name, refused=str(error)))
    order, cycles = _callees_first(
        {name: called_skills(checked[name], functions) if name in checked else set() for name in functions}
    )
    problems += [Added(name, refused=_calls_itself(cycles[name])) for name in functions if name in cycles]
    if problems:
        return problems
    provenance = Provenance(file=str(path), time=now())
    return [Added(name, skill=_store(library, checked[name], provenance, verify)) for name in order]


def import_library(library: SkillLibrary, other: SkillLibrary) -> list[Added]:
    """Copy every version of another library's skills into this one, as new versions.

    Sources are checked again here, calls are re-pinned to the versions they became, and
    verdicts are not carried over: a skill is verified by the physics where it is used,
    so every imported skill starts ``pending`` (with its provenance and verification
    tasks kept). The other library's verification program is not trusted: it is kept as
    ``imported_call``, shown and never run, until the user gives a call. A version whose
    exact source this library holds already is skipped.
    Each version comes after the versions it calls and its name's older versions.
    """
    versions = other.versions()
    keys = sorted(versions)
    before = {
        key: {
            *([previous] if previous and previous[0] == key[0] else []),
            *(versions[key].meta.calls.items() & versions.keys()),
        }
        for previous, key in zip([None, *keys], keys)
    }
    order, cycles = _callees_first(before)
    results: list[Added] = []
    held = {(s.name, s.sha256): s for s in library.skills()}
    renamed: dict[tuple[str, int], int] = {}
    for key in order:
        skill = versions[key]
        mine = held.get((skill.name, skill.sha256))
        if mine is not None:
            results.append(Added(skill.ref, skill=mine, new=False))
            renamed[key] = mine.version
            continue
        try:
            checked = check_skill(other.source(skill))
        except (SkillRejected, UsageError) as error:
            results.append(Added(skill.ref, refused=str(error)))
            continue
        calls = {n: renamed.get((n, v), v) for n, v in skill.meta.calls.items()}
        provenance = skill.meta.provenance.model_copy(update={"file": skill.meta.provenance.file or str(other.folder)})
        stored = library.save(checked, provenance, calls, _untrusted(skill.meta.verify))
        renamed[key] = stored.version
        results.append(Added(skill.ref, skill=stored))
    refs = {key: skill.ref for key, skill in versions.items()}
    return results + [
        Added(refs[key], refused=_calls_itself([refs[k] for k in cycles[key]])) for key in keys if key in cycles
    ]


def _untrusted(request: VerifyRequest) -> VerifyRequest:
    """Another library's verification request, its program kept only to be shown."""
    return request.model_copy(update={"call": None, "imported_call": request.call or request.imported_call})


def _callees_first(calls: Mapping[Node, set[Node]]) -> tuple[list[Node], dict[Node, list[Node]]]:
    """The nodes in an order where each comes after those it calls, and the cycles among them.

    Of the nodes whose callees are placed, the earliest in ``calls`` comes next, so the
    order is the given one wherever calls allow.

    Args:
        calls: each node -> the nodes it calls (those not in ``calls`` are left out).

    Returns:
        The nodes in order, leaving out those on a cycle; and for each of those, its
        cycle from itself back to itself (``[a, b, a]``: a calls b, which calls a).
    """
    position = {node: index for index, node in enumerate(calls)}
    cycles: dict[Node, list[Node]] = {}
    while True:
        sorter = TopologicalSorter(
            {node: (callees & position.keys()) - cycles.keys() for node, callees in calls.items() if node not in cycles}
        )
        try:
            sorter.prepare()
        except CycleError as error:
            # graphlib lists a cycle as [a, b, ..., a], each before the next: each called by the next.
            cycle = list(reversed(error.args[1][1:]))
            for index, node in enumerate(cycle):
                cycles[node] = [*cycle[index:], *cycle[:index], node]
            continue
        order: list[Node] = []
        ready: list[tuple[int, Node]] = []
        while sorter.is_active():
            for node in sorter.get_ready():
                heapq.heappush(ready, (position[node], node))
            _, node = heapq.heappop(ready)
            order.append(node)
            sorter.done(node)
        return order, cycles


def _calls_itself(cycle: list[str]) -> str:
    return f"it calls itself back through the skills it calls: {' -> '.join(map(str, cycle))}"


_STATEMENTS = {
    ast.Import: "an import",
    ast.ImportFrom: "an import",
    ast.Assign: "an assignment",
    ast.AnnAssign: "an assignment",
    ast.AugAssign: "an assignment",
    ast.Expr: "an expression statement",
    ast.ClassDef: "a class",
    ast.AsyncFunctionDef: "an async function",
    ast.For: "a for loop",
    ast.While: "a while loop",
    ast.If: "an if statement",
}


def _statement(statement: ast.stmt) -> str:
    """What a top-level statement is, in words (``an import``, ``a for loop`` ...)."""
    if type(statement) in _STATEMENTS:
        return _STATEMENTS[type(statement)]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", type(statement).__name__).lower()
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words} statement"


def _segment(text: str, function: ast.FunctionDef) -> str:
    """A function's own lines (decorators included, so the rule sees them), without the file's indentation."""
    first = min([function.lineno, *(d.lineno for d in function.decorator_list)])
    lines = text.splitlines()[first - 1 : function.end_lineno]
    return "\n".join(lines) + "\n"
