"""The table's frame, the reachable workspace and its named places.

World frame: robot base at the origin, x forward (away from the robot), y to the
robot's left, z up; the table top is z = 0. Seen from the top camera, "top" is the
far edge (+x), "bottom" the near edge (-x), "left" the robot's left (+y).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codeact_robot.errors import unknown_name_error


@dataclass(frozen=True)
class Bounds:
    """An axis-aligned box, in metres."""

    low: tuple[float, float, float]
    high: tuple[float, float, float]

    def contains(self, point: np.ndarray | tuple[float, ...], margin: float = 0.0) -> bool:
        """Whether ``point`` (xy or xyz) lies inside, shrunk by ``margin`` on each side."""
        point = np.asarray(point, dtype=float)
        n = len(point)
        low = np.asarray(self.low[:n]) + margin
        high = np.asarray(self.high[:n]) - margin
        return bool(np.all(point >= low) and np.all(point <= high))

    def describe(self) -> str:
        """Human-readable ranges, e.g. ``x in [0.25, 0.65], y in [-0.30, 0.30], z in [0.00, 0.40]``."""
        return ", ".join(f"{axis} in [{lo:.2f}, {hi:.2f}]" for axis, lo, hi in zip("xyz", self.low, self.high))


WORKSPACE = Bounds(low=(0.25, -0.30, 0.01), high=(0.65, 0.30, 0.40))
"""Where the fingertips may go and objects are placed (reachable with the gripper pointing down)."""

_X_NEAR, _X_MID, _X_FAR = 0.30, 0.45, 0.60
_Y_LEFT, _Y_RIGHT = 0.25, -0.25

TABLE_PLACES: dict[str, tuple[float, float]] = {
    "top left corner": (_X_FAR, _Y_LEFT),
    "top side": (_X_FAR, 0.0),
    "top right corner": (_X_FAR, _Y_RIGHT),
    "left side": (_X_MID, _Y_LEFT),
    "middle": (_X_MID, 0.0),
    "right side": (_X_MID, _Y_RIGHT),
    "bottom left corner": (_X_NEAR, _Y_LEFT),
    "bottom side": (_X_NEAR, 0.0),
    "bottom right corner": (_X_NEAR, _Y_RIGHT),
}
"""The nine table places of Code as Policies' tabletop domain, as (x, y) in metres."""

CORNERS = ("top left corner", "top right corner", "bottom left corner", "bottom right corner")
SIDES = ("top side", "left side", "right side", "bottom side")

DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (0.0, 1.0),
    "right": (0.0, -1.0),
    "top": (1.0, 0.0),
    "bottom": (-1.0, 0.0),
}
"""Unit xy vectors of the four directions as seen from the top camera."""

DIRECTIONS_RULE = "Directions are as seen from the top camera: left is +y, right is -y, top is +x, bottom is -x."


def place_position(name: str) -> tuple[float, float]:
    """The (x, y) of a named table place; raises with the valid names otherwise."""
    if name not in TABLE_PLACES:
        raise unknown_name_error("place", name, TABLE_PLACES)
    return TABLE_PLACES[name]
