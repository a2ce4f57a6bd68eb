"""``help()`` and ``dir()`` for sandboxed code: what a name is, how to call it, what is defined.

This is host code reading program values, so it reads only what needs no guard: signatures,
docstrings and the names a class defines itself. Stand-ins (numpy functions, ufuncs, class
views) describe what they stand for through their ``_described`` method, which programs
cannot call.
"""

from __future__ import annotations

import inspect
import re
import reprlib
from collections.abc import Iterable, Mapping
from typing import Any

from codeact_robot.sandbox.safemodule import SafeModule

MAX_DOC_LINES = 40
USAGE = (
    "help(name) shows how to call a function (its signature and docstring) or what a module or class offers;\n"
    "dir() lists the names defined so far and the robot API; dir(x) lists what x offers."
)
_MODULE_PREFIX = re.compile(r"\b(?:typing|collections\.abc|builtins)\.")
_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60


def describe(obj: Any, name: str | None = None) -> str:
    """The text ``help(obj)`` prints.

    Args:
        obj: the value asked about.
        name: the name it was asked by, for ``help("pick")``.
    """
    described = getattr(type(obj), "_described", None)
    target = described(obj) if described is not None else obj
    if isinstance(obj, SafeModule):
        return _module(obj)
    if inspect.isclass(target):
        return _class(target)
    if callable(target):
        return _function(target, name or getattr(target, "__name__", None) or "function")
    return (
        f"{_short.repr(obj)} is a {type(obj).__name__} value; help() describes functions, classes and modules.\n"
        f"dir() of it lists what it offers."
    )


def names_defined(namespace: Mapping[str, Any]) -> list[str]:
    """``dir()`` with no argument: the program's names and the API, without the sandbox's hooks."""
    return sorted(name for name in namespace if not name.startswith("_"))


def signature_text(function: Any, name: str) -> str:
    """``name(arg: type = default) -> type``, or what the docstring's first line says for builtins."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        first = (inspect.getdoc(function) or "").split("\n", 1)[0]
        return first if first.startswith(f"{name}(") else f"{name}(...)"
    parameters: list[str] = []
    star_done = False
    previous = None
    for parameter in signature.parameters.values():
        if parameters and parameter.kind is not parameter.POSITIONAL_ONLY and previous is parameter.POSITIONAL_ONLY:
            parameters.append("/")
        previous = parameter.kind
        if parameter.kind is parameter.KEYWORD_ONLY and not star_done:
            parameters.append("*")
        star_done = star_done or parameter.kind in (parameter.VAR_POSITIONAL, parameter.KEYWORD_ONLY)
        text = {parameter.VAR_POSITIONAL: "*", parameter.VAR_KEYWORD: "**"}.get(parameter.kind, "") + parameter.name
        annotated = parameter.annotation is not parameter.empty
        if annotated:
            text += f": {_annotation(parameter.annotation)}"
        if parameter.default is not parameter.empty:
            text += f"{' = ' if annotated else '='}{_short.repr(parameter.default)}"
        parameters.append(text)
    if parameters and previous is inspect.Parameter.POSITIONAL_ONLY:
        parameters.append("/")
    returns = ""
    if signature.return_annotation is not signature.empty:
        returns = f" -> {_annotation(signature.return_annotation)}"
    return f"{name}({', '.join(parameters)}){returns}"


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    if annotation is None or annotation is type(None):
        return "None"
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        module = annotation.__module__
        prefix = "" if module in ("builtins", "typing") else "np." if module == "numpy" else f"{module}."
        return prefix + annotation.__qualname__
    return _MODULE_PREFIX.sub("", str(annotation)).replace("numpy.", "np.").replace("NoneType", "None")


def _doc(target: Any) -> str:
    lines = (inspect.getdoc(target) or "").splitlines()
    if len(lines) > MAX_DOC_LINES:
        lines = [*lines[:MAX_DOC_LINES], f"[... {len(lines) - MAX_DOC_LINES} more lines]"]
    return "\n".join(f"    {line}" if line else "" for line in lines)


def _function(target: Any, name: str) -> str:
    header = signature_text(target, name)
    doc = _doc(target)
    if doc.lstrip().startswith(f"{name}("):  # builtins and ufuncs open their docstring with the signature
        doc = doc.split("\n", 1)[1] if "\n" in doc else ""
    return header + (f"\n{doc}" if doc.strip() else "")


def _class(cls: type) -> str:
    parts = [f"class {cls.__qualname__}"]
    doc = _doc(cls)
    if doc and cls.__module__ == "__sandbox__":
        parts.append(doc)
    elif doc:
        parts.append("\n".join(doc.splitlines()[:3]))
    if cls.__module__ == "__sandbox__":
        methods = _own_methods(cls.__mro__)
        parts.extend(f"  {signature_text(method, method_name)}" for method_name, method in methods)
    return "\n".join(parts)


def _own_methods(classes: Iterable[type]) -> list[tuple[str, Any]]:
    found: dict[str, Any] = {}
    for cls in classes:
        if cls.__module__ != "__sandbox__":
            continue
        for name, value in vars(cls).items():
            if inspect.isfunction(value) and (not name.startswith("_") or name == "__init__"):
                found.setdefault(name, value)
    return sorted(found.items())


def _module(module: SafeModule) -> str:
    names = module._names()
    lines, line = [], ""
    for name in names:
        if len(line) + len(name) > 100:
            lines.append(line.rstrip())
            line = ""
        line += name + " "
    lines.append(line.rstrip())
    listing = "\n".join(f"    {item}" for item in lines if item)
    return f"module {module._name} (sandboxed): {len(names)} members; help(module.name) describes one\n{listing}"
