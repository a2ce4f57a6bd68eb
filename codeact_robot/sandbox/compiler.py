"""Compiling code actions: RestrictedPython's checks plus rewrites of our own.

- a bare ``except:`` becomes ``except Exception:``, so no handler can swallow the
  exception that stops a program at a limit;
- a bytes literal is refused: the sandbox has no bytes (see the policy module on buffers);
- a final expression statement has its value displayed, as in a notebook cell;
- ``name += value`` stays a native in-place operation;
- in a method of a class the program defines, ``self.name`` is read directly instead of
  through the attribute guard, when ``self`` is never rebound in the method: the method
  first checks that ``self`` is an instance of a program-defined class, whose attributes
  the guard would allow anyway, but for two an exception class inherits (``self.add_note``,
  ``self.with_traceback``), which take a string and a traceback the program cannot have.
  This keeps object-heavy programs fast.
"""

from __future__ import annotations

import ast
import contextlib
import unicodedata  # noqa: F401  (see below)
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.compile import compile_restricted_exec

# The parser imports unicodedata the first time a program has a non-ASCII identifier (θ = 0.5)
# or a named escape ("\N{DEGREE SIGN}"). A confined worker can no longer import what it had not
# loaded before it confined itself, so it is loaded with the compiler.

DISPLAY = "_display_"
CHECK_SELF = "_check_self_"
SELF_TYPES = "_self_types_"  # the types check_self has accepted
TYPE = "_type_"  # the real type(); the program's own ``type`` is the sandbox's


