"""Compiling code actions: RestrictedPython's checks plus two rewrites of our own.

- a bare ``except:`` becomes ``except Exception:``, so no handler can swallow the
  exception that stops a program at a limit;
- a final expression statement has its value displayed, as in a notebook cell.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from types import CodeType

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.compile import compile_restricted_exec

DISPLAY = "_display_"


class CompileError(Exception):
    """The code is not valid Python, or it breaks the sandbox's rules.

    Attributes:
        messages: one line per problem, each naming its line.
    """

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class _Transformer(RestrictingNodeTransformer):
    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.type is None:
            node.type = ast.copy_location(ast.Name("Exception", ast.Load()), node)
        return super().visit_ExceptHandler(node)

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node = super().visit_Module(node)
        if node.body and isinstance(node.body[-1], ast.Expr):
            last = node.body[-1]
            call = ast.Call(func=ast.Name(DISPLAY, ast.Load()), args=[last.value], keywords=[])
            node.body[-1] = ast.copy_location(ast.Expr(ast.copy_location(call, last)), last)
            ast.fix_missing_locations(node)
        return node


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


def compile_action(source: str, filename: str) -> CompiledAction:
    """Compile one code action under the sandbox's rules.

    Raises:
        CompileError: with RestrictedPython's messages or Python's syntax error.
    """
    try:
        tree = ast.parse(source, filename, "exec")
    except SyntaxError as error:
        line = f" at line {error.lineno}" if error.lineno else ""
        text = f": {error.text.strip()}" if error.text else ""
        raise CompileError([f"SyntaxError: {error.msg}{line}{text}"]) from None
    functions = {
        node.name: ast.get_source_segment(source, node) or "" for node in tree.body if isinstance(node, ast.FunctionDef)
    }
    result = compile_restricted_exec(tree, filename, policy=_Transformer)
    if result.errors or result.code is None:
        messages = [f"SandboxError: {message}" for message in result.errors]
        raise CompileError(messages or ["the code could not be compiled"])
    return CompiledAction(result.code, filename, source, functions)
