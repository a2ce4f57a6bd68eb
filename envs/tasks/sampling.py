"""Seeded layout of objects on the table without overlaps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from codeact_robot.envs.objects import BLOCK_SIZE, NO_SIZE, kind_spec
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.workspace import WORKSPACE, Bounds
from codeact_robot.errors import SceneSamplingError

T = TypeVar("T")
LAYOUT_RETRIES = 20
CLEARANCE = 0.03  # free space between footprints, so fingers fit beside a block
ATTEMPTS = 500


def choose_colours(rng: np.random.Generator, colours: Sequence[str], count: int) -> list[str]:
    """``count`` distinct colours drawn from ``colours``.

    Raises:
        SceneSamplingError: when the split has fewer than ``count`` colours.
    """
    if count > len(colours):
        raise SceneSamplingError(
            f"the scene needs {count} distinct colours but only {len(colours)} are available: {', '.join(colours)}"
        )
    return [str(c) for c in rng.choice(list(colours), size=count, replace=False)]


def with_retries(draw: Callable[[], T], retries: int = LAYOUT_RETRIES) -> T:
    """Call ``draw`` until it lays out a scene: a random layout can paint itself into a corner.

    Raises:
        SceneSamplingError: the last failure, when every try failed.
    """
    failure = SceneSamplingError("no layout was tried")
    for _ in range(retries):
        try:
            return draw()
        except SceneSamplingError as error:
            failure = error
    raise failure


def far_from(points: Sequence[Sequence[float]], distance: float) -> Callable[[np.ndarray], bool]:
    """A predicate on (x, y): at least ``distance`` from every point."""
    return lambda xy: all(np.hypot(xy[0] - p[0], xy[1] - p[1]) >= distance for p in points)


class Layout:
    """Places objects at random free spots of the workspace.

    Args:
        rng: the episode's random generator.
        bounds: where objects may go (their whole footprint stays inside).
    """

    def __init__(self, rng: np.random.Generator, bounds: Bounds = WORKSPACE) -> None:
        self.rng = rng
        self.bounds = bounds
        self.placements: list[ObjectPlacement] = []

    def add(
        self,
        kind: str,
        colour: str,
        region: Bounds | None = None,
        accept: Callable[[np.ndarray], bool] | None = None,
        size: str = NO_SIZE,
    ) -> ObjectPlacement:
        """Put a ``kind`` object of ``colour`` at a random free spot.

        Args:
            kind: object kind.
            colour: palette colour.
            region: where its centre may go (default: anywhere its footprint fits).
            accept: optional predicate on the candidate (x, y) array; candidates it
                rejects are redrawn.
            size: the object's size word, if the scene gives it one.

        Returns:
            The new placement (also kept in :attr:`placements`).

        Raises:
            SceneSamplingError: when no free spot is found.
        """
        radius = kind_spec(kind, size).footprint_radius
        region = region or self.bounds
        low = np.maximum(np.array(region.low[:2]), np.array(self.bounds.low[:2]) + radius)
        high = np.minimum(np.array(region.high[:2]), np.array(self.bounds.high[:2]) - radius)
        if np.any(low > high):
            raise SceneSamplingError(f"a {kind} does not fit in the region {region.describe()}")
        for _ in range(ATTEMPTS):
            xy = self.rng.uniform(low, high)
            if self._free(xy, radius) and (accept is None or accept(xy)):
                return self.add_at(kind, colour, xy, size=size)
        raise SceneSamplingError(
            f"cannot fit a {kind} on the table next to {len(self.placements)} other objects "
            f"({self.bounds.describe()}); use fewer or smaller objects"
        )

    def add_at(
        self, kind: str, colour: str, xy: Sequence[float], z: float | None = None, size: str = NO_SIZE
    ) -> ObjectPlacement:
        """Put an object at a given (x, y), resting on the table unless ``z`` is given."""
        yaw = float(self.rng.uniform(-np.pi / 4, np.pi / 4)) if kind != "bowl" else 0.0
        height = kind_spec(kind, size).half_height if z is None else z
        placement = ObjectPlacement(kind, colour, (float(xy[0]), float(xy[1]), height), yaw, size)
        self.placements.append(placement)
        return placement

    def stack_on(self, below: ObjectPlacement, colour: str, size: str = NO_SIZE) -> ObjectPlacement:
        """Put a block of ``colour`` (and ``size``) squarely on top of ``below``, turned as it is."""
        half = kind_spec("block", size).half_height
        top = below.position[2] + below.spec.half_height
        x, y, _ = below.position
        placement = ObjectPlacement("block", colour, (x, y, top + half), below.yaw, size)
        self.placements.append(placement)
        return placement

    def cover(self, cup_colour: str, block_colour: str | None) -> ObjectPlacement:
        """Put a cup at a free spot, with a block of ``block_colour`` hidden under it (if given)."""
        cup = self.add("cup", cup_colour)
        if block_colour is not None:
            hidden = (cup.position[0], cup.position[1], BLOCK_SIZE / 2)
            self.placements.append(ObjectPlacement("block", block_colour, hidden, cup.yaw))
        return cup

    def _free(self, xy: np.ndarray, radius: float) -> bool:
        for other in self.placements:
            gap = np.hypot(xy[0] - other.position[0], xy[1] - other.position[1])
            if gap < radius + other.spec.footprint_radius + CLEARANCE:
                return False
        return True
