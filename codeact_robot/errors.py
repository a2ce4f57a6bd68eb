"""Errors that say what was wrong and what is valid: the base every layer may import."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError


class UsageError(ValueError):
    """Bad input from a user: the message says what was wrong and what is valid."""


class UnknownNameError(UsageError):
    """A name (task, colour, object, place ...) that does not exist."""


class SceneSamplingError(UsageError):
    """A scene that cannot be laid out on the table."""


def unknown_name_error(what: str, name: object, valid: Iterable[str], plural: str | None = None) -> UnknownNameError:
    """Build the error for an unknown name, listing the valid ones.

    Args:
        what: what the name should denote ("task", "colour", "object" ...).
        name: the name that was asked for.
        valid: every valid name.
        plural: plural of ``what`` (default: ``what`` + "s").

    Returns:
        An ``UnknownNameError`` whose message suggests the closest valid name.
    """
    valid = list(valid)
    return UnknownNameError(
        f"no {what} named {name!r}{_suggestion(name, valid)}; {_listing(plural or what + 's', valid)}"
    )


def _suggestion(name: object, valid: list[str]) -> str:
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6) if isinstance(name, str) else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def _listing(plural: str, valid: list[str]) -> str:
    return f"{plural} are: {', '.join(valid) if valid else 'none'}"


def settings_error(source: str, model: type[BaseModel], error: ValidationError) -> UsageError:
    """One line naming every bad setting in ``source``, with what is valid.

    An unknown field lists the valid fields where it stands and the closest match
    (``max_turn``: did you mean ``max_turns``?); a value that is not one of a fixed set lists
    the set and the closest match; the missing fields of one place are named together; a
    number out of range says the bound; any other problem gives pydantic's reason.

    Args:
        source: where the settings came from (a file name, "the command line" ...).
        model: the settings model that rejected them.
        error: pydantic's error.
    """
    problems: list[str] = []
    missing: dict[str, list[str]] = {}
    for item in error.errors():
        if item["type"] == "extra_forbidden":
            where = ".".join(str(part) for part in item["loc"])
            valid = _fields_at(model, item["loc"][:-1])
            name = item["loc"][-1]
            problems.append(f"{where}: unknown setting{_suggestion(name, valid)}; {_listing('settings here', valid)}")
        elif item["type"] == "missing":
            missing.setdefault(".".join(str(part) for part in item["loc"][:-1]), []).append(str(item["loc"][-1]))
        else:
            text = problem_text(item)
            if not any(p.startswith(text.split(": ")[0] + ": ") for p in problems):  # a union: its first member
                problems.append(text)
    for where, names in missing.items():
        problems.insert(0, f"{where + ': ' if where else ''}missing {', '.join(names)} (each is required)")
    return UsageError(f"invalid settings in {source}: {'; '.join(problems)}")


_BOUNDS = {
    "greater_than_equal": "at least",
    "greater_than": "more than",
    "less_than_equal": "at most",
    "less_than": "less than",
}
_UNION_MEMBER = re.compile(r"[\[A-Z]")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def problem_text(problem: Mapping[str, Any]) -> str:
    """One of pydantic's problems (an item of ``ValidationError.errors()``) as ``where: what``, in our words."""
    # Unions name the member tried (``seeds.list[int]``, ``seeds.SeedRange``): the setting is what counts.
    where = ".".join(str(p) for p in problem["loc"] if not _UNION_MEMBER.search(str(p))) or "value"
    kind, context, given = problem["type"], problem.get("ctx") or {}, problem.get("input")
    if kind in ("literal_error", "enum") and "expected" in context:
        valid = _QUOTED.findall(str(context["expected"]))
        return f"{where}: {given!r} is not valid{_suggestion(given, valid)}; valid: {', '.join(valid)}"
    if kind in _BOUNDS:
        bound = next(iter(context.values()), None)
        return f"{where}: {given!r} is out of range; it must be {_BOUNDS[kind]} {bound}"
    message = str(problem["msg"]).removeprefix("Value error, ")  # our validators' own sentences
    return f"{where}: {message}"


def _fields_at(model: type[BaseModel], location: tuple[int | str, ...]) -> list[str]:
    """Field names of the (nested) model found at ``location``."""
    for part in location:
        if isinstance(part, int):
            continue  # an item of a list of models
        field = model.model_fields.get(part)
        nested = _model_in(field.annotation) if field is not None else None
        if nested is None:
            return []
        model = nested
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes among them) written as ``\\xNN``.

    For text that comes from data (a results store, a library, a recording someone sent):
    printed raw, it could retitle the terminal, clear it or hide what follows.
    """
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
