"""Tasks that take many moves: rebuilding a tower upside down, sorting many blocks into bowls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours
from codeact_robot.envs.tasks.sizes import SIZE_ORDER, SIZE_RULE
from codeact_robot.errors import SceneSamplingError


def listed(names: list[str]) -> str:
    """``"the red block, the blue block, the green block"``."""
    return ", ".join(f"the {n}" for n in names)


class ReverseTower(Task):
    """A tower that starts built, to be rebuilt with its order reversed.

    Tolerances: one tower of all the blocks as in :func:`checks.tower_of` (standing on the
    table anywhere, each block's centre within 2.5 cm of the one below horizontally and
    resting on it), whose blocks from bottom to top are the old tower's from top to bottom.
    """

    name = "ReverseTower"
    split = "seen"
    description = "unstack a tower and rebuild it in reverse order"
    template = (
        "the blocks stand in a tower, from bottom to top: {old}. Unstack it and rebuild it in reverse order, "
        "anywhere on the table, from bottom to top: {new}"
    )
    paraphrases = (
        "the tower reads, from bottom to top: {old}. Take it apart and build it again in reverse order anywhere on "
        "the table, from bottom to top: {new}",
        "unstack the tower (from bottom to top: {old}) and rebuild it upside down anywhere on the table, from "
        "bottom to top: {new}",
        "reverse the tower of blocks, which is from bottom to top {old}: rebuild it anywhere on the table so that "
        "it reads, from bottom to top, {new}",
    )
    held_out_paraphrases = (
        "rebuild the tower in reverse order anywhere on the table: it is now, from bottom to top, {old}; "
        "afterwards, from bottom to top, {new}",
        "the stack from bottom to top is {old}. Restack it in the opposite order, anywhere on the table, so that "
        "from bottom to top it reads {new}",
    )
    max_turns = 10

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        block_colours = choose_colours(rng, colours, int(rng.integers(3, 5)))
        tower = [layout.add("block", block_colours[0])]
        for colour in block_colours[1:]:
            tower.append(layout.stack_on(tower[-1], colour))
        for colour in choose_colours(rng, tuple(c for c in colours if c not in block_colours), int(rng.integers(0, 2))):
            layout.add("bowl", colour)
        old = [p.name for p in tower]
        new = old[::-1]
        fields = {"old": listed(old), "new": listed(new)}
        return Sample(self.template.format(**fields), layout.placements, {"order": new}, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        blocks_ = checks.blocks(objects)
        tower = checks.tower_of(blocks_)
        if tower is None:
            return CheckResult(False, checks.stack_failure(blocks_))
        names = [b.name for b in tower]
        if names != list(params["order"]):
            return CheckResult(False, "the tower reads, from bottom to top: " + ", ".join(names))
        return CheckResult(True, "the tower is rebuilt in reverse order: " + ", ".join(names))


SORT_BOWLS = 3
BOWL_TRIANGLE = ((-0.09, -0.17), (0.09, 0.0), (-0.09, 0.17))
"""Where three bowls fit with room for the blocks around them, and a block bouncing off one stays within reach:
offsets from x = 0.45, y (metres)."""
BOWL_JITTER = 0.005
TOWER_CHANCE = 0.3  # a block that starts on top of another (no larger than it), up to three high
MAX_START_TOWER = 3


class SortManyIntoBowls(Task):
    """Eight or nine blocks of three colours and three sizes, each into the bowl of its colour.

    Some blocks start stacked on others. Tolerances: every block's centre within the bowl's
    inner radius (6 cm) of its own colour's bowl horizontally, below 12 cm, at rest (piles
    inside a bowl are fine).
    """

    name = "SortManyIntoBowls"
    split = "unseen"
    description = "sort eight or nine blocks of three colours into the bowls of their colours"
    template = "sort all the blocks into the bowls by colour: put every block in the bowl of its own colour"
    paraphrases = (
        "put every block into the bowl of its own colour",
        "sort the blocks by colour, each one into the bowl that matches it",
        "place each of the blocks in the bowl of the same colour",
    )
    held_out_paraphrases = (
        "every block belongs in the bowl of its own colour: sort them all",
        "match all the blocks to the bowls by colour, each block in its own colour's bowl",
    )
    max_turns = 12
    rules = SIZE_RULE + " A bowl may hold its blocks side by side or piled up."

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        bowl_colours = choose_colours(rng, colours, SORT_BOWLS)
        flip = float(rng.choice([-1.0, 1.0]))  # the triangle of bowls points away from the robot or towards it
        for colour, (x, y) in zip(bowl_colours, BOWL_TRIANGLE):
            jitter = rng.uniform(-BOWL_JITTER, BOWL_JITTER, size=2)
            layout.add_at("bowl", colour, (0.45 + flip * x + jitter[0], y + jitter[1]))
        wanted = [(c, s) for c in bowl_colours for s in SIZE_ORDER]
        wanted = [wanted[i] for i in rng.permutation(len(wanted))][: int(rng.integers(8, 10))]
        wanted.sort(key=lambda cs: -SIZE_ORDER.index(cs[1]))  # larger blocks first, so towers narrow upwards
        towers: list[list[ObjectPlacement]] = []
        for colour, size in wanted:
            bases = [t for t in towers if len(t) < MAX_START_TOWER]
            if bases and rng.random() < TOWER_CHANCE:
                tower = bases[int(rng.integers(len(bases)))]
                tower.append(layout.stack_on(tower[-1], colour, size))
                continue
            try:
                towers.append([layout.add("block", colour, size=size)])
            except SceneSamplingError:
                if not bases:
                    raise
                tower = bases[int(rng.integers(len(bases)))]
                tower.append(layout.stack_on(tower[-1], colour, size))
        return Sample(self.template, layout.placements, {})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        return checks.in_own_colour_bowls(objects, "every block is in the bowl of its colour")
