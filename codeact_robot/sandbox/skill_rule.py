"""The rule a learned skill's source must follow, so that loading it runs nothing.

A learned skill is model-written (or hand-edited) code that every later episode loads.
Loading runs its module level, so the rule is that its module level can do nothing but
create one function:

- the source is exactly one top-level ``def`` (not ``async``), with nothing before or
  after it: no imports, assignments, calls or classes;
- the function has a docstring (it is what the prompt lists);
- no decorators (a decorator is a call made at load time);
- default values are literals (numbers, strings, ``None``, ``True``/``False`` and tuples,
  lists, sets and dicts of those), because defaults are evaluated at load time;
- annotations, evaluated at load time too, are only names, dotted names, strings,
  ``None`` and ``|`` unions of those;
- the name is a skill name (:func:`is_skill_name`: the same names a library's folders may
  have) and does not take the name of a skill, a builtin or a pre-imported module (it
  would replace them for every later program);
- it compiles under the sandbox's rules, and is at most :data:`MAX_SKILL_CHARS` long.

The body is checked by the sandbox like any program, and runs only when called.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Collection
from dataclasses import dataclass

from codeact_robot.sandbox.compiler import CompiledAction, CompileError, compile_action, parse_action

MAX_SKILL_CHARS = 50_000
MAX_SKILL_NAME_CHARS = 64
SKILL_NAME_RULE = (
    f"a skill's name is limited to {MAX_SKILL_NAME_CHARS} characters, ASCII letters, digits and underscores, "
    "starting with a letter, and is no Python keyword"
)
_SKILL_NAME = re.compile(rf"[A-Za-z][A-Za-z0-9_]{{0,{MAX_SKILL_NAME_CHARS - 1}}}")


class SkillRejected(ValueError):
    """A learned skill's source breaks the rule; the message says how."""


@dataclass(frozen=True)
class CheckedSkill:
    """A learned skill's source that follows the rule, and what checking it found.

    Attributes:
        source: the source.
        name: the function's name.
        signature: ``name(arguments)``, as written.
        doc: the docstring.
        names: every name the function reads (the skills it calls are among them).
        compiled: the source compiled under the sandbox's rules, ready to load.
    """

    source: str
    name: str
    signature: str
    doc: str
    names: frozenset[str]
    compiled: CompiledAction


def is_skill_name(text: object) -> bool:
    """Whether ``text`` may name a learned skill (see :data:`SKILL_NAME_RULE`)."""
    return isinstance(text, str) and _SKILL_NAME.fullmatch(text) is not None and not keyword.iskeyword(text)


def check_skill_source(source: str, reserved: Collection[str] = ()) -> CheckedSkill:
    """Check that loading ``source`` can only create one function.

    The source is parsed once: the function is read from its tree, which is then compiled.

    Args:
        source: the skill's source.
        reserved: names a skill must not take (the skills, builtins and modules of the sandbox).

    Returns:
        The function, as checking it found it, compiled.

    Raises:
        SkillRejected: naming the part of the rule the source breaks (not compiling, first).
    """
    if type(source) is not str:
        raise SkillRejected("a skill's source must be text")
    if len(source) > MAX_SKILL_CHARS:
        raise SkillRejected(f"a skill's source is limited to {MAX_SKILL_CHARS:,} characters; this has {len(source):,}")
    try:
        tree = parse_action(source, "<skill>")
    except CompileError as error:
        raise _not_compiling(error) from None
    try:
        name, signature, doc, names = _read_function(tree, reserved)  # before compiling, which rewrites the tree
    except SkillRejected:
        _compile(source, "<skill>", tree)  # a source that does not compile is refused for that first
        raise
    compiled = _compile(source, f"<skill {name}>", tree)
    return CheckedSkill(source, name, signature, doc, names, compiled)


def _compile(source: str, filename: str, tree: ast.Module) -> CompiledAction:
    try:
        return compile_action(source, filename, tree)
    except CompileError as error:
        raise _not_compiling(error) from None


def _not_compiling(error: CompileError) -> SkillRejected:
    return SkillRejected(f"it does not compile in the sandbox: {error.messages[0]}")


def _read_function(tree: ast.Module, reserved: Collection[str]) -> tuple[str, str, str, frozenset[str]]:
    """The function's name, ``name(arguments)``, docstring and the names it reads.

    Raises:
        SkillRejected: naming the first part of the rule (but compiling) that the source breaks.
    """
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        found = ", ".join(type(node).__name__ for node in tree.body) or "nothing"
        raise SkillRejected(f"a skill must be exactly one top-level def and nothing else; found: {found}")
    function = tree.body[0]
    name = function.name
    if name in reserved:
        raise SkillRejected(f"a skill cannot be named {name!r}: the name is taken by the robot API or Python")
    if not is_skill_name(name):
        raise SkillRejected(f"{name!r} cannot name a skill: {SKILL_NAME_RULE}")
    if function.decorator_list:
        raise SkillRejected(f"skill {name} has a decorator; decorators run when the skill is loaded")
    doc = ast.get_docstring(function)
    if doc is None:
        raise SkillRejected(f"skill {name} needs a docstring saying what it does")
    arguments = function.args
    for default in [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]:
        if not _is_literal(default):
            raise SkillRejected(
                f"skill {name} has the default value {ast.unparse(default)!r}; defaults must be literals "
                "(numbers, strings, None, True/False, or tuples, lists, sets and dicts of those)"
            )
    every_argument = [
        *arguments.posonlyargs,
        *arguments.args,
        *arguments.kwonlyargs,
        *(a for a in (arguments.vararg, arguments.kwarg) if a is not None),
    ]
    annotations = [a.annotation for a in every_argument if a.annotation is not None]
    if function.returns is not None:
        annotations.append(function.returns)
    for annotation in annotations:
        if not _is_type_expression(annotation):
            raise SkillRejected(
                f"skill {name} has the annotation {ast.unparse(annotation)!r}; annotations may only be names, "
                "dotted names, strings, None and | unions of those"
            )
    names = frozenset(n.id for n in ast.walk(function) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
    return name, f"{name}({ast.unparse(arguments)})", doc, names


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _is_type_expression(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, ast.Attribute):
        return _is_type_expression(node.value) and not isinstance(node.value, ast.Constant)
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_type_expression(node.left) and _is_type_expression(node.right)
    return False
