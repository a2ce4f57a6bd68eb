"""A scene that changes while the agent works.

PutBackInBowl: "put all the blocks in the <bowl>"; the first block to come to rest in the
bowl is taken out again and put down at a spot drawn with the scene (free of the other
objects, at least 15 cm from the bowl), once (a scene event, ``envs/events.py``): the
observation's scene shows where it went, and a note says so. A program that places each
block once and declares success without looking again fails.

Tolerances are those of ``checks`` (in a bowl: within its 6 cm inner radius).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.events import SceneEvent
from codeact_robot.envs.objects import KINDS
from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import CLEARANCE, Layout, choose_colours, far_from
from codeact_robot.errors import SceneSamplingError

SPOT_FROM_BOWL = 0.15


class PutBackInBowl(Task):
    name = "PutBackInBowl"
    split = "interactive"
    description = "put all the blocks in a bowl while the scene changes: a block placed is taken out again"
    template = "put all the blocks in the {bowl}; check your work, things may move"
    paraphrases = (
        "every block belongs in the {bowl}; make sure they all end up there, even if something moves",
        "fill the {bowl} with all the blocks and verify they stay in it",
        "put every block in the {bowl} and check again before you finish: something may move",
    )
    held_out_paraphrases = (
        "get each block into the {bowl}, and look again before you finish: the scene may change",
        "all blocks into the {bowl}, please; someone may move one, so double-check",
    )
    max_turns = 8

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        bowl_colour, *block_colours = choose_colours(rng, colours, 1 + int(rng.integers(2, 4)))
        layout = Layout(rng)
        bowl = layout.add("bowl", bowl_colour)
        for colour in block_colours:
            layout.add("block", colour)
        clear = far_from([p.position for p in layout.placements], KINDS["bowl"].footprint_radius + CLEARANCE)
        spot = None
        for _ in range(200):
            xy = rng.uniform(np.array([0.3, -0.25]), np.array([0.6, 0.25]))
            if clear(xy) and far_from([bowl.position], SPOT_FROM_BOWL)(xy):
                spot = (float(xy[0]), float(xy[1]))
                break
        if spot is None:
            raise SceneSamplingError("no free spot to put a block taken out of the bowl")
        event = SceneEvent(bowl.name, "block", spot).to_dict()
        fields = {"bowl": bowl.name}
        return Sample(self.template.format(**fields), layout.placements, dict(fields), fields, (event,))

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        bowl = objects[params["bowl"]]
        return checks.all_hold(
            (
                (checks.is_in_bowl(b, bowl), f"{checks.describe(b)} is not in the {bowl.name}")
                for b in checks.blocks(objects)
            ),
            f"every block is in the {bowl.name}",
        )
