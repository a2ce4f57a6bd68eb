"""Partial observability beyond cups: crates too wide to grasp hide blocks from every camera.

A crate is an upside-down box (11 cm) with a knob on top: the gripper cannot pick it, but
can hold the knob and lift it (move_to, close_gripper). What is under a crate shows in
no camera, so neither perception mode reports it until the crate is lifted away.

Tolerances are those of ``checks`` (in a bowl: within its 6 cm inner radius).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.objects import object_name
from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours

CRATE_RULES = (
    "Crates (11 cm, too wide to grasp) stand upside down and may hide blocks, which no camera sees until the "
    "crate is lifted away. A crate has a knob on top: open_gripper(), move_to() the knob (the crate's top, 1 cm "
    "down), close_gripper(), move_to() up and across, set it down on a free spot of the table, open_gripper()."
)


class FindUnderCrate(Task):
    name = "FindUnderCrate"
    split = "interactive"
    description = "find the block hidden under one of the crates (lifted by their knobs) and put it in a bowl"
    template = "the {colour} block is under one of the crates; find it and put it in the {bowl}"
    paraphrases = (
        "one of the crates hides the {colour} block; put that block in the {bowl}",
        "uncover the {colour} block, which is under a crate, and place it in the {bowl}",
        "a crate hides the {colour} block; find it and move it into the {bowl}",
    )
    held_out_paraphrases = (
        "somewhere beneath the crates is the {colour} block: get it into the {bowl}",
        "lift crates until you find the {colour} block, then move it into the {bowl}",
    )
    rules = CRATE_RULES
    max_turns = 10

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        target_colour, decoy_colour = choose_colours(rng, colours, 2)
        layout = Layout(rng)
        bowl = layout.add("bowl", str(rng.choice(colours)))
        crates = int(rng.integers(2, 4))
        hiding: list[str | None] = [target_colour, decoy_colour, None][:crates]
        for crate_colour, index in zip(choose_colours(rng, colours, crates), rng.permutation(crates)):
            layout.cover(crate_colour, hiding[index], "crate")
        fields = {"colour": target_colour, "bowl": bowl.name}
        params = {"object": object_name(target_colour, "block"), "bowl": bowl.name}
        return Sample(self.template.format(**fields), layout.placements, params, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        return checks.in_bowl(objects[params["object"]], objects[params["bowl"]])
