"""An articulated drawer: open it, put something in, close it.

The drawer's cabinet is fixed to the table, open towards the robot; the drawer slides out
along -x on a prismatic joint (its opening, in metres, is part of the object's state and
of the scene summary). Its knob is the object ``"<colour> drawer handle"``.

Tolerances: the drawer counts as closed below ``CLOSED`` (1 cm) of opening; the object is
in it when its centre lies inside the cabinet's inner box (``INSIDE_X``/``INSIDE_Y`` of the
cabinet's centre, below the cabinet's top) and it rests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.objects import CABINET_SIZE, CABINET_WALL, DRAWER_TRAVEL
from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours
from codeact_robot.envs.workspace import Bounds

CLOSED = 0.01
INSIDE_X = CABINET_SIZE[0] / 2 - CABINET_WALL
INSIDE_Y = CABINET_SIZE[1] / 2 - CABINET_WALL
DRAWER_REGION = Bounds((0.555, -0.15, 0.0), (0.57, 0.15, 0.2))  # where the cabinet's centre goes: reachable open
FRONT_ROOM = CABINET_SIZE[0] / 2 + DRAWER_TRAVEL + 0.1  # kept free in front of the cabinet (the drawer and the arm)

DRAWER_RULES = (
    "A drawer slides out towards the robot (-x) from a cabinet fixed to the table; the scene says how far each "
    "drawer is open. Its knob is the object '<colour> drawer handle': hold it with open_gripper(), "
    "move_to(the knob's position), close_gripper(), then move_to() in steps under 2 cm (a longer move "
    "lifts the gripper first). Push it closed the same way with closed fingers. A closed drawer hides what is in it."
)


def in_drawer(state: ObjectState, drawer: ObjectState) -> bool:
    """Whether ``state`` lies inside the drawer's cabinet (a closed drawer's inside)."""
    dx, dy = np.abs(checks.xy(state) - checks.xy(drawer))
    below_top = state.position[2] < drawer.position[2] + CABINET_SIZE[2] / 2 - CABINET_WALL
    return bool(dx < INSIDE_X and dy < INSIDE_Y and below_top and checks.is_resting(state))


class PutInDrawer(Task):
    name = "PutInDrawer"
    split = "interactive"
    description = "open a drawer, put a block in it and close it again"
    template = "open the {drawer}, put the {object} in it and close it"
    paraphrases = (
        "put the {object} away in the {drawer} and shut the drawer",
        "store the {object} in the {drawer}, leaving the drawer closed",
        "open the {drawer}, place the {object} inside and close the drawer again",
    )
    held_out_paraphrases = (
        "pull out the {drawer}, drop the {object} inside, then push the drawer back in",
        "the {object} goes into the {drawer}; close the drawer afterwards",
    )
    rules = DRAWER_RULES
    max_turns = 10
    distractor_kinds = ("cup", "bowl")

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        drawer_colour, *block_colours = choose_colours(rng, colours, 1 + int(rng.integers(1, 4)))
        layout = Layout(rng)
        drawer = layout.add_at("drawer", drawer_colour, rng.uniform(DRAWER_REGION.low[:2], DRAWER_REGION.high[:2]))
        front = np.array(drawer.position[:2])

        def clear_of_drawer(xy: np.ndarray) -> bool:
            return not (front[0] - FRONT_ROOM < xy[0] and abs(xy[1] - front[1]) < CABINET_SIZE[1] / 2 + 0.08)

        blocks = [layout.add("block", colour, accept=clear_of_drawer) for colour in block_colours]
        fields = {"drawer": drawer.name, "object": blocks[0].name}
        return Sample(self.template.format(**fields), layout.placements, dict(fields), fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        drawer, item = objects[params["drawer"]], objects[params["object"]]
        if not in_drawer(item, drawer):
            return CheckResult(
                False, f"{checks.describe(item)} is not in the {drawer.name} ({checks.describe(drawer)})"
            )
        opening = drawer.opening or 0.0
        if opening >= CLOSED:
            return CheckResult(
                False, f"the {item.name} is in the {drawer.name}, but the drawer is open {opening:.3f} m"
            )
        return CheckResult(True, f"the {item.name} is in the closed {drawer.name}")
