"""How the arm carries out the motion skills: grasp, carry, place and push.

Motions go up to a carry height above everything, across, and down, so the arm does
not sweep through objects. At the bottom, the wrist turns so the fingers keep clear of
the objects around, and they open no wider than the object needs. Contact sensing
verifies it: a skill whose arm (or the object it handles) touched another perceived
object says which and returns False. Arguments arrive checked for type by the skill functions
(``motion.py``); what depends on the scene (which objects exist, what can be grasped,
what is reachable) is checked here, before anything moves. Physical failures (a missed
grasp, an object that fell) return False.
"""

from __future__ import annotations

import math

import numpy as np

from codeact_robot.envs.objects import BOWL_INNER_RADIUS, KINDS, ObjectKind, spec_of
from codeact_robot.envs.robot import CLOSED_WIDTH, MAX_GRIPPER_WIDTH, OPEN_WIDTH
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UnknownNameError
from codeact_robot.skills.clearance import Obstacle, clearest_yaw, obstacles
from codeact_robot.skills.controller import ArmController, ContactWatch
from codeact_robot.skills.estimates import ObjectEstimate
from codeact_robot.skills.perception import Perception
from codeact_robot.skills.validation import as_workspace_position

APPROACH_SPEED = 0.15  # m/s for the last centimetres down to an object
MIN_CARRY_HEIGHT = 0.25  # above a four-block tower with a block in hand
CLEARANCE = 0.06  # above the tallest object while carrying
HOVER = 0.08  # above the grasp or release point before the slow final approach
GRASP_BELOW_TOP = 0.02  # fingertips close this far below an object's top (a block's centre)
MIN_FINGERTIP_Z = 0.012  # fingertips never go lower (the table is at 0)
GRASP_GAP = 0.012  # fingers open this much wider than the object on each side to grasp it
RELEASE_GAP = 0.01  # and this much to let it go
DROP_ABOVE_RIM = 0.012  # release height above a bowl's rim
LOWER_BELOW_REST = 0.01  # a placed object is lowered this far below its resting height, stopping on contact
SPOT_FROM_RIM = 0.03  # free spots inside a bowl keep this far from its inner wall
WRIST_YAWS = (-math.pi / 2 + 0.25, math.pi / 2 + 0.25)  # gripper yaws in reach of the last joint all over
PUSH_GAP = 0.03  # start a push this far behind the object
PUSHER_DEPTH = 0.015  # the closed fingers' front face is this far ahead of the fingertip point
PUSH_HEIGHT = 0.015  # fingertips this far above the pushed object's bottom
PUSH_SPEED = 0.1
PUSH_STROKES = 3
PUSH_TOLERANCE = 0.02
MAX_PUSH = 0.3
# "Did the placement work?" as the skill judges it, from perception after the release
# (the task checks have their own, looser tolerances):
PLACED_ON_XY = 0.025  # on an object: centres this close horizontally
PLACED_AT_XY = 0.03  # at a table position: centre this close to it
PLACED_IN_BOWL_ABOVE_TOP = 0.05  # in a bowl: centre at most this far above the bowl's top


