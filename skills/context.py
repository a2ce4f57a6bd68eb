"""What skills act on: the world, its perception, the arm, and what the episode said and did."""

from __future__ import annotations

import numpy as np

from codeact_robot.envs.camera import CameraFrame
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.skills.controller import ArmController
from codeact_robot.skills.detector import Detection, detect
from codeact_robot.skills.episode import EpisodeTalk
from codeact_robot.skills.imperfections import Imperfections
from codeact_robot.skills.manipulation import Manipulator
from codeact_robot.skills.perception import make_perception


class SkillContext(EpisodeTalk):
    """The episode-wide state behind the world's skill functions (and, in a process that runs
    programs next to the world, the episode skills': no skill library to save to).

    Args:
        world: the tabletop world the robot acts in.
        perception: ``"state"`` (simulator poses of the objects the cameras can see) or
            ``"vision"`` (poses estimated from the RGB-D images).
        imperfections: the episode's imperfect physics (None: perfect).
        slipping: a grasp slipped in the episode being restored and has not moved yet
            (see :class:`ArmController`).
    """

    def __init__(
        self,
        world: TabletopWorld,
        perception: str = "state",
        imperfections: Imperfections | None = None,
        slipping: bool = False,
    ) -> None:
        super().__init__()
        self.world = world
        self.imperfections = imperfections
        noise = imperfections.noisy if imperfections is not None else None
        self.perception = make_perception(perception, world, self.frame, noise)
        self.controller = ArmController(world, imperfections.slips if imperfections is not None else None, slipping)
        self.manipulator = Manipulator(world, self.controller, self.perception)
        self._frames: dict[str, tuple[tuple[int, int], CameraFrame]] = {}

    def frame(self, camera: str) -> CameraFrame:
        """The camera's current view, rendered at most once per scene revision."""
        cached = self._frames.get(camera)
        if cached is not None and cached[0] == self.world.revision:
            return cached[1]
        frame = self.world.render(camera)
        self._frames[camera] = (self.world.revision, frame)
        return frame

    def detect(self, camera: str) -> list[Detection]:
        """The OpenCV detector's findings in the camera's current view."""
        return detect(self.frame(camera), camera, self.world.names_sizes)

    def disturb(self) -> str | None:
        """Between turns: maybe nudge a visible object (see :class:`Imperfections`); says what happened."""
        if self.imperfections is None:
            return None
        visible: set[int] = set()
        for camera in self.world.cameras:
            visible.update(np.unique(self.frame(camera).segmentation).tolist())
        names = {n for n in self.world.object_names if self.world.sim.body_id(n) in visible}
        return self.imperfections.disturb(self.world, names)
