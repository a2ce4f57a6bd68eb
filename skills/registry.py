"""The one place skills are registered, each with the API tiers that offer it.

From the registry come the sandbox namespace (:func:`bind`), the prompt's API text
(:func:`api_reference`) and the argument schemas of the JSON and text action modes
(:func:`argument_schema`), each for one API tier (:func:`skills_for`):

- ``high``: every skill;
- ``primitive``: no compound motions (no ``pick``, ``place``, ``pick_and_place``, ``push``,
  ``go_home``): programs compute approach, grasp height, release and retreat themselves;
- ``pixels``: ``primitive`` without object state from the simulator (no names, poses,
  bounding boxes, held object's name, and no detector): programs find objects in the
  camera images, whose intrinsics and extrinsics ``get_camera_info`` gives.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from codeact_robot.errors import unknown_name_error

ApiTier = Literal["high", "primitive", "pixels"]
"""An API tier: which skills a program may call."""
TIERS: tuple[str, ...] = get_args(ApiTier)
DEFAULT_API: ApiTier = "high"
HIGH_ONLY: tuple[str, ...] = ("high",)  # compound motions
WITH_OBJECT_STATE: tuple[str, ...] = ("high", "primitive")  # what the simulator knows of the objects
GROUPS = ("scene", "gripper", "vision", "motion", "other")  # "other": the episode skills (say, done ...)


@dataclass(frozen=True)
class Skill:
    """A robot API function as code actions see it.

    Attributes:
        name: function name in the sandbox.
        group: one of ``GROUPS``.
        function: the host implementation; its first parameter is the skill context.
        tiers: the API tiers that offer it.
    """

    name: str
    group: str
    function: Callable[..., Any]
    tiers: tuple[str, ...] = TIERS

    @functools.cached_property  # bound to a fresh sandbox at every reset; the signature never changes
    def signature(self) -> inspect.Signature:
        """The signature code actions call: the context parameter dropped, annotations resolved.

        The context's own type is never resolved, so reading a skill's signature does not
        import the simulator.
        """
        full = inspect.signature(self.function)
        context, *parameters = full.parameters
        hints = typing.get_type_hints(self.function, localns={full.parameters[context].annotation: Any})
        return full.replace(
            parameters=[full.parameters[name].replace(annotation=hints[name]) for name in parameters],
            return_annotation=hints.get("return", inspect.Signature.empty),
        )

    @property
    def doc(self) -> str:
        """The cleaned docstring."""
        return inspect.getdoc(self.function) or ""

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return self.doc.splitlines()[0] if self.doc else ""

    def header(self) -> str:
        """``name(arg: type = default) -> type`` as a line of Python."""
        return f"{self.name}{_format_signature(self.signature)}"


SKILLS: dict[str, Skill] = {}


def skill(group: str, tiers: tuple[str, ...] = TIERS) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers a function as a skill of ``group``, offered in ``tiers``."""
    if group not in GROUPS:
        raise ValueError(f"unknown skill group {group!r}; groups are: {', '.join(GROUPS)}")
    unknown = [t for t in tiers if t not in TIERS]
    if unknown:
        raise ValueError(f"unknown API tier(s) {unknown}; tiers are: {', '.join(TIERS)}")

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        SKILLS[function.__name__] = Skill(function.__name__, group, function, tuple(tiers))
        return function

    return register


def all_skills() -> list[Skill]:
    """Every registered skill, grouped in ``GROUPS`` order (imports the skill modules)."""
    import codeact_robot.skills  # noqa: F401  (registers the skills on import)

    return sorted(SKILLS.values(), key=lambda s: GROUPS.index(s.group))


def skills_for(api: str = DEFAULT_API) -> list[Skill]:
    """The skills API tier ``api`` offers, grouped in ``GROUPS`` order.

    Raises:
        UnknownNameError: ``api`` is not a tier; the message lists the tiers.
    """
    if api not in TIERS:
        raise unknown_name_error("API tier", api, TIERS)
    return [s for s in all_skills() if api in s.tiers]


