"""Smooth, bounded arm and gripper motions that step the simulation until they settle."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from codeact_robot.envs.robot import HOME_JOINTS, MAX_GRIPPER_WIDTH, Panda
from codeact_robot.envs.world import TabletopWorld

CARRY_SPEED = 0.5  # m/s along straight lines
JOINT_SPEED = 1.2  # rad/s of the fastest joint in joint-space moves
CONTROL_PERIOD = 4  # physics steps per IK update (60 Hz)
SETTLE_STEPS = 240  # at most one simulated second to settle after a motion
REACHED = 0.006  # fingertip error in metres under which a motion counts as reached
GRIPPER_STEPS = 120  # at most half a simulated second for the fingers
SLIP_OPENING = 0.01  # a slipping grasp's fingers part this much, letting the object go


class ContactWatch:
    """The objects that came into contact with the robot or with objects it handles.

    Contacts that already exist when the watch starts (a block resting on another, a
    block already in the gripper) are not news; nor are the table and the watched
    bodies among themselves.

    Args:
        world: the world to watch.
        handled: objects the arm is handling, whose contacts count as the arm's.
    """

    def __init__(self, world: TabletopWorld, handled: Iterable[str]) -> None:
        self.world = world
        self.watched = {world.robot.name, *handled}
        self._ignored = self.watched | {"table"}
        self.contacts: set[tuple[str, str]] = set()
        self._known = self._current()

    def poll(self) -> None:
        """Note every new contact between a watched body and another object."""
        self.contacts.update(self._current() - self._known)

    def touched(self, among: Iterable[str]) -> dict[str, str]:
        """Which of the objects ``among`` were touched, each with the name of a body that touched it."""
        wanted = set(among)
        found: dict[str, str] = {}
        for body, other in sorted(self.contacts):
            if other in wanted:
                found.setdefault(other, body)
        return found

    def _current(self) -> set[tuple[str, str]]:
        sim = self.world.sim
        return {(body, other) for body in self.watched for other in sim.contact_bodies(body) - self._ignored}


class ArmController:
    """Executes Cartesian and joint-space motions and gripper commands.

    Every motion has a fixed upper bound on physics steps, so no call can hang.

    Args:
        world: the world whose robot to move.
        slips: asked once per grasp that closes on something: whether it slips (None: never).
        slipping: a grasp has slipped already (an episode restored after a program that
            ended with a slipped grasp): the next arm motion leaves the object behind.
    """

    def __init__(self, world: TabletopWorld, slips: Callable[[], bool] | None = None, slipping: bool = False) -> None:
        self.world = world
        self.slips = slips
        self._watch: ContactWatch | None = None
        self._slipping = slipping

    @property
    def slipping(self) -> bool:
        """Whether a grasp slipped and the next arm motion leaves the object behind."""
        return self._slipping

    @property
    def _robot(self) -> Panda:
        return self.world.robot  # rebuilt with the world, so never cached here

    @contextmanager
    def watching(self, handled: Iterable[str] = ()) -> Iterator[ContactWatch]:
        """Record what the arm, or the objects it handles, touch during the motions inside the block.

        Args:
            handled: the objects being picked, carried or pushed.

        Yields:
            The watch, which collects the contacts as the motions run.
        """
        watch = ContactWatch(self.world, handled)
        self._watch = watch
        try:
            yield watch
        finally:
            self._watch = None

    def move_line(
        self,
        target: Sequence[float],
        yaw: float | None = None,
        speed: float = CARRY_SPEED,
        stop: Callable[[], bool] | None = None,
    ) -> bool:
        """Move the fingertips along a straight line with a smooth speed profile.

        Args:
            target: (x, y, z) in metres.
            yaw: final gripper yaw in radians (None keeps the current one).
            speed: average speed in m/s.
            stop: checked every control period; the motion halts where it is when it
                returns True (used to stop on contact).

        Returns:
            Whether the fingertips ended within ``REACHED`` of the target (or ``stop`` fired).
        """
        slipped = self._slipping
        if slipped:
            self.gripper(self._robot.gripper_width() + SLIP_OPENING)
        robot = self._robot
        start = robot.ee_position()
        target = np.asarray(target, dtype=float)
        start_yaw = robot.ee_yaw()
        end_yaw = start_yaw if yaw is None else start_yaw + _angle_difference(yaw, start_yaw)
        distance = float(np.linalg.norm(target - start))
        duration = max(distance / speed, abs(end_yaw - start_yaw) / 2.0, 0.1)
        steps = max(CONTROL_PERIOD, int(duration / self.world.sim.time_step))
        for step in range(CONTROL_PERIOD, steps + 1, CONTROL_PERIOD):
            s = 0.5 - 0.5 * math.cos(math.pi * step / steps)
            robot.set_ee_target(start + s * (target - start), start_yaw + s * (end_yaw - start_yaw))
            self._step()
            if stop is not None and stop():
                self.hold()
                return True
        reached = self._settle(target, end_yaw, stop)
        if slipped:
            self.gripper(0.0)
        return reached

    def _settle(self, target: np.ndarray, yaw: float, stop: Callable[[], bool] | None) -> bool:
        robot = self._robot
        for _ in range(0, SETTLE_STEPS, CONTROL_PERIOD):
            error = float(np.linalg.norm(robot.ee_position() - target))
            if error < REACHED / 3 and float(np.linalg.norm(robot.ee_velocity())) < 0.01:
                return True
            robot.set_ee_target(target, yaw)
            self._step()
            if stop is not None and stop():
                self.hold()
                return True
        return float(np.linalg.norm(robot.ee_position() - target)) < REACHED

    def move_home(self) -> bool:
        """Move the arm to its home pose, clear of the cameras' view; True once there."""
        return self.move_joints(HOME_JOINTS)

    def move_joints(self, joints: Sequence[float]) -> bool:
        """Move the arm to joint angles along a smooth joint-space path.

        Returns:
            Whether the joints ended within 0.02 rad of the goal.
        """
        robot = self._robot
        start = robot.joint_positions()
        goal = np.asarray(joints, dtype=float)
        duration = max(float(np.max(np.abs(goal - start))) / JOINT_SPEED, 0.1)
        steps = max(CONTROL_PERIOD, int(duration / self.world.sim.time_step))
        for step in range(CONTROL_PERIOD, steps + 1, CONTROL_PERIOD):
            s = 0.5 - 0.5 * math.cos(math.pi * step / steps)
            robot.set_joint_targets(start + s * (goal - start))
            self._step()
        for _ in range(0, SETTLE_STEPS, CONTROL_PERIOD):
            if np.max(np.abs(robot.joint_positions() - goal)) < 0.005:
                break
            self._step()
        return bool(np.max(np.abs(robot.joint_positions() - goal)) < 0.02)

    def _step(self) -> None:
        """One control period of physics, watched for contacts when a watch is on."""
        self.world.step(CONTROL_PERIOD)
        if self._watch is not None:
            self._watch.poll()

    def hold(self) -> None:
        """Command the arm to stay where it is now."""
        self._robot.set_joint_targets(self._robot.joint_positions())

    def gripper(self, width: float) -> float:
        """Open or close the fingers towards ``width`` metres and wait until they stop.

        Returns:
            The final distance between the fingers, metres.
        """
        self._slipping = False
        robot = self._robot
        robot.set_gripper_target(width)
        previous = robot.gripper_width()
        for period in range(GRIPPER_STEPS // CONTROL_PERIOD):
            self._step()
            current = robot.gripper_width()
            if abs(current - width) < 0.001:
                break
            if period >= 4 and abs(current - previous) < 1e-5:  # stopped on an object
                break
            previous = current
        return robot.gripper_width()

    def open_gripper(self) -> float:
        """Open the fingers fully; returns the final width."""
        return self.gripper(MAX_GRIPPER_WIDTH)

    def close_gripper(self) -> float:
        """Close the fingers (they stop on whatever is between them); returns the final width.

        A grasp that slips has closed on the object (the width says so), but the next arm
        motion leaves it behind: the fingers let go as the arm starts and close on nothing
        once it has arrived, so ``is_holding`` and the width tell the truth.
        """
        width = self.gripper(0.0)
        if self.world.held_object() is not None and self.slips is not None and self.slips():
            self._slipping = True
        return width


def _angle_difference(a: float, b: float) -> float:
    """a - b wrapped to [-pi, pi)."""
    return (a - b + math.pi) % (2 * math.pi) - math.pi
