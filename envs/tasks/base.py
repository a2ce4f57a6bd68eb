"""What a task is: instruction templates, a seeded scene sampler, a success check."""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from codeact_robot.envs.objects import COLOUR_SPLITS, DEFAULT_SPLIT, KINDS
from codeact_robot.envs.perturbation import Perturbation
from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks.sampling import Layout, far_from, with_retries
from codeact_robot.envs.workspace import TABLE_PLACES, WORKSPACE
from codeact_robot.errors import SceneSamplingError, UsageError, unknown_name_error

SHIFT_DIRECTIONS = 8
SPOT_CLEARANCE = 0.12  # distractors keep this far from where the goal or a scene event puts an object


@dataclass(frozen=True)
class TaskInstance:
    """One sampled episode of a task: the scene, the instruction, the goal.

    Attributes:
        task: task name.
        seed: the seed it was sampled from.
        instruction: what the user asks, in plain language.
        placements: the objects of the initial scene.
        params: the goal as plain data (object names, places ...), read by the check.
        max_turns: the turn budget.
        colours: the colour split the scene was drawn from.
        events: what happens to the scene while the agent works, as plain data (see
            :class:`SceneEvent`), in order.
    """

    task: str
    seed: int
    instruction: str
    placements: tuple[ObjectPlacement, ...]
    params: dict[str, Any]
    max_turns: int
    colours: str
    events: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-friendly)."""
        return {
            "task": self.task,
            "seed": self.seed,
            "instruction": self.instruction,
            "placements": [p.to_dict() for p in self.placements],
            "params": self.params,
            "max_turns": self.max_turns,
            "colours": self.colours,
            "events": list(self.events),
        }


@dataclass(frozen=True)
class CheckResult:
    """A success verdict and the reason for it."""

    success: bool
    detail: str

    def __bool__(self) -> bool:
        return self.success


@dataclass(frozen=True)
class Sample:
    """What a task's sampler returns.

    Attributes:
        instruction: the instruction, from the family's template.
        placements: the objects of the scene.
        params: the goal as plain data.
        fields: the template's fields, so that a paraphrase can ask for the same goal.
        events: scene events (see :class:`TaskInstance`).
    """

    instruction: str
    placements: list[ObjectPlacement]
    params: dict[str, Any]
    fields: dict[str, str] = field(default_factory=dict)
    events: tuple[dict[str, Any], ...] = ()


class Task(ABC):
    """A family of episodes that share an instruction template and a success check.

    Subclasses set the class attributes and implement :meth:`sample_scene` and
    :meth:`check`. ``check`` must be a pure function of object states.
    """

    name: ClassVar[str]
    # "seen", "unseen" (Code as Policies' instruction split), "feedback" (hidden blocks) or
    # "interactive" (pushing, drawers, counting, distractors, occluders, a changing scene)
    split: ClassVar[str]
    description: ClassVar[str]
    template: ClassVar[str]
    max_turns: ClassVar[int] = 8
    rules: ClassVar[str] = ""  # task-specific conventions the agent is told
    paraphrases: ClassVar[tuple[str, ...]] = ()  # other words for ``template``, same fields (seen split)
    held_out_paraphrases: ClassVar[tuple[str, ...]] = ()  # ones only the unseen split asks with
    distractor_kinds: ClassVar[tuple[str, ...]] = ("cup", "bowl")  # extra objects the goal is indifferent to
    has_check: ClassVar[bool] = True  # False for a scene without a goal (the free scene)
    options: ClassVar[tuple[str, ...]] = ("colours", "instruction")  # what reset(options=...) may set

    def instance(
        self,
        seed: int,
        options: Mapping[str, Any] | None = None,
        colours: str = DEFAULT_SPLIT,
        perturbation: Perturbation | None = None,
    ) -> TaskInstance:
        """The episode for ``seed`` with the reset options applied.

        Args:
            seed: any non-negative integer.
            options: ``colours`` (the colour split, see :meth:`sample`) and ``instruction``
                (the user's own words for the same goal, e.g. in a chat).
            colours: the colour split when ``options`` names none.
            perturbation: what to perturb (see :mod:`perturbation`); None: nothing.

        Raises:
            UsageError: an unknown option, naming the valid ones.
        """
        options = dict(options or {})
        self._check_options(options)
        instance = self.sample(seed, options.get("colours", colours), perturbation)
        if options.get("instruction"):
            instance = replace(instance, instruction=str(options["instruction"]))
        return instance

    def _check_options(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise UsageError(
                f"unknown option(s) for {self.name}: {', '.join(unknown)}; options are: {', '.join(self.options)}"
            )

    def sample(self, seed: int, colours: str = DEFAULT_SPLIT, perturbation: Perturbation | None = None) -> TaskInstance:
        """Sample the episode for ``seed`` (same seed, same episode).

        Args:
            seed: any non-negative integer.
            colours: colour split, ``"seen"``, ``"unseen"`` or ``"all"``.
            perturbation: what to perturb; None: nothing.

        Returns:
            The sampled :class:`TaskInstance`.
        """
        if colours not in COLOUR_SPLITS:
            raise unknown_name_error("colour split", colours, COLOUR_SPLITS)
        if perturbation is not None and perturbation.unseen_colours:
            colours = "unseen"
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode())])  # task-specific stream
        try:
            sample = with_retries(lambda: self.sample_scene(rng, COLOUR_SPLITS[colours]))
        except SceneSamplingError as error:
            raise SceneSamplingError(f"{self.name}: {error}") from None
        if perturbation is not None and perturbation.active:
            own = np.random.default_rng([seed, zlib.crc32(self.name.encode()), zlib.crc32(b"perturbation")])
            sample = self._perturbed(sample, perturbation, own, colours)
        return self._instance_of(seed, sample, self.max_turns, colours)

    def _instance_of(self, seed: int, sample: Sample, max_turns: int, colours: str) -> TaskInstance:
        return TaskInstance(
            task=self.name,
            seed=seed,
            instruction=sample.instruction,
            placements=tuple(sample.placements),
            params=sample.params,
            max_turns=max_turns,
            colours=colours,
            events=sample.events,
        )

    # --- perturbations (see perturbation.py) ------------------------------------------------

    def _perturbed(self, sample: Sample, perturbation: Perturbation, rng: np.random.Generator, colours: str) -> Sample:
        instruction, placements, events = sample.instruction, list(sample.placements), sample.events
        if perturbation.paraphrase:
            templates = self.paraphrases if colours == "seen" else self.held_out_paraphrases
            if templates:
                instruction = str(rng.choice(list(templates))).format(**sample.fields)
        if perturbation.layout_shift > 0:
            offset = self._shift(placements, sample.params, perturbation.layout_shift, rng)
            placements = [_moved(p, offset) for p in placements]
            events = tuple({**e, "move_to": [float(v) for v in np.array(e["move_to"]) + offset]} for e in events)
        if perturbation.distractors > 0:
            spots = [*self.reserved(placements, sample.params), *(e["move_to"] for e in events)]
            placements = _with_distractors(
                placements, spots, self.distractor_kinds, perturbation.distractors, rng, colours
            )
        return replace(sample, instruction=instruction, placements=placements, events=events)

    def _shift(
        self, placements: list[ObjectPlacement], params: dict[str, Any], distance: float, rng: np.random.Generator
    ) -> np.ndarray:
        """The first of eight directions (from a seeded start) that keeps the layout inside and its goal unmet."""
        start = float(rng.uniform(0.0, 2 * np.pi))
        for step in range(SHIFT_DIRECTIONS):
            angle = start + 2 * np.pi * step / SHIFT_DIRECTIONS
            offset = distance * np.array([np.cos(angle), np.sin(angle)])
            moved = [_moved(p, offset) for p in placements]
            inside = all(WORKSPACE.contains(p.position[:2], p.spec.footprint_radius) for p in moved)
            if inside and not self.check(_resting(moved), params):
                return offset
        return np.zeros(2)

    def reserved(self, placements: Sequence[ObjectPlacement], params: Mapping[str, Any]) -> list[tuple[float, float]]:
        """Table points (x, y) where the goal puts something: distractors keep clear of them.

        By default the named place of a goal that has one (``params["place"]``).
        """
        return [TABLE_PLACES[params["place"]]] if params.get("place") in TABLE_PLACES else []

    @abstractmethod
    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        """Draw the scene, instruction and goal parameters."""

    @abstractmethod
    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        """Whether the goal holds for these object states."""


def _moved(placement: ObjectPlacement, offset: np.ndarray) -> ObjectPlacement:
    x, y, z = placement.position
    return replace(placement, position=(float(x + offset[0]), float(y + offset[1]), z))


def _resting(placements: list[ObjectPlacement]) -> dict[str, ObjectState]:
    """Object states of a layout as laid out, at rest (for checking a goal before anything moves)."""
    states = {}
    for p in placements:
        half = p.yaw / 2
        opening = 0.0 if KINDS[p.kind].fixed else None
        orientation = (0.0, 0.0, float(np.sin(half)), float(np.cos(half)))
        states[p.name] = ObjectState(p.name, p.kind, p.colour, p.position, orientation, size=p.size, opening=opening)
    return states


def _with_distractors(
    placements: list[ObjectPlacement],
    spots: list[Any],
    kinds: tuple[str, ...],
    count: int,
    rng: np.random.Generator,
    colours: str,
) -> list[ObjectPlacement]:
    """The layout with up to ``count`` extra objects of ``kinds`` (in turn) at free spots, in unused colours.

    The distractors also keep clear of ``spots`` (x, y): where the goal or a scene event puts objects.
    """
    layout = Layout(rng, existing=placements)
    clear_of_spots = far_from(spots, SPOT_CLEARANCE)
    for index in range(count):
        kind = kinds[index % len(kinds)]
        used = {p.colour for p in layout.placements if p.kind == kind}
        free = [c for c in COLOUR_SPLITS[colours] if c not in used]
        if not free:
            continue
        try:
            layout.add(kind, str(rng.choice(free)), accept=clear_of_spots)
        except SceneSamplingError:
            continue  # no room left: fewer distractors
    return layout.placements
