"""What perception reports of an object, from simulator state or from the cameras."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ObjectEstimate:
    """What perception knows of one object.

    Attributes:
        name: ``"<colour> <kind>"``.
        kind: object kind.
        colour: palette colour.
        position: (x, y, z) of the bounding-box centre, metres.
        orientation: (roll, pitch, yaw), radians.
        bbox: (min corner, max corner) of the axis-aligned bounding box, metres.
        camera: the camera it was seen by (``"state"`` for simulator poses).
        pixels: how many pixels it covered in that camera (0 for simulator poses).
    """

    name: str
    kind: str
    colour: str
    position: np.ndarray
    orientation: tuple[float, float, float]
    bbox: tuple[np.ndarray, np.ndarray]
    camera: str = "state"
    pixels: int = 0

    @property
    def top(self) -> float:
        """Height of the object's top surface, metres."""
        return float(self.bbox[1][2])
