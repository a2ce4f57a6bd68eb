"""Non-prehensile tasks: an object too wide for the gripper must be pushed.

Tolerances: the box counts as on the mat when its centre lies within ``ON_MAT`` (6 cm)
of the mat's centre along both of the mat's axes (the mat is 16 cm square, the box 10 cm:
up to 3 cm of the box may overhang the mat's edge), it rests flat on the table (upright,
bottom within 1 cm of z = 0, below 5 cm/s).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.objects import BOX_SIZE, MAT_SIZE
from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours
from codeact_robot.envs.workspace import WORKSPACE

ON_MAT = MAT_SIZE[0] / 2 - 0.02
PUSH_RANGE = (0.14, 0.26)  # how far the box starts from the mat's centre
PUSH_ROOM = BOX_SIZE[0] / 2 + 0.05  # free room behind the box for the fingers to start a push
PATH_CLEARANCE = 0.1  # other objects keep this far from the straight path box -> mat

PUSH_RULES = (
    "A box is too wide to grasp (10 cm; the gripper opens 8 cm): move it with push(name, direction, "
    "distance), where direction is [dx, dy]. A mat is a flat coloured square marking a region of the table."
)


def _segment_distance(point: np.ndarray, start: np.ndarray, end: np.ndarray) -> float:
    along = end - start
    t = float(np.clip((point - start) @ along / max(float(along @ along), 1e-9), 0.0, 1.0))
    return float(np.linalg.norm(point - (start + t * along)))


class PushBoxOntoMat(Task):
    name = "PushBoxOntoMat"
    split = "interactive"
    description = "push a box too wide to grasp onto a mat marking a region"
    template = "push the {box} onto the {mat}"
    paraphrases = (
        "slide the {box} over onto the {mat}",
        "get the {box} onto the {mat} by pushing it",
        "push the {box} until it rests on the {mat}",
    )
    held_out_paraphrases = (
        "the {box} belongs on the {mat}; shove it there",
        "nudge the {box} until it sits on the {mat}",
    )
    rules = PUSH_RULES
    max_turns = 8

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        box_colour, mat_colour, *block_colours = choose_colours(rng, colours, 2 + int(rng.integers(1, 3)))
        layout = Layout(rng)
        mat = layout.add("mat", mat_colour)
        mat_xy = np.array(mat.position[:2])

        def pushable(xy: np.ndarray) -> bool:
            distance = float(np.linalg.norm(xy - mat_xy))
            behind = xy + (xy - mat_xy) / max(distance, 1e-9) * PUSH_ROOM
            return PUSH_RANGE[0] <= distance <= PUSH_RANGE[1] and WORKSPACE.contains(behind, 0.01)

        box = layout.add("box", box_colour, accept=pushable)
        box_xy = np.array(box.position[:2])
        behind = box_xy + (box_xy - mat_xy) / np.linalg.norm(box_xy - mat_xy) * PUSH_ROOM
        for colour in block_colours:
            layout.add("block", colour, accept=lambda xy: _segment_distance(xy, behind, mat_xy) > PATH_CLEARANCE)
        fields = {"box": box.name, "mat": mat.name}
        return Sample(self.template.format(**fields), layout.placements, dict(fields), fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        box, mat = objects[params["box"]], objects[params["mat"]]
        offset = np.abs(checks.xy(box) - checks.xy(mat))
        if not checks.is_on_table(box):
            return CheckResult(False, f"{checks.describe(box)} does not rest flat on the table")
        if np.any(offset > ON_MAT):
            return CheckResult(
                False,
                f"{checks.describe(box)} is not on the {mat.name} ({checks.describe(mat)}; within {ON_MAT:.2f} m)",
            )
        return CheckResult(True, f"the {box.name} is on the {mat.name}")
