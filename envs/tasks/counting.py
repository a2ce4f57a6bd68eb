"""Tasks whose instruction needs counting and arithmetic.

Tolerances are those of ``checks``: in a bowl (centre within its 6 cm inner radius, below
12 cm, resting); a tower (each block within 2.5 cm of the one below, one block height above).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours

NUMBERS = ("zero", "one", "two", "three", "four", "five", "six")
# (blocks, difference): every block used, the second bowl holding `difference` more than the first.
DIFFERENCES = ((3, 1), (4, 2), (5, 1))


class MoreInBowl(Task):
    name = "MoreInBowl"
    split = "interactive"
    description = "share every block between two bowls, one holding a given number more than the other"
    template = "using all the blocks, put {more} more blocks in the {bowl} than in the {other}"
    paraphrases = (
        "split the blocks between the {bowl} and the {other} so that the {bowl} has {more} more",
        "place every block in the {bowl} or the {other}, with {more} more in the {bowl}",
        "put all the blocks into the {bowl} and the {other} so that the {bowl} holds {more} more than the {other}",
    )
    held_out_paraphrases = (
        "all blocks go into the two bowls; the {bowl} must end up with {more} more blocks than the {other}",
        "fill the {other} and the {bowl} with all the blocks so the {bowl} holds {more} more",
    )
    max_turns = 8
    distractor_kinds = ("cup",)  # an extra bowl would leave the goal as it is, an extra block would not

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        count, more = DIFFERENCES[int(rng.integers(len(DIFFERENCES)))]
        bowl_colours = choose_colours(rng, colours, 2)
        layout = Layout(rng)
        bowls = [layout.add("bowl", c) for c in bowl_colours]
        for colour in choose_colours(rng, colours, count):
            layout.add("block", colour)
        fields = {"bowl": bowls[0].name, "other": bowls[1].name, "more": NUMBERS[more]}
        params = {"bowl": bowls[0].name, "other": bowls[1].name, "more": more}
        return Sample(self.template.format(**fields), layout.placements, params, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        bowl, other = objects[params["bowl"]], objects[params["other"]]
        blocks = checks.blocks(objects)
        loose = [b for b in blocks if not (checks.is_in_bowl(b, bowl) or checks.is_in_bowl(b, other))]
        if loose:
            return CheckResult(False, "not in either bowl: " + "; ".join(checks.describe(b) for b in loose))
        in_bowl = sum(checks.is_in_bowl(b, bowl) for b in blocks)
        in_other = len(blocks) - in_bowl
        if in_bowl - in_other != params["more"]:
            return CheckResult(
                False, f"the {bowl.name} holds {in_bowl} and the {other.name} {in_other}; {params['more']} more wanted"
            )
        return CheckResult(True, f"the {bowl.name} holds {in_bowl}, the {other.name} {in_other}")


class TowerOfCount(Task):
    name = "TowerOfCount"
    split = "interactive"
    description = "build a tower with one block more than there are bowls, leaving the other blocks on the table"
    template = "make a tower of as many blocks as there are bowls, plus one"
    paraphrases = (
        "count the bowls, then stack that many blocks plus one into a tower",
        "build one tower whose height in blocks is the number of bowls plus one",
        "stack a single tower with one block more than there are bowls",
    )
    held_out_paraphrases = (
        "stack blocks into a single tower one block taller than the number of bowls on the table",
        "the tower you build must have one more block than there are bowls",
    )
    max_turns = 8
    distractor_kinds = ("cup",)  # an extra bowl would change the count

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        bowls = int(rng.integers(1, 4))
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, bowls):
            layout.add("bowl", colour)
        for colour in choose_colours(rng, colours, bowls + 2):
            layout.add("block", colour)
        return Sample(self.template, layout.placements, {"height": bowls + 1}, {})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        blocks = checks.blocks(objects)
        height = params["height"]
        bases = [b for b in blocks if checks.is_on_table(b)]
        towers = [_tower_on(base, blocks) for base in bases]
        tall = [t for t in towers if len(t) > 1]
        stacked = sum(len(t) for t in towers)
        if stacked != len(blocks):
            return CheckResult(False, checks.stack_failure(blocks))
        if len(tall) != 1 or len(tall[0]) != height:
            sizes = ", ".join(str(len(t)) for t in tall) or "none"
            return CheckResult(False, f"one tower of {height} blocks wanted, the rest on the table; towers: {sizes}")
        return CheckResult(True, f"one tower of {height}: " + ", ".join(b.name for b in tall[0]))


def _tower_on(base: ObjectState, blocks: list[ObjectState]) -> list[ObjectState]:
    """The blocks standing on ``base`` one above the other, bottom to top."""
    tower = [base]
    while True:
        above = [b for b in blocks if b not in tower and checks.is_on_top_of(b, tower[-1])]
        if len(above) != 1:
            return tower
        tower.append(above[0])
