"""Room around the gripper: where its fingers and hand would be at a grasp or a release, and
how far that is from the objects around, so the arm can turn its wrist to keep clear of them.

Shapes are seen from above. The gripper is a few rectangles, each with the height of its
underside; a block or cup is its rectangular footprint with the height of its top; a bowl
is round and hollow: the gripper may work inside it. Only parts of the gripper lower than
an object's top can meet it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from codeact_robot.envs.objects import BOWL_INNER_RADIUS, spec_of
from codeact_robot.skills.estimates import ObjectEstimate

# The Panda gripper (collision shapes of pybullet_data's panda.urdf), relative to the point
# between the fingertips. A finger tapers towards its tip, so it is two layers:
FINGERTIP_BELOW = 0.011  # the fingertips reach this far below the point
FINGER_TIP_THICKNESS = 0.022  # from a finger's inner face outwards, over its lowest 3 cm
FINGER_BASE_ABOVE = 0.019  # where the thicker part of a finger starts, above the point
FINGER_BASE_THICKNESS = 0.027
FINGER_HALF_WIDTH = 0.011  # across the opening axis
HAND_ABOVE = 0.039  # the hand's underside is this far above the point
HAND_HALF_LENGTH = 0.105  # along the opening axis
HAND_HALF_WIDTH = 0.032
ENOUGH_ROOM = 0.015  # a gripper this far from everything needs no other wrist angle


@dataclass(frozen=True)
class Rectangle:
    """A rectangle on the table's plane.

    Attributes:
        centre: (x, y), metres.
        yaw: direction of its first half-extent, radians.
        half: half-extents along its own axes, metres.
    """

    centre: np.ndarray
    yaw: float
    half: tuple[float, float]

    @property
    def axes(self) -> np.ndarray:
        """Its two unit axes, as rows."""
        cos, sin = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([[cos, sin], [-sin, cos]])

    @property
    def corners(self) -> np.ndarray:
        """Its four corners, as rows of (x, y)."""
        spans = self.axes * np.asarray(self.half)[:, None]
        return np.array([self.centre + a * spans[0] + b * spans[1] for a in (-1, 1) for b in (-1, 1)])

    def gap(self, other: Rectangle) -> float:
        """Room between two rectangles along the axis that separates them best (negative: overlap).

        Never more than their true distance, so a gap this size is there for sure.
        """
        mine, theirs = self.corners, other.corners
        gaps = []
        for axis in (*self.axes, *other.axes):
            a, b = mine @ axis, theirs @ axis
            gaps.append(max(b.min() - a.max(), a.min() - b.max()))
        return float(max(gaps))


@dataclass(frozen=True)
class Part:
    """A part of the gripper: what it covers seen from above, from ``bottom`` upwards.

    Attributes:
        shape: its outline from above.
        bottom: height of its underside, metres.
    """

    shape: Rectangle
    bottom: float


@dataclass(frozen=True)
class Obstacle:
    """An object the gripper should keep clear of.

    Attributes:
        name: the object's name.
        footprint: what it covers on the table.
        top: height of its top, metres.
        hollow: the inner radius of a round container (a bowl) the gripper may reach into; 0 if solid.
    """

    name: str
    footprint: Rectangle
    top: float
    hollow: float = 0.0

    def clearance(self, part: Part) -> float:
        """Horizontal room between the object and a part of the gripper (negative: they overlap)."""
        if part.bottom >= self.top:
            return math.inf
        centre = self.footprint.centre
        if self.hollow and float(np.linalg.norm(part.shape.centre - centre)) < self.hollow:
            return self.hollow - float(np.linalg.norm(part.shape.corners - centre, axis=1).max())
        return part.shape.gap(self.footprint)


def obstacles(estimates: Iterable[ObjectEstimate], handled: Iterable[str]) -> list[Obstacle]:
    """The perceived objects as obstacles, except the ``handled`` ones."""
    skip = set(handled)
    found = []
    for e in estimates:
        if e.name in skip:
            continue
        width, depth, _ = spec_of(e.name).size
        footprint = Rectangle(e.position[:2], e.orientation[2], (width / 2, depth / 2))
        found.append(Obstacle(e.name, footprint, e.top, BOWL_INNER_RADIUS if e.kind == "bowl" else 0.0))
    return found


def gripper_parts(point: np.ndarray, yaw: float, width: float) -> list[Part]:
    """The fingers, ``width`` apart, and the hand of a gripper at ``point`` (x, y, z) turned by ``yaw``.

    At yaw 0 the fingers open along y.
    """
    axis = yaw + math.pi / 2
    u = np.array([math.cos(axis), math.sin(axis)])
    centre = np.asarray(point[:2], dtype=float)
    parts = [Part(Rectangle(centre, axis, (HAND_HALF_LENGTH, HAND_HALF_WIDTH)), point[2] + HAND_ABOVE)]
    for thickness, bottom in (
        (FINGER_TIP_THICKNESS, point[2] - FINGERTIP_BELOW),
        (FINGER_BASE_THICKNESS, point[2] + FINGER_BASE_ABOVE),
    ):
        offset = width / 2 + thickness / 2
        for side in (-1, 1):
            finger = Rectangle(centre + side * offset * u, axis, (thickness / 2, FINGER_HALF_WIDTH))
            parts.append(Part(finger, bottom))
    return parts


def clearance(point: np.ndarray, yaw: float, width: float, around: Sequence[Obstacle]) -> float:
    """Room between the gripper at ``point`` and the nearest obstacle (inf when there is none)."""
    parts = gripper_parts(point, yaw, width)
    return min((o.clearance(p) for o in around for p in parts), default=math.inf)


def clearest_yaw(point: np.ndarray, yaws: Sequence[float], width: float, around: Sequence[Obstacle]) -> float:
    """The first of ``yaws`` that leaves ``ENOUGH_ROOM`` around the gripper, else the one that leaves most."""
    rooms = [min(clearance(point, yaw, width, around), ENOUGH_ROOM) for yaw in yaws]
    return yaws[int(np.argmax(rooms))]  # argmax takes the first of equals: the preferred yaw
