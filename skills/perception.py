"""The two perception modes: simulator state of visible objects, or RGB-D vision."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

from codeact_robot.envs.bullet import pybullet
from codeact_robot.envs.camera import CameraFrame
from codeact_robot.envs.objects import KINDS
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import unknown_name_error
from codeact_robot.skills.detector import detect, fuse
from codeact_robot.skills.estimates import ObjectEstimate

FrameSource = Callable[[str], CameraFrame]
"""The current image of a camera, by name (rendered at most once per scene revision)."""

Noise = Callable[[dict[str, ObjectEstimate], int], dict[str, ObjectEstimate]]
"""Perturbs fresh estimates perceived at a physics step count (the imperfect-physics state noise)."""

CAMERAS = ("top", "front")


class Perception(ABC):
    """Object names and poses for the skills, cached per scene revision.

    Args:
        world: the world perceived.
        frame: the camera images to perceive it by.
        noise: adds the episode's state noise to fresh estimates (None: none).
    """

    mode: str

    def __init__(self, world: TabletopWorld, frame: FrameSource, noise: Noise | None = None) -> None:
        self.world = world
        self.frame = frame
        self.noise = noise
        self._cache: tuple[tuple[int, int], dict[str, ObjectEstimate]] | None = None

    def estimates(self) -> dict[str, ObjectEstimate]:
        """Every perceived object, by name (sorted)."""
        revision = self.world.revision
        if self._cache is None or self._cache[0] != revision:
            found = self._perceive()
            if self.noise is not None:
                found = self.noise(found, self.world.sim.step_count)
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
    A visible drawer's knob is reported too, as ``"<colour> drawer handle"``.
    """

    mode = "state"

    def _perceive(self) -> dict[str, ObjectEstimate]:
        world = self.world
        seen: set[int] = set()
        for camera in CAMERAS:
            seen.update(np.unique(self.frame(camera).segmentation).tolist())
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
            if state.opening is not None:
                estimates[f"{name} handle"] = _handle_estimate(world, name, state.colour)
        return estimates


def _handle_estimate(world: TabletopWorld, drawer: str, colour: str) -> ObjectEstimate:
    """The knob of ``drawer``, a part addressable by name (it moves with the drawer)."""
    position = np.array(world.handle_position(drawer))
    half = np.array(KINDS["handle"].size) / 2
    return ObjectEstimate(
        f"{drawer} handle", "handle", colour, position, (0.0, 0.0, 0.0), (position - half, position + half)
    )


class VisionPerception(Perception):
    """Poses estimated from the RGB-D images of the top and front cameras (no simulator state).

    The detector is told the scene's naming convention (whether blocks carry size words), not where anything is.
    """

    mode = "vision"

    def _perceive(self) -> dict[str, ObjectEstimate]:
        sized = self.world.names_sizes
        return fuse([detect(self.frame(camera), camera, sized) for camera in CAMERAS])


def make_perception(mode: str, world: TabletopWorld, frame: FrameSource, noise: Noise | None = None) -> Perception:
    """The perception of ``mode`` (``"state"`` or ``"vision"``) of ``world`` through ``frame``, with ``noise``."""
    modes = {"state": StatePerception, "vision": VisionPerception}
    if mode not in modes:
        raise unknown_name_error("perception mode", mode, modes)
    return modes[mode](world, frame, noise)