class CompileError(Exception):
    """The code is not valid Python, or it breaks the sandbox's rules.

    Attributes:
        messages: one line per problem, each naming its line.
    """

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class _Transformer(RestrictingNodeTransformer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._methods: list[set[int]] = []  # ids of the methods of the classes being visited
        self._trusted: list[str | None] = []  # the trusted ``self`` name of each enclosing function

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.type is None:
            node.type = ast.copy_location(ast.Name("Exception", ast.Load()), node)
        return super().visit_ExceptHandler(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, bytes):
            self.error(node, "bytes literals are not available in the sandbox; use str")
        return super().visit_Constant(node)

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node = super().visit_Module(node)
        if node.body and isinstance(node.body[-1], ast.Expr):
            last = node.body[-1]
            call = ast.Call(func=ast.Name(DISPLAY, ast.Load()), args=[last.value], keywords=[])
            node.body[-1] = ast.copy_location(ast.Expr(ast.copy_location(call, last)), last)
            ast.fix_missing_locations(node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        # ``n += 1`` on a name stays native: RestrictedPython routes it through a hook for
        # Zope's in-place policies, but it reaches nothing the operands did not already reach.
        if isinstance(node.target, ast.Name):
            return self.node_contents_visit(node)
        return super().visit_AugAssign(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._methods.append({id(child) for child in node.body if isinstance(child, ast.FunctionDef)})
        try:
            return super().visit_ClassDef(node)
        finally:
            self._methods.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        is_method = bool(self._methods) and id(node) in self._methods[-1]
        inherited = self._trusted[-1] if self._trusted else None
        trusted = _trusted_self(node) if is_method else inherited
        self._trusted.append(trusted)
        self._methods.append(set())  # a def inside a method is not a method
        try:
            node = super().visit_FunctionDef(node)
        finally:
            self._methods.pop()
            self._trusted.pop()
        if is_method and trusted:
            # if _type_(self) not in _self_types_: _check_self_(self)
            check = ast.If(
                test=ast.Compare(
                    ast.Call(ast.Name(TYPE, ast.Load()), [ast.Name(trusted, ast.Load())], []),
                    [ast.NotIn()],
                    [ast.Name(SELF_TYPES, ast.Load())],
                ),
                body=[ast.Expr(ast.Call(ast.Name(CHECK_SELF, ast.Load()), [ast.Name(trusted, ast.Load())], []))],
                orelse=[],
            )
            start = 1 if ast.get_docstring(node) is not None else 0
            node.body.insert(start, ast.copy_location(check, node.body[start] if len(node.body) > start else node))
            ast.fix_missing_locations(node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        guarded = super().visit_Attribute(node)
        trusted = self._trusted[-1] if self._trusted else None
        if (
            trusted
            and isinstance(guarded, ast.Call)
            and isinstance(guarded.func, ast.Name)
            and guarded.func.id == "_getattr_"
            and isinstance(guarded.args[0], ast.Name)
            and guarded.args[0].id == trusted
        ):
            return ast.copy_location(ast.Attribute(guarded.args[0], node.attr, ast.Load()), node)
        return guarded


def _trusted_self(method: ast.FunctionDef) -> str | None:
    """The method's first parameter if nothing in the method can rebind it, else None."""
    if method.decorator_list:
        return None  # a classmethod or staticmethod has no instance first
    positional = method.args.posonlyargs + method.args.args
    if not positional:
        return None
    name = positional[0].arg
    for node in ast.walk(ast.Module(body=method.body, type_ignores=[])):
        rebinds = (
            (isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load))
            or (isinstance(node, ast.arg) and node.arg == name)
            or (isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names)
            or (isinstance(node, ast.ExceptHandler) and node.name == name)
            or (isinstance(node, ast.alias) and name in (node.name, node.asname))
            or (isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name)
            or (isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name == name)
        )
        if rebinds:
            return None
    return name


@dataclass
class CompiledAction:
    """A code action ready to run.

    Attributes:
        code: the bytecode.
        filename: its pseudo file name (``<action 3>``), which tracebacks are cut to.
        source: the program text.
        functions: source of every top-level ``def``, by name (for ``save_skill``).
    """

    code: CodeType
    filename: str
    source: str
    functions: dict[str, str] = field(default_factory=dict)


def parse_action(source: str, filename: str) -> ast.Module:
    """The syntax tree of a code action, for a caller that reads it before compiling it.

    Raises:
        CompileError: as :func:`compile_action` does for a source that does not parse.
    """
    with _compile_errors(source):
        return ast.parse(source, filename, "exec")


def compile_action(source: str, filename: str, tree: ast.Module | None = None) -> CompiledAction:
    """Compile one code action under the sandbox's rules.

    Every way compiling can fail becomes a :class:`CompileError`: a syntax error, a rule
    of the sandbox, text that is not valid Unicode (a lone surrogate), a program nested
    too deeply for the parser or the compiler (``1+1+...+1`` a hundred thousand times),
    or anything else the parser or compiler raises: the program cannot run, the sandbox can.

    Args:
        source: the program.
        filename: its pseudo file name (``<action 3>``).
        tree: the source's tree from :func:`parse_action`, when the caller has parsed it
            already; compiling rewrites it in place.

    Raises:
        CompileError: with RestrictedPython's messages or Python's syntax error.
    """
    with _compile_errors(source):
        return _compile(source, filename, tree if tree is not None else ast.parse(source, filename, "exec"))


@contextlib.contextmanager
def _compile_errors(source: str) -> Iterator[None]:
    """Turn whatever parsing or compiling ``source`` raises into a :class:`CompileError`."""
    try:
        yield
    except CompileError:
        raise
    except SyntaxError as error:
        line = f" at line {error.lineno}" if error.lineno else ""
        text = f": {error.text.strip()}" if error.text else ""
        raise CompileError([f"SyntaxError: {error.msg}{line}{text}"]) from None
    except UnicodeError as error:
        start = getattr(error, "start", 0)
        line = source.count("\n", 0, start) + 1
        raise CompileError(
            [f"SyntaxError: the program contains text that is not valid Unicode (a lone surrogate) at line {line}"]
        ) from None
    except (RecursionError, MemoryError):
        raise CompileError(["SyntaxError: the program is nested too deeply to compile"]) from None
    except Exception as error:
        raise CompileError([f"SyntaxError: the program could not be compiled ({type(error).__name__})"]) from None


def _compile(source: str, filename: str, tree: ast.Module) -> CompiledAction:
    functions = {
        node.name: ast.get_source_segment(source, node) or "" for node in tree.body if isinstance(node, ast.FunctionDef)
    }
    result = compile_restricted_exec(tree, filename, policy=_Transformer)
    if result.errors or result.code is None:
        messages = [f"SandboxError: {message}" for message in result.errors]
        raise CompileError(messages or ["SandboxError: the code could not be compiled"])
    return CompiledAction(result.code, filename, source, functions)
