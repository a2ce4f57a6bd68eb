"""The two perception modes: simulator state of visible objects, or RGB-D vision."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pybullet

from codeact_robot.envs.errors import unknown_name_error

if TYPE_CHECKING:
    from codeact_robot.skills.context import SkillContext

CAMERAS = ("top", "front")


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


class Perception(ABC):
    """Object names and poses for the skills, cached per scene revision."""

    mode: str

    def __init__(self, context: SkillContext) -> None:
        self.context = context
        self._cache: tuple[tuple[int, int], dict[str, ObjectEstimate]] | None = None

    def estimates(self) -> dict[str, ObjectEstimate]:
        """Every perceived object, by name (sorted)."""
        revision = self.context.world.revision
        if self._cache is None or self._cache[0] != revision:
            found = self._perceive()
            self._cache = (revision, {name: found[name] for name in sorted(found)})
        return self._cache[1]

    def names(self) -> list[str]:
        """Names of the perceived objects, sorted."""
        return list(self.estimates())

    def locate(self, name: str) -> ObjectEstimate:
        """The estimate for ``name``.

        Raises:
            UnknownNameError: when no such object is perceived; lists the ones that are.
        """
        estimates = self.estimates()
        if name not in estimates:
            raise unknown_name_error("object", name, estimates)
        return estimates[name]

    @abstractmethod
    def _perceive(self) -> dict[str, ObjectEstimate]:
        """Fresh estimates of the current scene."""


class StatePerception(Perception):
    """Simulator poses of the objects that at least one camera can see.

    Objects nothing can see (a block under a cup) are not reported, as in vision mode.
    """

    mode = "state"

    def _perceive(self) -> dict[str, ObjectEstimate]:
        world = self.context.world
        seen: set[int] = set()
        for camera in CAMERAS:
            seen.update(np.unique(self.context.frame(camera).segmentation).tolist())
        estimates = {}
        for name in world.object_names:
            if world.sim.body_id(name) not in seen:
                continue
            state = world.object_state(name)
            low, high = world.sim.aabb(name)
            estimates[name] = ObjectEstimate(
                name=name,
                kind=state.kind,
                colour=state.colour,
                position=np.array(state.position),
                orientation=tuple(float(a) for a in pybullet.getEulerFromQuaternion(state.orientation)),
                bbox=(low, high),
            )
        return estimates


class VisionPerception(Perception):
    """Poses estimated from the RGB-D images of the top and front cameras (no simulator state)."""

    mode = "vision"

    def _perceive(self) -> dict[str, ObjectEstimate]:
        from codeact_robot.skills.detector import detect, fuse

        return fuse([detect(self.context.frame(camera), camera) for camera in CAMERAS])


def make_perception(mode: str, context: SkillContext) -> Perception:
    """The perception of ``mode`` (``"state"`` or ``"vision"``) for ``context``."""
    modes = {"state": StatePerception, "vision": VisionPerception}
    if mode not in modes:
        raise unknown_name_error("perception mode", mode, modes)
    return modes[mode](context)
