"""What a task is: instruction templates, a seeded scene sampler, a success check."""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from codeact_robot.envs.objects import COLOUR_SPLITS, DEFAULT_SPLIT
from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks.sampling import with_retries
from codeact_robot.errors import SceneSamplingError, UsageError, unknown_name_error


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
    """

    task: str
    seed: int
    instruction: str
    placements: tuple[ObjectPlacement, ...]
    params: dict[str, Any]
    max_turns: int
    colours: str

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
    """What a task's sampler returns."""

    instruction: str
    placements: list[ObjectPlacement]
    params: dict[str, Any]


class Task(ABC):
    """A family of episodes that share an instruction template and a success check.

    Subclasses set the class attributes and implement :meth:`sample_scene` and
    :meth:`check`. ``check`` must be a pure function of object states.
    """

    name: ClassVar[str]
    split: ClassVar[str]  # "seen", "unseen" (Code as Policies' instruction split) or "feedback"
    description: ClassVar[str]
    template: ClassVar[str]
    max_turns: ClassVar[int] = 8
    rules: ClassVar[str] = ""  # task-specific conventions the agent is told
    has_check: ClassVar[bool] = True  # False for a scene without a goal (the free scene)
    options: ClassVar[tuple[str, ...]] = ("colours", "instruction")  # what reset(options=...) may set

    def instance(
        self, seed: int, options: Mapping[str, Any] | None = None, colours: str = DEFAULT_SPLIT
    ) -> TaskInstance:
        """The episode for ``seed`` with the reset options applied.

        Args:
            seed: any non-negative integer.
            options: ``colours`` (the colour split, see :meth:`sample`) and ``instruction``
                (the user's own words for the same goal, e.g. in a chat).
            colours: the colour split when ``options`` names none.

        Raises:
            UsageError: an unknown option, naming the valid ones.
        """
        options = dict(options or {})
        self._check_options(options)
        instance = self.sample(seed, options.get("colours", colours))
        if options.get("instruction"):
            instance = replace(instance, instruction=str(options["instruction"]))
        return instance

    def _check_options(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            raise UsageError(
                f"unknown option(s) for {self.name}: {', '.join(unknown)}; options are: {', '.join(self.options)}"
            )

    def sample(self, seed: int, colours: str = DEFAULT_SPLIT) -> TaskInstance:
        """Sample the episode for ``seed`` (same seed, same episode).

        Args:
            seed: any non-negative integer.
            colours: colour split, ``"seen"``, ``"unseen"`` or ``"all"``.

        Returns:
            The sampled :class:`TaskInstance`.
        """
        if colours not in COLOUR_SPLITS:
            raise unknown_name_error("colour split", colours, COLOUR_SPLITS)
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode())])  # task-specific stream
        try:
            sample = with_retries(lambda: self.sample_scene(rng, COLOUR_SPLITS[colours]))
        except SceneSamplingError as error:
            raise SceneSamplingError(f"{self.name}: {error}") from None
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
        )

    @abstractmethod
    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        """Draw the scene, instruction and goal parameters."""

    @abstractmethod
    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        """Whether the goal holds for these object states."""
