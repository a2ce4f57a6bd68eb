"""Tasks about building towers of blocks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours, far_from
from codeact_robot.envs.workspace import TABLE_PLACES


class StackBlocks(Task):
    name = "StackBlocks"
    split = "seen"
    description = "stack all the blocks into one tower"
    template = "stack all the blocks"
    paraphrases = (
        "build one tower out of all the blocks",
        "put every block in a single stack",
        "stack every block into one tower",
    )
    held_out_paraphrases = ("pile all of the blocks on top of each other", "make a tower using every block")

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(0, 2))):
            layout.add("bowl", colour)
        for colour in choose_colours(rng, colours, int(rng.integers(3, 5))):
            layout.add("block", colour)
        return Sample(self.template, layout.placements, {})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        blocks = checks.blocks(objects)
        tower = checks.tower_of(blocks)
        if tower is None:
            return CheckResult(False, checks.stack_failure(blocks))
        return CheckResult(True, "one tower, bottom to top: " + ", ".join(b.name for b in tower))


class StackOnPlace(Task):
    name = "StackOnPlace"
    split = "unseen"
    description = "stack all the blocks into one tower on a corner or side of the table"
    template = "stack all the blocks on the {place}"
    paraphrases = (
        "build a tower of all the blocks on the {place}",
        "make one stack of every block on the {place}",
        "stack every block into a single tower on the {place}",
    )
    held_out_paraphrases = (
        "on the {place}, pile all of the blocks into a tower",
        "the blocks should form a single tower on the {place}",
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        place = str(rng.choice(list(TABLE_PLACES)))
        target = TABLE_PLACES[place]
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(2, 4))):
            layout.add("block", colour, accept=far_from([target], checks.PLACE_RADIUS + 0.04))
        return Sample(self.template.format(place=place), layout.placements, {"place": place}, {"place": place})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        blocks = checks.blocks(objects)
        tower = checks.tower_of(blocks)
        if tower is None:
            return CheckResult(False, checks.stack_failure(blocks))
        place = params["place"]
        if not checks.is_at(tower[0], TABLE_PLACES[place]):
            return CheckResult(False, f"the tower stands at {checks.describe(tower[0])}, not on the {place}")
        return CheckResult(True, f"one tower of {len(tower)} on the {place}")
