"""The free scene: objects, positions and instruction chosen by the user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.errors import SceneSamplingError, UsageError
from codeact_robot.envs.objects import KINDS, check_colour, object_name
from codeact_robot.envs.tasks.base import TaskInstance
from codeact_robot.envs.tasks.sampling import CLEARANCE, Layout, with_retries
from codeact_robot.envs.workspace import WORKSPACE

FREE_SCENE = "Tabletop"
OPTION_KEYS = ("blocks", "bowls", "cups", "positions", "instruction", "max_turns")
DEFAULT_OPTIONS: dict[str, Any] = {"blocks": ["red", "green", "blue"], "bowls": ["yellow"]}


def free_scene(seed: int, options: Mapping[str, Any] | None = None) -> TaskInstance:
    """Lay out a user-defined scene.

    Args:
        seed: draws the positions the options leave open.
        options: ``blocks``, ``bowls``, ``cups`` (lists of colour names), ``positions``
            (object name -> [x, y] or [x, y, z]), ``instruction`` (text), ``max_turns``.

    Returns:
        A task instance with no success check (``task == "Tabletop"``).

    Raises:
        UsageError: naming the bad option and what is valid.
    """
    options = dict(options or DEFAULT_OPTIONS)
    unknown = sorted(set(options) - set(OPTION_KEYS))
    if unknown:
        raise UsageError(f"unknown scene option(s) {', '.join(unknown)}; options are: {', '.join(OPTION_KEYS)}")
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
    rng = np.random.default_rng(seed)

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
    return TaskInstance(
        task=FREE_SCENE,
        seed=seed,
        instruction=str(options.get("instruction", "")),
        placements=tuple(layout.placements),
        max_turns=int(options.get("max_turns", 20)),
        colours="custom",
    )


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
