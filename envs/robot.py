"""The Franka Panda arm: joint and end-effector position control, gripper."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from codeact_robot.envs.bullet import pybullet
from codeact_robot.envs.sim import Simulation, Vector

ARM_JOINTS = (0, 1, 2, 3, 4, 5, 6)
FINGER_JOINTS = (9, 10)
EE_LINK = 11  # panda_grasptarget: between the fingertips
HOME_JOINTS = (0.0, -1.25, 0.0, -2.5, 0.0, 1.24, 0.785)  # fingertips at about (0.15, 0, 0.5), clear of the cameras
IK_REST_JOINTS = (0.0, -0.5, 0.0, -2.3, 0.0, 1.8, 0.785)  # null-space bias of the IK solver
ARM_FORCES = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
MAX_GRIPPER_WIDTH = 0.08
CLOSED_WIDTH = 0.005  # fingers closer than this are closed on nothing
OPEN_WIDTH = MAX_GRIPPER_WIDTH - 0.005  # fingers wider apart than this are fully open
GRIPPER_FORCE = 40.0  # N per finger
_LOWER = (-2.9671, -1.8326, -2.9671, -3.1416, -2.9671, -0.0873, -2.9671)
_UPPER = (2.9671, 1.8326, 2.9671, 0.0, 2.9671, 3.8223, 2.9671)
_RANGES = tuple(u - lo for lo, u in zip(_LOWER, _UPPER))


def down_orientation(yaw: float) -> np.ndarray:
    """Quaternion of a gripper pointing straight down, rotated by ``yaw`` about z."""
    return np.array(pybullet.getQuaternionFromEuler((np.pi, 0.0, yaw)))


class Panda:
    """A Franka Panda with a parallel gripper, fixed at the world origin.

    Control is by joint-position targets (PyBullet's PD motors); end-effector
    targets go through inverse kinematics with the gripper pointing down.

    Args:
        sim: the simulation to load the robot into.
        name: body name of the robot.
    """

    def __init__(self, sim: Simulation, name: str = "robot") -> None:
        self.sim = sim
        self.name = name
        self.body = sim.load_urdf(name, "franka_panda/panda.urdf", fixed=True)
        for link in FINGER_JOINTS:
            sim.set_dynamics(name, link, lateralFriction=1.5, spinningFriction=0.003, frictionAnchor=1)
        # Couple the fingers so they move symmetrically and keep a grasped object centred.
        left, right = FINGER_JOINTS
        gear = self._client.createConstraint(
            self.body, left, self.body, right, pybullet.JOINT_GEAR, [1, 0, 0], [0, 0, 0], [0, 0, 0]
        )
        self._client.changeConstraint(gear, gearRatio=-1, erp=0.1, maxForce=50)
        self.arm_targets = np.array(HOME_JOINTS)
        self.gripper_target = MAX_GRIPPER_WIDTH
        self.reset()

    @property
    def _client(self) -> Any:
        return self.sim.client

    def reset(self, joints: Sequence[float] = HOME_JOINTS, width: float = MAX_GRIPPER_WIDTH) -> None:
        """Teleport the arm to ``joints`` with the gripper ``width`` apart, at rest.

        Args:
            joints: seven arm joint angles in radians.
            width: gripper opening in metres.
        """
        for joint, angle in zip(ARM_JOINTS, joints):
            self._client.resetJointState(self.body, joint, angle, 0.0)
        for joint in FINGER_JOINTS:
            self._client.resetJointState(self.body, joint, width / 2, 0.0)
        self.set_joint_targets(joints)
        self.set_gripper_target(width)

    # --- reading ---------------------------------------------------------------------

    def joint_positions(self) -> np.ndarray:
        """The seven arm joint angles in radians."""
        return np.array([s[0] for s in self._client.getJointStates(self.body, ARM_JOINTS)])

    def ee_position(self) -> np.ndarray:
        """Position of the point between the fingertips, in metres."""
        return np.array(self._client.getLinkState(self.body, EE_LINK, computeForwardKinematics=True)[4])

    def ee_orientation(self) -> np.ndarray:
        """Orientation quaternion (x, y, z, w) of the gripper."""
        return np.array(self._client.getLinkState(self.body, EE_LINK, computeForwardKinematics=True)[5])

    def ee_yaw(self) -> float:
        """Rotation of the gripper about the vertical axis, in radians."""
        return float(pybullet.getEulerFromQuaternion(self.ee_orientation())[2])

    def ee_velocity(self) -> np.ndarray:
        """Linear velocity of the point between the fingertips, in m/s."""
        state = self._client.getLinkState(self.body, EE_LINK, computeLinkVelocity=True, computeForwardKinematics=True)
        return np.array(state[6])

    def gripper_width(self) -> float:
        """Distance between the fingers, in metres."""
        return float(sum(s[0] for s in self._client.getJointStates(self.body, FINGER_JOINTS)))

    # --- commanding ------------------------------------------------------------------

    def inverse_kinematics(self, position: Vector, yaw: float) -> np.ndarray:
        """Arm joint angles that put the fingertips at ``position``, pointing down.

        Args:
            position: target (x, y, z) in metres.
            yaw: gripper rotation about z in radians.

        Returns:
            Seven joint angles in radians (the best the solver found).
        """
        solution = self._client.calculateInverseKinematics(
            self.body,
            EE_LINK,
            list(position),
            list(down_orientation(yaw)),
            lowerLimits=list(_LOWER),
            upperLimits=list(_UPPER),
            jointRanges=list(_RANGES),
            restPoses=list(IK_REST_JOINTS),
            maxNumIterations=100,
            residualThreshold=1e-5,
        )
        return np.clip(np.array(solution[: len(ARM_JOINTS)]), _LOWER, _UPPER)

    def set_joint_targets(self, joints: Sequence[float]) -> None:
        """Command the arm joints to angles in radians (position control)."""
        self.arm_targets = np.array(joints, dtype=float)
        self._client.setJointMotorControlArray(
            self.body,
            ARM_JOINTS,
            pybullet.POSITION_CONTROL,
            targetPositions=list(self.arm_targets),
            forces=list(ARM_FORCES),
            positionGains=[0.06] * len(ARM_JOINTS),
        )

    def set_ee_target(self, position: Vector, yaw: float) -> np.ndarray:
        """Command the fingertips to ``position`` pointing down (through IK).

        Returns:
            The joint targets that were commanded.
        """
        joints = self.inverse_kinematics(position, yaw)
        self.set_joint_targets(joints)
        return joints

    def set_gripper_target(self, width: float, force: float = GRIPPER_FORCE) -> None:
        """Command the fingers to ``width`` metres apart with at most ``force`` newtons each."""
        self.gripper_target = float(np.clip(width, 0.0, MAX_GRIPPER_WIDTH))
        self._client.setJointMotorControlArray(
            self.body,
            FINGER_JOINTS,
            pybullet.POSITION_CONTROL,
            targetPositions=[self.gripper_target / 2] * 2,
            forces=[force] * 2,
        )

    # --- plain-data state ------------------------------------------------------------

    def get_state(self) -> dict[str, list[float] | float]:
        """Joint positions, velocities and motor targets as plain lists."""
        joints = ARM_JOINTS + FINGER_JOINTS
        states = self._client.getJointStates(self.body, joints)
        return {
            "positions": [s[0] for s in states],
            "velocities": [s[1] for s in states],
            "arm_targets": [float(t) for t in self.arm_targets],
            "gripper_target": self.gripper_target,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state from :meth:`get_state` exactly."""
        joints = ARM_JOINTS + FINGER_JOINTS
        for joint, position, velocity in zip(joints, state["positions"], state["velocities"]):
            self._client.resetJointState(self.body, joint, position, velocity)
        self.set_joint_targets(state["arm_targets"])
        self.set_gripper_target(state["gripper_target"])
