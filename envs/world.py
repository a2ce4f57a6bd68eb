"""The tabletop world: table, Panda, named objects and cameras in one simulation."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from codeact_robot.envs.bullet import pybullet
from codeact_robot.envs.camera import DEFAULT_CAMERAS, Camera, CameraConfig, CameraFrame
from codeact_robot.envs.imaging import DEFAULT_RENDERER, IMAGE_SIZE, RendererMode
from codeact_robot.envs.objects import (
    CABINET_SIZE,
    COLOURS,
    HANDLE_STANDOFF,
    KINDS,
    SIZES,
    TABLE_CENTRE,
    TABLE_COLOUR,
    asset_path,
)
from codeact_robot.envs.physics import TIME_STEP
from codeact_robot.envs.rendering import Renderer
from codeact_robot.envs.robot import CLOSED_WIDTH, FINGER_JOINTS, Panda
from codeact_robot.envs.sim import Simulation
from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.errors import UsageError, unknown_name_error

STATE_VERSION = 1
DRAWER_FRICTION = 3.0  # newtons: the drawer's slide holds still unless pushed or pulled
StepListener = Callable[[int], None]


class TabletopWorld:
    """A table with a Franka Panda at the origin and coloured objects on it.

    The world is rebuilt from scratch on every :meth:`build` and :meth:`set_state`,
    so what happens next depends only on the state, never on the world's history.

    Args:
        cameras: camera placements; resolution is overridden by ``camera_size``.
        camera_size: (width, height) of every camera image.
        renderer: ``"auto"``, ``"tiny"`` or ``"egl"`` (see :class:`Renderer`).
        time_step: physics step in seconds.
        on_step: called with the step count after every physics step (step budgets,
            video recorders).
    """

    def __init__(
        self,
        cameras: Sequence[CameraConfig] = DEFAULT_CAMERAS,
        camera_size: tuple[int, int] = IMAGE_SIZE,
        renderer: RendererMode = DEFAULT_RENDERER,
        time_step: float = TIME_STEP,
        on_step: StepListener | None = None,
    ) -> None:
        self.sim = Simulation(time_step=time_step)
        self.renderer = Renderer(self.sim.client, renderer)
        self.cameras = {c.name: Camera(c.resized(*camera_size), self.renderer) for c in cameras}
        self.on_step = on_step
        self._placements: list[ObjectPlacement] = []
        self.builds = 0  # counts rebuilds, so caches keyed on (builds, step count) stay valid
        self.robot: Panda
        self._closed = False
        self.build([])

    # --- building ----------------------------------------------------------------------

    def build(self, placements: Iterable[ObjectPlacement], settle_steps: int = 0) -> None:
        """Reset the simulation and lay out a new scene.

        Args:
            placements: the objects to create; names must be unique.
            settle_steps: physics steps to run afterwards so resting contacts form.
        """
        placements = list(placements)
        names = [p.name for p in placements]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise UsageError(f"object names must be unique; repeated: {', '.join(duplicates)}")
        self.sim.reset()
        self.sim.load_urdf("table", asset_path("table.urdf"), TABLE_CENTRE, fixed=True)
        self.sim.client.changeVisualShape(self.sim.body_id("table"), -1, rgbaColor=[*TABLE_COLOUR, 1.0])
        self.robot = Panda(self.sim)
        for placement in placements:
            self._add(placement)
        self._placements = placements
        self.builds += 1
        self.sim.step(settle_steps)

    def _add(self, placement: ObjectPlacement) -> None:
        kind = KINDS[placement.kind]
        orientation = pybullet.getQuaternionFromEuler((0.0, 0.0, placement.yaw))
        scale = SIZES[placement.size] if placement.size else 1.0
        body = self.sim.load_urdf(
            placement.name, asset_path(kind.urdf), placement.position, orientation, kind.fixed, scale=scale
        )
        client = self.sim.client
        for link in range(-1, client.getNumJoints(body)):
            client.changeVisualShape(body, link, rgbaColor=[*COLOURS[placement.colour], 1.0])
        for joint in range(client.getNumJoints(body)):  # a drawer's slide: friction, not a free joint
            client.setJointMotorControl2(
                body, joint, pybullet.VELOCITY_CONTROL, targetVelocity=0.0, force=DRAWER_FRICTION
            )
            client.resetJointState(body, joint, placement.opening)

    def opening(self, name: str) -> float | None:
        """How far the drawer ``name`` is pulled out, in metres (None for an object without a drawer)."""
        body = self.sim.body_id(name)
        if self.sim.client.getNumJoints(body) == 0:
            return None
        return float(self.sim.client.getJointState(body, 0)[0])

    def handle_position(self, name: str) -> tuple[float, float, float]:
        """Where the centre of the knob of the drawer ``name`` is, in the world frame."""
        client = self.sim.client
        body = self.sim.body_id(name)
        _, _, _, _, origin, orientation = client.getLinkState(body, 0)
        knob = (-CABINET_SIZE[0] / 2 - HANDLE_STANDOFF, 0.0, 0.0)
        position, _ = client.multiplyTransforms(origin, orientation, knob, (0.0, 0.0, 0.0, 1.0))
        return (float(position[0]), float(position[1]), float(position[2]))

    # --- reading -----------------------------------------------------------------------

    @property
    def object_names(self) -> list[str]:
        """Names of all objects (table and robot excluded), in creation order."""
        return [p.name for p in self._placements]

    @property
    def names_sizes(self) -> bool:
        """Whether this scene names its blocks with size words (``"large red block"``): its naming
        convention, which vision perception is told (it says nothing of where anything is)."""
        return any(p.size for p in self._placements)

    def placement(self, name: str) -> ObjectPlacement:
        """How the object ``name`` was created (kind, colour, initial pose)."""
        for p in self._placements:
            if p.name == name:
                return p
        raise unknown_name_error("object", name, self.object_names)

    def object_state(self, name: str) -> ObjectState:
        """Current pose and velocity of one object."""
        placement = self.placement(name)
        position, orientation = self.sim.get_pose(name)
        linear, angular = self.sim.get_velocity(name)
        return ObjectState(
            name,
            placement.kind,
            placement.colour,
            tuple(position),
            tuple(orientation),
            tuple(linear),
            tuple(angular),
            placement.size,
            self.opening(name),
        )

    def object_states(self) -> dict[str, ObjectState]:
        """Current state of every object, by name."""
        return {name: self.object_state(name) for name in self.object_names}

    def held_object(self) -> str | None:
        """Name of the object both fingers touch, if any (tactile, not visual)."""
        robot = self.robot
        touching = [
            self.sim.contact_bodies_of_link(robot.name, finger) - {"table", robot.name} for finger in FINGER_JOINTS
        ]
        both = touching[0] & touching[1]
        if not both or robot.gripper_width() < CLOSED_WIDTH:
            return None
        return min(both)

    def render(self, camera: str = "front") -> CameraFrame:
        """Render one camera's RGB, depth and segmentation images."""
        if camera not in self.cameras:
            raise unknown_name_error("camera", camera, self.cameras)
        return self.cameras[camera].render()

    @property
    def revision(self) -> tuple[int, int]:
        """Changes whenever the scene may have changed (a rebuild or a physics step)."""
        return self.builds, self.sim.step_count

    @property
    def time(self) -> float:
        """Simulated seconds since the scene was built or restored."""
        return self.sim.time

    # --- stepping ----------------------------------------------------------------------

    def step(self, count: int = 1) -> None:
        """Advance the physics ``count`` steps, calling ``on_step`` after each."""
        for _ in range(count):
            self.sim.step()
            if self.on_step is not None:
                self.on_step(self.sim.step_count)

    # --- plain-data state ----------------------------------------------------------------

    def get_state(self, exact: bool = True) -> dict[str, Any]:
        """The full state as plain data (JSON-serialisable; survives a process boundary).

        Args:
            exact: also include the physics engine's own serialisation (base64, about
                160 kB), so that :meth:`set_state` restores every number bit for bit.
                Without it, poses are restored to within rounding (about 1e-16).

        Returns:
            A dict with the scene's objects (kind, colour, pose, velocities), the robot's
            joints, velocities and motor targets, and the step count.
        """
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "time_step": self.sim.time_step,
            "step_count": self.sim.step_count,
            "objects": [self.object_state(name).to_dict() for name in self.object_names],
            "robot": self.robot.get_state(),
        }
        if exact:
            state["bullet"] = base64.b64encode(self.sim.save_bullet()).decode("ascii")
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        """Rebuild the world and put it into ``state`` (from :meth:`get_state`)."""
        if state.get("version") != STATE_VERSION:
            raise UsageError(f"unsupported world state version {state.get('version')!r}; expected {STATE_VERSION}")
        objects = [ObjectState.from_dict(o) for o in state["objects"]]
        self.build(
            ObjectPlacement(o.kind, o.colour, o.position, size=o.size, opening=o.opening or 0.0) for o in objects
        )
        if "bullet" in state:
            self.sim.restore_bullet(base64.b64decode(state["bullet"]))
        else:
            for o in objects:
                self.sim.set_pose(o.name, o.position, o.orientation)
                self.sim.set_velocity(o.name, o.linear_velocity, o.angular_velocity)
        self.robot.set_state(state["robot"])
        self.sim.restore_time(int(state["step_count"]))

    def close(self) -> None:
        """Release the renderer and the physics client; safe to call twice."""
        if not self._closed:
            self._closed = True
            self.renderer.close()
            self.sim.close()
