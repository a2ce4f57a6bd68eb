"""What skills act on: the world, its perception, the arm, and what the episode said and did."""

from __future__ import annotations

from codeact_robot.envs.camera import CameraFrame
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.skills.controller import ArmController
from codeact_robot.skills.detector import Detection, detect
from codeact_robot.skills.episode import EpisodeTalk
from codeact_robot.skills.manipulation import Manipulator
from codeact_robot.skills.perception import make_perception


class SkillContext(EpisodeTalk):
    """The episode-wide state behind the world's skill functions (and, in a process that runs
    programs next to the world, the episode skills': no skill library to save to).

    Args:
        world: the tabletop world the robot acts in.
        perception: ``"state"`` (simulator poses of the objects the cameras can see) or
            ``"vision"`` (poses estimated from the RGB-D images).
    """

    def __init__(self, world: TabletopWorld, perception: str = "state") -> None:
        super().__init__()
        self.world = world
        self.perception = make_perception(perception, world, self.frame)
        self.controller = ArmController(world)
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
        return detect(self.frame(camera), camera)
