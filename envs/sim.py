"""Thin PyBullet wrapper: one DIRECT client per world, bodies addressed by name."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pybullet_data
from pybullet_utils.bullet_client import BulletClient

from codeact_robot.envs.bullet import pybullet
from codeact_robot.envs.cstdout import captured_c_output
from codeact_robot.envs.physics import TIME_STEP
from codeact_robot.errors import unknown_name_error

Vector = Sequence[float]


class Simulation:
    """A PyBullet physics client of its own, with bodies addressed by name.

    Never touches PyBullet's global default client, so several simulations can
    live in one process.

    Args:
        time_step: physics step in seconds.
        solver_iterations: constraint-solver iterations per step.
    """

    def __init__(self, time_step: float = TIME_STEP, solver_iterations: int = 50) -> None:
        self.time_step = time_step
        self.solver_iterations = solver_iterations
        with captured_c_output():  # PyBullet prints its argv on connect
            self._client: BulletClient | None = BulletClient(connection_mode=pybullet.DIRECT)
        self._bodies: dict[str, int] = {}
        self._names: dict[int, str] = {}  # the reverse of _bodies: contact queries report ids
        self.step_count = 0
        self.reset()

    @property
    def client(self) -> BulletClient:
        """The underlying PyBullet client (raises once the simulation is closed)."""
        if self._client is None:
            raise RuntimeError("the simulation is closed")
        return self._client

    @property
    def names(self) -> list[str]:
        """Names of all bodies, in the order they were added."""
        return list(self._bodies)

    def reset(self) -> None:
        """Remove every body and restore gravity, time step and solver settings."""
        client = self.client
        with captured_c_output():  # renderer plugins report on every reset
            client.resetSimulation()
        client.setAdditionalSearchPath(pybullet_data.getDataPath())
        client.setGravity(0.0, 0.0, -9.81)
        client.setPhysicsEngineParameter(
            fixedTimeStep=self.time_step,
            numSolverIterations=self.solver_iterations,
            deterministicOverlappingPairs=1,
        )
        self._bodies.clear()
        self._names.clear()
        self.step_count = 0

    def load_urdf(
        self,
        name: str,
        path: str | os.PathLike[str],
        position: Vector = (0.0, 0.0, 0.0),
        orientation: Vector = (0.0, 0.0, 0.0, 1.0),
        fixed: bool = False,
        scale: float = 1.0,
    ) -> int:
        """Load a URDF file as a named body.

        Args:
            name: unique body name.
            path: URDF path (absolute, or relative to ``pybullet_data``).
            position: base position in metres.
            orientation: base orientation quaternion (x, y, z, w).
            fixed: whether the base is fixed to the world.
            scale: factor applied to the body's geometry (a large or small block).

        Returns:
            The PyBullet body id.
        """
        if name in self._bodies:
            raise ValueError(f"a body named {name!r} already exists")
        body = self.client.loadURDF(
            str(path),
            basePosition=list(position),
            baseOrientation=list(orientation),
            useFixedBase=fixed,
            flags=pybullet.URDF_ENABLE_CACHED_GRAPHICS_SHAPES,
            globalScaling=scale,
        )
        self._bodies[name] = body
        self._names[body] = name
        return body

    def body_id(self, name: str) -> int:
        """PyBullet id of the body called ``name``."""
        try:
            return self._bodies[name]
        except KeyError:
            raise unknown_name_error("body", name, self._bodies, "bodies") from None

    def body_name(self, body_id: int) -> str | None:
        """Name of the body with PyBullet id ``body_id`` (None if unknown)."""
        return self._names.get(body_id)

    def get_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Base position (m) and orientation quaternion (x, y, z, w) of a body."""
        position, orientation = self.client.getBasePositionAndOrientation(self.body_id(name))
        return np.array(position), np.array(orientation)

    def set_pose(self, name: str, position: Vector, orientation: Vector) -> None:
        """Teleport a body to a base position and orientation."""
        self.client.resetBasePositionAndOrientation(self.body_id(name), list(position), list(orientation))

    def get_velocity(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Linear (m/s) and angular (rad/s) base velocity of a body."""
        linear, angular = self.client.getBaseVelocity(self.body_id(name))
        return np.array(linear), np.array(angular)

    def set_velocity(self, name: str, linear: Vector, angular: Vector) -> None:
        """Set the linear (m/s) and angular (rad/s) base velocity of a body."""
        self.client.resetBaseVelocity(self.body_id(name), list(linear), list(angular))

    def set_dynamics(self, name: str, link: int = -1, **params: Any) -> None:
        """Change dynamics parameters (friction, mass, ...) of one link of a body."""
        self.client.changeDynamics(self.body_id(name), link, **params)

    def aabb(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounding box (min corner, max corner) of a body's base link."""
        low, high = self.client.getAABB(self.body_id(name))
        return np.array(low), np.array(high)

    def contact_bodies(self, name: str) -> set[str]:
        """Names of the bodies currently touching ``name``."""
        body = self.body_id(name)
        touching = {contact[2] for contact in self.client.getContactPoints(bodyA=body)}
        return {other for other in map(self.body_name, touching) if other is not None}

    def contact_bodies_of_link(self, name: str, link: int) -> set[str]:
        """Names of the bodies currently touching one link of ``name``."""
        contacts = self.client.getContactPoints(bodyA=self.body_id(name), linkIndexA=link)
        return {other for other in (self.body_name(c[2]) for c in contacts) if other is not None}

    def save_bullet(self) -> bytes:
        """The engine's own serialisation of every body's dynamic state."""
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "state.bullet")
            self.client.saveBullet(path)
            with open(path, "rb") as file:
                return file.read()

    def restore_bullet(self, data: bytes) -> None:
        """Restore a :meth:`save_bullet` result into a simulation holding the same bodies."""
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "state.bullet")
            with open(path, "wb") as file:
                file.write(data)
            self.client.restoreState(fileName=path)

    def step(self, count: int = 1) -> None:
        """Advance the physics by ``count`` steps."""
        client = self.client
        for _ in range(count):
            client.stepSimulation()
        self.step_count += count

    def restore_time(self, step_count: int) -> None:
        """Set the clock to a restored state's: ``step_count`` steps since the scene began."""
        self.step_count = step_count

    @property
    def time(self) -> float:
        """Simulated time since the last reset, in seconds."""
        return self.step_count * self.time_step

    def close(self) -> None:
        """Disconnect the client; safe to call more than once."""
        if self._client is not None:
            with contextlib.suppress(pybullet.error), captured_c_output():
                self._client.disconnect()
            self._client = None
            self._bodies.clear()
            self._names.clear()

    def __del__(self) -> None:
        self.close()
