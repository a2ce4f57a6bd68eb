"""The free scene: objects, positions and instruction chosen by the user; no success check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from codeact_robot.envs.objects import DEFAULT_SPLIT, KINDS, check_colour, object_name
from codeact_robot.envs.perturbation import Perturbation
from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task, TaskInstance
from codeact_robot.envs.tasks.sampling import CLEARANCE, Layout, with_retries
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.errors import SceneSamplingError, UsageError

DEFAULT_LAYOUT: dict[str, Any] = {"blocks": ["red", "green", "blue"], "bowls": ["yellow"]}
DEFAULT_TURNS = 20


class FreeScene(Task):
    """A scene laid out from ``reset(options=...)``: ``blocks``, ``bowls``, ``cups`` (colour
    names), ``positions`` (object name -> [x, y] or [x, y, z]), ``instruction`` and
    ``max_turns``. Positions the options leave open are drawn from the seed."""

    name = "Tabletop"
    split = "free"
    description = "free scene: objects, positions and instruction given by the user"
    template = "<the user's instruction>"
    max_turns = DEFAULT_TURNS
    has_check = False
    options: ClassVar[tuple[str, ...]] = ("blocks", "bowls", "cups", "positions", "instruction", "max_turns")

    def instance(
        self,
        seed: int,
        options: Mapping[str, Any] | None = None,
        colours: str = DEFAULT_SPLIT,
        perturbation: Perturbation | None = None,
    ) -> TaskInstance:
        """Lay out the user's scene (the default layout when ``options`` is empty).

        The scene's colours are the ones its options name; ``colours`` is not used, and
        the user's own scene is not perturbed.

        Raises:
            UsageError: naming the bad option and what is valid.
        """
        options = dict(options or DEFAULT_LAYOUT)
        self._check_options(options)
        rng = np.random.default_rng(seed)
        return self._instance_of(seed, _lay_out(rng, options), int(options.get("max_turns", self.max_turns)), "custom")

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        """The default layout (a free scene's colours come from its options, not a split)."""
        return _lay_out(rng, DEFAULT_LAYOUT)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        """No goal, so no verdict: never a success."""
        return CheckResult(False, "no check: the free scene has no goal")


def _lay_out(rng: np.random.Generator, options: Mapping[str, Any]) -> Sample:
    wanted = [
        (kind, check_colour(colour)) for kind in ("bowl", "cup", "block") for colour in options.get(kind + "s", [])
    ]
    names = [object_name(colour, kind) for kind, colour in wanted]
    positions = dict(options.get("positions", {}))
    strays = sorted(set(positions) - set(names))
    if strays:
        raise UsageError(
            f"positions given for objects not in the scene: {', '.join(strays)}; objects are: {', '.join(names)}"
        )

    def lay_out() -> Layout:
        layout = Layout(rng)
        for (kind, colour), name in zip(wanted, names):
            if name in positions:
                layout.add_at(kind, colour, *_position(name, positions[name], KINDS[kind].half_height))
        for (kind, colour), name in zip(wanted, names):
            if name not in positions:
                layout.add(kind, colour)
        return layout

    try:
        layout = with_retries(lay_out)
    except SceneSamplingError:
        counts = ", ".join(f"{len(options.get(k + 's', []))} {k}s" for k in ("block", "bowl", "cup"))
        raise SceneSamplingError(
            f"the scene ({counts}) does not fit on the table ({WORKSPACE.describe()}); each object needs its "
            f"footprint plus {CLEARANCE * 100:.0f} cm of room (a bowl about 17 cm across, a block 9 cm): "
            "use fewer objects"
        ) from None
    return Sample(str(options.get("instruction", "")), layout.placements, {})


def _position(name: str, value: Any, resting_z: float) -> tuple[tuple[float, float], float]:
    try:
        coordinates = [float(v) for v in value]
    except (TypeError, ValueError):
        coordinates = []
    if len(coordinates) not in (2, 3) or not all(np.isfinite(coordinates)):
        raise UsageError(f"position of {name} must be [x, y] or [x, y, z] in metres, got {value!r}")
    if not WORKSPACE.contains(coordinates[:2]):
        raise UsageError(f"position of {name} {coordinates} is outside the workspace ({WORKSPACE.describe()})")
    z = coordinates[2] if len(coordinates) == 3 else resting_z
    return (coordinates[0], coordinates[1]), z
