"""Tasks that need feedback between turns: blocks hidden under cups must be found first.

A block under a cup is invisible to every camera, so neither perception mode reports it
until the cup has been lifted away.
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

HIDDEN_RULES = (
    "Cups are upside down and may hide a block; a hidden block is not visible to the cameras "
    "until its cup is lifted away (pick the cup and place it somewhere free)."
)


class FindHiddenBlock(Task):
    name = "FindHiddenBlock"
    split = "feedback"
    description = "find the block hidden under one of the cups and put it in a bowl"
    template = "the {colour} block is hidden under one of the cups; find it and put it in the {bowl}"
    paraphrases = (
        "one of the cups hides the {colour} block; put it in the {bowl}",
        "find the {colour} block under the cups and place it in the {bowl}",
        "a cup hides the {colour} block; uncover it and put it into the {bowl}",
    )
    held_out_paraphrases = (
        "look under the cups for the {colour} block and move it into the {bowl}",
        "the {colour} block is beneath a cup: get it into the {bowl}",
    )
    max_turns = 10
    rules = HIDDEN_RULES

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        target_colour, decoy_colour = choose_colours(rng, colours, 2)
        bowl = layout.add("bowl", str(rng.choice(colours)))
        cups = choose_colours(rng, colours, 3)
        hiding = [target_colour, decoy_colour, None]
        for cup_colour, index in zip(cups, rng.permutation(3)):
            layout.cover(cup_colour, hiding[index])
        target = object_name(target_colour, "block")
        fields = {"colour": target_colour, "bowl": bowl.name}
        return Sample(self.template.format(**fields), layout.placements, {"object": target, "bowl": bowl.name}, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        return checks.in_bowl(objects[params["object"]], objects[params["bowl"]])


class SortHiddenBlocks(Task):
    name = "SortHiddenBlocks"
    split = "feedback"
    description = "uncover the blocks hidden under cups and put each in the bowl of its colour"
    template = "some of the cups hide blocks; put every hidden block in the bowl of its color"
    paraphrases = (
        "blocks are hidden under some cups; sort each into the bowl of its color",
        "find the blocks under the cups and put each in its color's bowl",
        "put each block hidden under a cup into the bowl of the same color",
    )
    held_out_paraphrases = (
        "uncover the hidden blocks and drop each into the matching bowl",
        "the cups hide some blocks: every one belongs in the bowl of the same color",
    )
    max_turns = 12
    rules = HIDDEN_RULES

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        hidden_count = int(rng.integers(1, 4))
        block_colours = choose_colours(rng, colours, hidden_count)
        spare = [c for c in colours if c not in block_colours]
        bowl_colours = block_colours + ([str(rng.choice(spare))] if spare and hidden_count < 3 else [])
        layout = Layout(rng)
        for colour in bowl_colours:
            layout.add("bowl", colour)
        cups = choose_colours(rng, colours, 3)
        hiding: list[str | None] = [*block_colours, None, None][:3]
        for cup_colour, index in zip(cups, rng.permutation(3)):
            layout.cover(cup_colour, hiding[index])
        return Sample(self.template, layout.placements, {"hidden": [object_name(c, "block") for c in block_colours]})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        return checks.in_own_colour_bowls(objects, "every hidden block is in the bowl of its colour")
