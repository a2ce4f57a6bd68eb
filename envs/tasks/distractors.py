"""Relations among distractors: the block meant is singled out by two relations at once.

"the block closest to the blue bowl among those left of the green block": the blocks on
the other side of the anchor block include one closer to the bowl (the distractor a
one-relation reading picks). Margins make the answer unambiguous: every candidate lies at
least ``SIDE_MARGIN`` (4 cm) beyond the anchor along the direction, every other block at
least that far on the other side, and the answer is at least ``DISTANCE_MARGIN`` (4 cm)
closer to the bowl than any other candidate.

Tolerances are those of ``checks`` (in a bowl: within its 6 cm inner radius).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours
from codeact_robot.envs.workspace import DIRECTIONS, DIRECTIONS_RULE
from codeact_robot.errors import SceneSamplingError

SIDE_MARGIN = 0.04
DISTANCE_MARGIN = 0.04


class ClosestOnSide(Task):
    name = "ClosestOnSide"
    split = "interactive"
    description = "put in a bowl the block closest to it among the blocks on one side of another block"
    template = "put the block closest to the {bowl} among the blocks to the {direction} of the {anchor} into the {bowl}"
    paraphrases = (
        "of the blocks to the {direction} of the {anchor}, put the one nearest the {bowl} in the {bowl}",
        "look to the {direction} of the {anchor} and move the block there closest to the {bowl} into it",
        "among the blocks to the {direction} of the {anchor}, put the one closest to the {bowl} into the {bowl}",
    )
    held_out_paraphrases = (
        "among the blocks lying to the {direction} of the {anchor}, the one nearest to the {bowl} goes into the {bowl}",
        "find the block to the {direction} of the {anchor} that is closest to the {bowl} and drop it in that bowl",
    )
    rules = DIRECTIONS_RULE
    max_turns = 5

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        direction = str(rng.choice(["left", "right", "top", "bottom"]))
        unit = np.array(DIRECTIONS[direction])
        bowl_colour, anchor_colour, *others = choose_colours(rng, colours, 5)
        layout = Layout(rng)
        bowl = layout.add("bowl", bowl_colour)
        anchor = layout.add("block", anchor_colour)
        anchor_c = float(np.array(anchor.position[:2]) @ unit)
        sides = [1, -1, 1 if rng.random() < 0.5 else -1]  # candidates (+) and blocks beyond the anchor (-)
        blocks = [
            layout.add("block", colour, accept=lambda xy, s=s: s * (float(xy @ unit) - anchor_c) >= SIDE_MARGIN)
            for colour, s in zip(others, sides)
        ]
        side = [float(np.array(b.position[:2]) @ unit) - anchor_c for b in blocks]
        candidates = [b for b, s in zip(blocks, side) if s > 0]
        rest = [b for b, s in zip(blocks, side) if s < 0]
        if not candidates or not rest:
            raise SceneSamplingError("the blocks do not lie on both sides of the anchor")

        def distance(b: Any) -> float:
            return float(np.hypot(b.position[0] - bowl.position[0], b.position[1] - bowl.position[1]))

        ranked = sorted(candidates, key=distance)
        if len(ranked) > 1 and distance(ranked[1]) - distance(ranked[0]) < DISTANCE_MARGIN:
            raise SceneSamplingError("two candidates are about as close to the bowl")
        if min(distance(b) for b in rest) > distance(ranked[0]):
            raise SceneSamplingError("no distractor is closer to the bowl than the answer")
        fields = {"bowl": bowl.name, "anchor": anchor.name, "direction": direction}
        params = {**fields, "object": ranked[0].name}
        return Sample(self.template.format(**fields), layout.placements, params, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        bowl = objects[params["bowl"]]
        wrong = [b for b in checks.blocks(objects) if b.name != params["object"] and checks.is_in_bowl(b, bowl)]
        if wrong:
            return CheckResult(False, f"the {wrong[0].name} is in the {bowl.name}, but it is not the block meant")
        return checks.in_bowl(objects[params["object"]], bowl)
