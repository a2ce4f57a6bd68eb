"""Tasks about putting blocks into bowls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours


def _bowl_containing(block: ObjectState, objects: Mapping[str, ObjectState]) -> ObjectState | None:
    return next((o for o in objects.values() if o.kind == "bowl" and checks.is_in_bowl(block, o)), None)


class BlocksInBowl(Task):
    name = "BlocksInBowl"
    split = "seen"
    description = "put all the blocks into one bowl"
    template = "put the blocks in the {bowl}"
    paraphrases = (
        "move every block into the {bowl}",
        "place all the blocks in the {bowl}",
        "put each of the blocks into the {bowl}",
    )
    held_out_paraphrases = ("the {bowl} should end up holding every block", "fill the {bowl} with the blocks")

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        bowls = [layout.add("bowl", c) for c in choose_colours(rng, colours, int(rng.integers(1, 3)))]
        for colour in choose_colours(rng, colours, int(rng.integers(2, 4))):
            layout.add("block", colour)
        bowl = bowls[0].name
        return Sample(self.template.format(bowl=bowl), layout.placements, {"bowl": bowl}, {"bowl": bowl})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        bowl = objects[params["bowl"]]
        return checks.all_hold(
            (
                (checks.is_in_bowl(b, bowl), f"{checks.describe(b)} is not in the {bowl.name}")
                for b in checks.blocks(objects)
            ),
            f"every block is in the {bowl.name}",
        )


class MatchingBowls(Task):
    name = "MatchingBowls"
    split = "seen"
    description = "put every block into the bowl of its own colour"
    template = "put all the blocks in the bowls with matching colors"
    paraphrases = (
        "put each block in the bowl of the same color",
        "sort the blocks into the bowls by color",
        "place every block in the bowl whose color matches it",
    )
    held_out_paraphrases = (
        "every block goes into the bowl that shares its color",
        "match the blocks to the bowls by colour",
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        count = int(rng.integers(2, 4))
        bowl_colours = choose_colours(rng, colours, min(count + int(rng.integers(0, 2)), len(colours)))
        layout = Layout(rng)
        for colour in bowl_colours:
            layout.add("bowl", colour)
        for colour in bowl_colours[:count]:
            layout.add("block", colour)
        return Sample(self.template, layout.placements, {})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        return checks.in_own_colour_bowls(objects, "every block is in the bowl of its colour")


class MismatchedBowls(Task):
    name = "MismatchedBowls"
    split = "unseen"
    description = "put every block into a bowl of another colour"
    template = "put the blocks in the bowls with mismatched colors"
    paraphrases = (
        "put each block in a bowl of a different color",
        "place every block in a bowl whose color differs from it",
        "put every block into a bowl of another color",
    )
    held_out_paraphrases = (
        "no block may sit in the bowl of its own color; put them all in bowls",
        "put the blocks into bowls, never one of the same colour",
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        shared = choose_colours(rng, colours, int(rng.integers(2, 4)))
        for colour in shared:
            layout.add("bowl", colour)
        for colour in shared:
            layout.add("block", colour)
        return Sample(self.template, layout.placements, {})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        results = []
        for block in checks.blocks(objects):
            bowl = _bowl_containing(block, objects)
            if bowl is None:
                results.append((False, f"{checks.describe(block)} is in no bowl"))
            else:
                results.append((bowl.colour != block.colour, f"{block.name} is in the bowl of its own colour"))
        return checks.all_hold(results, "every block is in a bowl of another colour")