def has_object_state(api: str) -> bool:
    """Whether tier ``api`` tells programs (and observations) which objects there are and where."""
    return api in WITH_OBJECT_STATE


def bind(context: Any, skills: Iterable[Skill] | None = None) -> dict[str, Callable[..., Any]]:
    """Skills (default: every one) with their context bound: the functions code actions call (before copying)."""
    return {s.name: _bound(s, context) for s in (all_skills() if skills is None else skills)}


def _bound(s: Skill, context: Any) -> Callable[..., Any]:
    function = s.function

    def call(*args: Any, **kwargs: Any) -> Any:
        return function(context, *args, **kwargs)

    call.__name__ = call.__qualname__ = s.name
    call.__doc__ = function.__doc__
    call.__signature__ = s.signature  # type: ignore[attr-defined]  (what help() in the sandbox shows)
    return call


def api_reference(api: str = DEFAULT_API) -> str:
    """The API text a system prompt includes: every signature and docstring of the tier's skills, by group."""
    skills = skills_for(api)
    sections = []
    for group in GROUPS:
        members = [s for s in skills if s.group == group]
        if not members:
            continue
        lines = [f"### {group}"]
        for s in members:
            body = "\n".join("    " + line if line else "" for line in s.doc.splitlines())
            lines.append(f"{s.header()}\n{body}")
        sections.append("\n\n".join(lines))
    return "\n\n".join(sections)


def api_summary(api: str = DEFAULT_API) -> str:
    """The API text of a compact system prompt: one line per skill of the tier, its call and what it does."""
    skills = skills_for(api)
    return "\n".join(
        f"{s.name}{_format_signature(s.signature.replace(return_annotation=inspect.Signature.empty))}  # {s.summary}"
        for s in skills
    )


JSON_TYPES = {str: "string", float: "number", int: "integer", bool: "boolean"}


def argument_schema(s: Skill) -> dict[str, Any]:
    """JSON Schema of a skill's arguments (for the JSON action mode)."""
    properties: dict[str, Any] = {}
    required = []
    for parameter in s.signature.parameters.values():
        properties[parameter.name] = _json_type(parameter.annotation)
        if parameter.default is inspect.Parameter.empty:
            required.append(parameter.name)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def argument_schemas(api: str = DEFAULT_API) -> dict[str, dict[str, Any]]:
    """JSON Schema of every argument list in tier ``api``, by skill name."""
    return {s.name: argument_schema(s) for s in skills_for(api)}


def _json_type(annotation: Any) -> dict[str, Any]:
    if annotation in JSON_TYPES:
        return {"type": JSON_TYPES[annotation]}
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_json_type(a) for a in arguments if a is not type(None)]}
    if origin in (list, tuple, collections.abc.Sequence) or annotation in (list, tuple):
        return {"type": "array", "items": {"type": "number"}}
    return {}  # anything goes


def _format_signature(signature: inspect.Signature) -> str:
    parameters = []
    for p in signature.parameters.values():
        text = p.name
        if p.annotation is not inspect.Parameter.empty:
            text += f": {_type_name(p.annotation)}"
        if p.default is not inspect.Parameter.empty:
            text += f" = {p.default!r}"
        parameters.append(text)
    returns = ""
    if signature.return_annotation is not inspect.Signature.empty:
        returns = f" -> {_type_name(signature.return_annotation)}"
    return f"({', '.join(parameters)}){returns}"


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "None"
    if isinstance(annotation, type):
        return ("np." if annotation.__module__ == "numpy" else "") + annotation.__name__
    text = str(annotation)
    replacements = (("typing.", ""), ("collections.abc.", ""), ("numpy.ndarray", "np.ndarray"), ("NoneType", "None"))
    for long, short in replacements:
        text = text.replace(long, short)
    return text