class Manipulator:
    """Picks, places and pushes objects with the Panda, using what perception reports.

    Args:
        world: the world the arm is in.
        controller: executes the arm's and gripper's motions.
        perception: where the objects are (simulator state or vision).
    """

    def __init__(self, world: TabletopWorld, controller: ArmController, perception: Perception) -> None:
        self.world = world
        self.controller = controller
        self.perception = perception

    # --- the skills ------------------------------------------------------------------------

    def move_to(self, target: np.ndarray, yaw: float | None) -> bool:
        """Fingertips to ``target`` (checked to be in the workspace), over everything."""
        return self._travel(target, yaw, self._carry_height(self.world.held_object()))

    def open_gripper(self) -> bool:
        """Open fully; True once open."""
        return self.controller.open_gripper() > OPEN_WIDTH

    def close_gripper(self) -> bool:
        """Close; True if something is between the fingers."""
        return self.controller.close_gripper() > CLOSED_WIDTH

    def pick(self, name: str) -> bool:
        """Grasp ``name`` from above and lift it to the carry height.

        Raises:
            ValueError: unknown object, one that cannot be grasped or reached, or the
                gripper already holds another object.
        """
        target = self.perception.locate(name)
        if KINDS[target.kind].part_of is not None:
            raise ValueError(
                f"the {target.name} is part of a {KINDS[target.kind].part_of} and cannot be picked up; hold it "
                "with open_gripper(), move_to(its position) and close_gripper(), then move_to() in small steps"
            )
        spec = spec_of(target.name)
        if not spec.graspable:
            graspable = ", ".join(k for k, v in KINDS.items() if v.graspable)
            raise ValueError(
                f"the {target.name} is {spec.size[0] * 100:.0f} cm wide and cannot be grasped "
                f"(the gripper opens {MAX_GRIPPER_WIDTH * 100:.0f} cm); graspable kinds: {graspable}"
            )
        held = self.world.held_object()
        if held == target.name:
            return True
        if held is not None:
            raise ValueError(f"the gripper already holds the {held}; place it before picking the {target.name}")
        if not WORKSPACE.contains(target.position[:2]):
            raise ValueError(
                f"the {target.name} at {np.round(target.position, 3).tolist()} is outside the workspace "
                f"({WORKSPACE.describe()}) and cannot be reached"
            )
        self._check_tangible(target)
        width = min(spec.size[0] + 2 * GRASP_GAP, MAX_GRIPPER_WIDTH)
        grasp = np.array([*target.position[:2], max(target.top - GRASP_BELOW_TOP, MIN_FINGERTIP_Z)])
        around = obstacles(self.perception.estimates().values(), handled=[target.name])
        yaw = clearest_yaw(grasp, _square_yaws(_grasp_yaw(target.orientation[2])), width, around)
        carry = self._carry_height(None)
        controller = self.controller
        with controller.watching([target.name]) as watch:
            controller.gripper(width)
            self._travel(grasp + [0.0, 0.0, HOVER], yaw, carry)
            controller.move_line(grasp, yaw, speed=APPROACH_SPEED)
            if controller.close_gripper() > CLOSED_WIDTH:
                controller.move_line((grasp[0], grasp[1], carry))
            else:
                controller.gripper(width)
                self._retreat(carry)
        clear = self._kept_clear(watch, f"picking the {target.name}", around)
        return clear and self.world.held_object() == target.name

    def place(self, target: object) -> bool:
        """Put the held object on ``target`` (a name, [x, y] or [x, y, z]) and go home.

        Raises:
            TypeError, ValueError: an unknown object, the held object itself, or a
                position that is malformed or outside the workspace.
        """
        destination = self.resolve(target)
        held = self.world.held_object()
        if isinstance(destination, ObjectEstimate) and destination.name == held:
            raise ValueError(f"cannot place the {held} on itself")
        if held is None:
            return False
        spec = spec_of(held)
        half = spec.half_height
        carry = self._carry_height(held)
        into_bowl = isinstance(destination, ObjectEstimate) and destination.kind == "bowl"
        if into_bowl:
            contents = self._in_bowl(destination, held)
            spot = self._free_spot_in_bowl(destination, contents)
            point = np.array([*spot, _fingertip_for_centre(spec, destination.top + half + DROP_ABOVE_RIM)])
            supports = [destination.name, *(e.name for e in contents)]
        else:
            if isinstance(destination, ObjectEstimate):
                spot, below = destination.position[:2], [destination]
                centre_z = destination.top + half
            else:
                spot, below = destination[:2], self._standing_at(destination[:2], held)
                rest = max((e.top for e in below), default=0.0) + half
                centre_z = rest if len(destination) == 2 else max(destination[2], half)
            point = np.array([*spot, _fingertip_for_centre(spec, centre_z - LOWER_BELOW_REST)])
            supports = [e.name for e in below]
        # A drop into a bowl lets go above everything, so the fingers open fully and it falls free.
        width = MAX_GRIPPER_WIDTH if into_bowl else min(spec.size[0] + 2 * RELEASE_GAP, MAX_GRIPPER_WIDTH)
        around = obstacles(self.perception.estimates().values(), handled=[held, *supports])
        yaw = clearest_yaw(point, _square_yaws(self.world.robot.ee_yaw()), width, around)
        controller = self.controller
        with controller.watching([held]) as watch:
            if into_bowl:
                self._travel(point, yaw, carry)  # and drop it in
            else:
                self._travel(point + [0.0, 0.0, HOVER], yaw, carry)
                controller.move_line(point, yaw, speed=APPROACH_SPEED, stop=lambda: self._touching_other(held))
            controller.gripper(width)
            self._retreat(carry)
            controller.move_home()  # out of the cameras' view, so the next look is clear
        clear = self._kept_clear(watch, f"placing the {held}", around)
        return clear and self._placed_as_asked(held, destination)

    def pick_and_place(self, name: str, target: object) -> bool:
        """:meth:`pick` then :meth:`place`, every argument checked before anything moves."""
        self.perception.locate(name)
        if isinstance(self.resolve(target), ObjectEstimate) and target == name:
            raise ValueError(f"cannot place the {name} on itself")
        picked = self.pick(name)  # False also when it touched something, yet the object may be in hand
        if self.world.held_object() != name:
            return False
        return self.place(target) and picked

    def push(self, name: str, unit: np.ndarray, distance: float) -> bool:
        """Push ``name`` by ``distance`` metres along the unit vector ``unit``, closed-loop.

        Raises:
            ValueError: unknown object, a distance out of range, or a push that would
                start or end outside the workspace.
        """
        target = self.perception.locate(name)
        if not 0.0 < distance <= MAX_PUSH:
            raise ValueError(f"distance must be in (0, {MAX_PUSH}] metres, got {distance}")
        goal = target.position[:2] + unit * distance
        half = spec_of(target.name).size[0] / 2
        for point, label in ((target.position[:2] - unit * (half + PUSH_GAP), "start"), (goal, "end")):
            if not WORKSPACE.contains(point):
                raise ValueError(
                    f"the push would {label} at {np.round(point, 3).tolist()}, outside the workspace "
                    f"({WORKSPACE.describe()})"
                )
        self._check_tangible(target)
        height = max(target.bbox[0][2] + PUSH_HEIGHT, MIN_FINGERTIP_Z + 0.003)
        carry = self._carry_height(self.world.held_object())  # a push does not make anything taller
        around = obstacles(self.perception.estimates().values(), handled=[target.name])
        controller = self.controller
        current: ObjectEstimate | None = target
        with controller.watching([target.name]) as watch:
            controller.close_gripper()
            for _ in range(PUSH_STROKES):
                remaining = goal - current.position[:2]
                if float(np.linalg.norm(remaining)) < PUSH_TOLERANCE:
                    break
                stroke = remaining / float(np.linalg.norm(remaining))
                start = np.array([*(current.position[:2] - stroke * (half + PUSH_GAP)), height])
                end = np.array([*(goal - stroke * (half + PUSHER_DEPTH)), height])
                yaw = (math.atan2(stroke[1], stroke[0]) + math.pi / 2) % math.pi - math.pi / 2  # fingers side by side
                self._travel(start, yaw, carry)
                controller.move_line(end, yaw, speed=PUSH_SPEED)
                self._retreat(carry)
                current = self.perception.estimates().get(target.name)
                if current is None:
                    break
        clear = self._kept_clear(watch, f"pushing the {target.name}", around)
        return clear and current is not None and bool(np.linalg.norm(goal - current.position[:2]) < PUSH_TOLERANCE)

    def go_home(self) -> bool:
        """Up to the carry height, then the home pose; True once home."""
        here = self.world.robot.ee_position()
        carry = self._carry_height(self.world.held_object())
        if here[2] < carry - 0.01:
            self.controller.move_line((here[0], here[1], carry))
        return self.controller.move_home()

    def resolve(self, target: object) -> ObjectEstimate | np.ndarray:
        """A place target: the perceived object a name denotes, or a checked position.

        Raises:
            TypeError, ValueError: an unknown name, or a malformed or unreachable position.
        """
        if isinstance(target, str):
            return self.perception.locate(target)
        return as_workspace_position(target, "target position", sizes=(2, 3))

    # --- motion planning -------------------------------------------------------------------

    def _carry_height(self, held: str | None) -> float:
        tops = [e.top for e in self.perception.estimates().values() if e.name != held]
        hang = spec_of(held).size[2] if held else 0.0
        height = max([MIN_CARRY_HEIGHT, *(top + hang + CLEARANCE for top in tops)])
        return min(height, WORKSPACE.high[2])

    def _travel(self, target: np.ndarray, yaw: float | None, carry: float) -> bool:
        """Up to ``carry``, across, then down to ``target`` (straight when it is below the gripper)."""
        controller = self.controller
        here = self.world.robot.ee_position()
        if np.hypot(*(target[:2] - here[:2])) > 0.02:
            if here[2] < carry - 0.01:
                controller.move_line((here[0], here[1], carry))
            controller.move_line((target[0], target[1], max(carry, target[2])), yaw)
        return controller.move_line(target, yaw)

    def _retreat(self, carry: float) -> None:
        here = self.world.robot.ee_position()
        self.controller.move_line((here[0], here[1], max(here[2] + 0.05, carry)))

    def _check_tangible(self, target: ObjectEstimate) -> None:
        """Raise unless touch can tell ``target``: the arm's contact sensing knows objects by their true
        names, and vision may report one under a name no object has (a misread size, say). The error
        lists only what perception reports."""
        if target.name not in self.world.object_names:
            raise UnknownNameError(
                f"the {target.name} is seen but no object by that name can be touched (perception may have "
                f"misread it); objects are: {', '.join(self.perception.names())}"
            )

    def _kept_clear(self, watch: ContactWatch, doing: str, around: list[Obstacle]) -> bool:
        """Whether the watch saw none of the objects ``around`` touched; if it did, say which.

        Only what perception reported counts: an object nobody could see (a block under
        a cup) is neither planned around nor blamed. The note goes to the program's
        output, so whoever wrote it learns which object to check.
        """
        touched = watch.touched(o.name for o in around)
        for other, body in touched.items():
            toucher = "the arm" if body == self.world.robot.name else f"the {body}"
            print(f"[robot] {doing}, {toucher} touched the {other}, which may have moved")
        return not touched

    def _touching_other(self, held: str) -> bool:
        """Whether the held object touches anything but the robot."""
        return bool(self.world.sim.contact_bodies(held) - {self.world.robot.name})

    def _standing_at(self, xy: np.ndarray, held: str) -> list[ObjectEstimate]:
        """The objects whose footprint covers ``xy`` (none: the bare table)."""
        return [
            e
            for e in self.perception.estimates().values()
            if e.name != held and np.all(xy >= e.bbox[0][:2]) and np.all(xy <= e.bbox[1][:2])
        ]

    def _in_bowl(self, bowl: ObjectEstimate, held: str) -> list[ObjectEstimate]:
        """The objects inside ``bowl``, the held one aside."""
        centre = bowl.position[:2]
        return [
            e
            for e in self.perception.estimates().values()
            if e.name not in (held, bowl.name) and np.hypot(*(e.position[:2] - centre)) < BOWL_INNER_RADIUS
        ]

    def _free_spot_in_bowl(self, bowl: ObjectEstimate, contents: list[ObjectEstimate]) -> np.ndarray:
        """The point inside the bowl farthest from the objects already in it."""
        centre = bowl.position[:2]
        if not contents:
            return centre
        offset = BOWL_INNER_RADIUS - SPOT_FROM_RIM
        angles = np.arange(8) * math.pi / 4
        candidates = [centre] + [centre + offset * np.array([math.cos(a), math.sin(a)]) for a in angles]
        return max(candidates, key=lambda c: min(np.hypot(*(c - e.position[:2])) for e in contents))

    def _placed_as_asked(self, held: str, destination: ObjectEstimate | np.ndarray) -> bool:
        estimates = self.perception.estimates()
        if held not in estimates:
            return True  # hidden from view now (e.g. dropped into a same-coloured bowl); it was released on target
        placed = estimates[held].position
        if isinstance(destination, ObjectEstimate):
            if destination.name not in estimates:
                return True
            below = estimates[destination.name]
            distance = float(np.hypot(*(placed[:2] - below.position[:2])))
            if below.kind == "bowl":
                return distance < BOWL_INNER_RADIUS and placed[2] < below.top + PLACED_IN_BOWL_ABOVE_TOP
            return distance < PLACED_ON_XY and placed[2] > below.position[2]
        return float(np.hypot(*(placed[:2] - destination[:2]))) < PLACED_AT_XY


def _grasp_yaw(object_yaw: float) -> float:
    """Gripper yaw aligned with a square object's faces, as close to 0 as possible."""
    return (object_yaw + math.pi / 4) % (math.pi / 2) - math.pi / 4


def _square_yaws(preferred: float) -> list[float]:
    """``preferred`` and the quarter turn from it, as wrist yaws (a square object looks the same in both)."""
    return [_wrist_yaw(preferred), _wrist_yaw(preferred + math.pi / 2)]


def _wrist_yaw(yaw: float) -> float:
    """The gripper yaw equivalent to ``yaw`` (the fingers are symmetric) that the wrist reaches everywhere."""
    low = WRIST_YAWS[0]
    return (yaw - low) % math.pi + low


def _fingertip_for_centre(spec: ObjectKind, centre_z: float) -> float:
    """Fingertip height that holds an object of extents ``spec`` with its centre at ``centre_z``."""
    return centre_z + spec.half_height - GRASP_BELOW_TOP
