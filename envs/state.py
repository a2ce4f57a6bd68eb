"""Plain-data descriptions of a scene: what is placed where, and object states."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from codeact_robot.envs.objects import NO_SIZE, ObjectKind, check_colour, check_size, kind_spec, object_name


@dataclass(frozen=True)
class ObjectPlacement:
    """One object to put into a scene.

    Attributes:
        kind: ``"block"``, ``"bowl"`` or ``"cup"``.
        colour: a palette colour.
        position: (x, y, z) of the object's bounding-box centre, metres.
        yaw: rotation about z, radians.
        size: a size word of ``SIZES`` (blocks only), or ``NO_SIZE``.
    """

    kind: str
    colour: str
    position: tuple[float, float, float]
    yaw: float = 0.0
    size: str = NO_SIZE

    def __post_init__(self) -> None:
        check_colour(self.colour)
        kind_spec(self.kind, self.size)

    @property
    def name(self) -> str:
        """The object's name, ``"<colour> <kind>"`` or ``"<size> <colour> <kind>"``."""
        return object_name(self.colour, self.kind, self.size)

    @property
    def spec(self) -> ObjectKind:
        """The object's extents, its size applied."""
        return kind_spec(self.kind, self.size)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-friendly)."""
        return {
            "kind": self.kind,
            "colour": self.colour,
            "position": list(self.position),
            "yaw": self.yaw,
            "size": self.size,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectPlacement:
        """Inverse of :meth:`to_dict`."""
        return cls(
            data["kind"],
            data["colour"],
            tuple(data["position"]),
            float(data.get("yaw", 0.0)),
            str(data.get("size", NO_SIZE)),
        )


@dataclass(frozen=True)
class ObjectState:
    """Where an object is and how it moves.

    Attributes:
        name: ``"<colour> <kind>"``.
        kind: object kind.
        colour: palette colour.
        position: bounding-box centre, metres.
        orientation: quaternion (x, y, z, w).
        linear_velocity: m/s.
        angular_velocity: rad/s.
        size: the size word (blocks of a sized scene), or ``NO_SIZE``.
    """

    name: str
    kind: str
    colour: str
    position: tuple[float, float, float]
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    linear_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    angular_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    size: str = NO_SIZE

    def __post_init__(self) -> None:
        check_size(self.kind, self.size)

    @property
    def spec(self) -> ObjectKind:
        """The object's kind description (extents with its size applied, graspable)."""
        return kind_spec(self.kind, self.size)

    @property
    def yaw(self) -> float:
        """Rotation about z in radians (from the quaternion)."""
        x, y, z, w = self.orientation
        return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))

    @property
    def up_z(self) -> float:
        """z component of the object's up axis (1 when upright, -1 upside down)."""
        x, y, _, _ = self.orientation
        return 1 - 2 * (x * x + y * y)

    @property
    def flatness(self) -> float:
        """How well one of the object's axes points straight up or down (1 when resting on a face)."""
        x, y, z, w = self.orientation
        axes_z = (2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y))
        return max(abs(a) for a in axes_z)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-friendly)."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectState:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=data["name"],
            kind=data["kind"],
            colour=data["colour"],
            position=tuple(data["position"]),
            orientation=tuple(data.get("orientation", (0.0, 0.0, 0.0, 1.0))),
            linear_velocity=tuple(data.get("linear_velocity", (0.0, 0.0, 0.0))),
            angular_velocity=tuple(data.get("angular_velocity", (0.0, 0.0, 0.0))),
            size=str(data.get("size", NO_SIZE)),
        )
