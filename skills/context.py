"""What skills act on: the world, the perception mode, and what the episode said and did."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codeact_robot.envs.camera import CameraFrame
from codeact_robot.envs.robot import FINGER_JOINTS
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.skills.controller import ArmController
from codeact_robot.skills.perception import Perception, make_perception


class SkillContext:
    """The episode-wide state behind the skill functions.

    Args:
        world: the tabletop world the robot acts in.
        perception: ``"state"`` (simulator poses of the objects the cameras can see) or
            ``"vision"`` (poses estimated from the RGB-D images).
    """

    def __init__(self, world: TabletopWorld, perception: str = "state") -> None:
        self.world = world
        self.controller = ArmController(world)
        self.perception: Perception = make_perception(perception, self)
        self.said: list[str] = []
        self.done_requested = False
        self.save_skill_hook: Callable[[Any], str] | None = None
        self._frames: dict[str, tuple[tuple[int, int], CameraFrame]] = {}

    def frame(self, camera: str) -> CameraFrame:
        """The camera's current view, rendered at most once per scene revision."""
        cached = self._frames.get(camera)
        if cached is not None and cached[0] == self.world.revision:
            return cached[1]
        frame = self.world.render(camera)
        self._frames[camera] = (self.world.revision, frame)
        return frame

    def held_object(self) -> str | None:
        """Name of the object both fingers touch, if any (tactile, not visual)."""
        sim = self.world.sim
        robot = self.world.robot
        touching = []
        for finger in FINGER_JOINTS:
            contacts = sim.client.getContactPoints(bodyA=robot.body, linkIndexA=finger)
            touching.append({sim.body_name(c[2]) for c in contacts} - {None, "table", robot.name})
        both = touching[0] & touching[1]
        if not both or robot.gripper_width() < 0.005:
            return None
        return min(both)
