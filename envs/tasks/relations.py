"""Tasks that pick a block by its spatial relation to others, then move it to a place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours, far_from
from codeact_robot.envs.workspace import CORNERS, DIRECTIONS, DIRECTIONS_RULE, SIDES, TABLE_PLACES

ORDINALS = ("first", "second", "third")
DIRECTION_CONE = np.radians(20.0)  # the answer lies within this angle of the direction
OTHER_CONE = np.radians(70.0)  # the other blocks lie outside this angle
SEPARATION = 0.05  # distinct distances / coordinates differ by at least this


def _angle_to(direction: str, origin: tuple[float, ...]) -> Callable[[np.ndarray], float]:
    unit = np.array(DIRECTIONS[direction])

    def angle(xy: np.ndarray) -> float:
        delta = np.asarray(xy[:2]) - np.asarray(origin[:2])
        return float(np.arccos(np.clip(delta @ unit / max(np.linalg.norm(delta), 1e-9), -1.0, 1.0)))

    return angle


class _PickToPlace(Task):
    """Shared shape: one block is the answer; success is that block at the place."""

    max_turns = 5

    def _choose_place(self, rng: np.random.Generator) -> tuple[str, tuple[float, float]]:
        place = str(rng.choice(CORNERS + SIDES))
        return place, TABLE_PLACES[place]

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        block, place = objects[params["object"]], params["place"]
        if checks.is_at(block, TABLE_PLACES[place]):
            return CheckResult(True, f"{block.name} is on the {place}")
        return CheckResult(False, f"{checks.describe(block)} is not on the {place} {TABLE_PLACES[place]}")


class PickByDirectionFromBowl(_PickToPlace):
    name = "PickByDirectionFromBowl"
    split = "seen"
    description = "move the block that lies to one side of a bowl to a corner or side"
    template = "pick up the block to the {direction} of the {bowl} and place it on the {place}"
    paraphrases = (
        "move the block {direction} of the {bowl} to the {place}",
        "put the block that is to the {direction} of the {bowl} on the {place}",
        "take the block to the {direction} of the {bowl} and set it on the {place}",
    )
    held_out_paraphrases = (
        "the block lying {direction} of the {bowl} goes on the {place}",
        "take the block on the {direction} of the {bowl} over to the {place}",
    )
    rules = DIRECTIONS_RULE

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        direction = str(rng.choice(list(DIRECTIONS)))
        place, target = self._choose_place(rng)
        clear_of_place = far_from([target], 0.12)
        layout = Layout(rng)
        bowl_colour, *block_colours = choose_colours(rng, colours, 1 + int(rng.integers(2, 4)))
        bowl = layout.add("bowl", bowl_colour, accept=clear_of_place)
        angle = _angle_to(direction, bowl.position)

        def in_direction(xy: np.ndarray) -> bool:
            distance = np.hypot(*(xy - np.array(bowl.position[:2])))
            return angle(xy) < DIRECTION_CONE and 0.1 < distance < 0.25 and clear_of_place(xy)

        answer = layout.add("block", block_colours[0], accept=in_direction)
        for colour in block_colours[1:]:
            layout.add("block", colour, accept=lambda xy: angle(xy) > OTHER_CONE and clear_of_place(xy))
        fields = {"direction": direction, "bowl": bowl.name, "place": place}
        return Sample(
            self.template.format(**fields),
            layout.placements,
            {"object": answer.name, "place": place, "bowl": bowl.name, "direction": direction},
            fields,
        )


class PickByDistanceToBowl(_PickToPlace):
    name = "PickByDistanceToBowl"
    split = "seen"
    description = "move the block closest to (or farthest from) a bowl to a corner or side"
    template = "pick up the block {relation} the {bowl} and place it on the {place}"
    paraphrases = (
        "move the block {relation} the {bowl} to the {place}",
        "put the block {relation} the {bowl} on the {place}",
        "take the block {relation} the {bowl} and set it on the {place}",
    )
    held_out_paraphrases = (
        "the block {relation} the {bowl} goes on the {place}",
        "take the block {relation} the {bowl} over to the {place}",
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        extreme = str(rng.choice(["closest", "farthest"]))
        place, target = self._choose_place(rng)
        clear_of_place = far_from([target], 0.12)
        layout = Layout(rng)
        bowl_colour, *block_colours = choose_colours(rng, colours, 1 + int(rng.integers(2, 4)))
        bowl = layout.add("bowl", bowl_colour, accept=clear_of_place)
        distances: list[float] = []

        def distinct_distance(xy: np.ndarray) -> bool:
            d = float(np.hypot(*(xy - np.array(bowl.position[:2]))))
            return clear_of_place(xy) and all(abs(d - other) >= SEPARATION for other in distances)

        blocks = []
        for colour in block_colours:
            block = layout.add("block", colour, accept=distinct_distance)
            distances.append(float(np.hypot(*(np.array(block.position[:2]) - np.array(bowl.position[:2])))))
            blocks.append(block)
        pick = int(np.argmin(distances) if extreme == "closest" else np.argmax(distances))
        relation = "closest to" if extreme == "closest" else "farthest from"
        fields = {"relation": relation, "bowl": bowl.name, "place": place}
        return Sample(
            self.template.format(**fields),
            layout.placements,
            {"object": blocks[pick].name, "place": place, "bowl": bowl.name, "extreme": extreme},
            fields,
        )


class PickNthFromDirection(_PickToPlace):
    name = "PickNthFromDirection"
    split = "seen"
    description = "move the n-th block counted from one side of the table to a corner or side"
    template = "pick up the {ordinal} block from the {direction} and place it on the {place}"
    paraphrases = (
        "move the {ordinal} block from the {direction} to the {place}",
        "counting from the {direction}, put the {ordinal} block on the {place}",
        "take the {ordinal} block from the {direction} and set it on the {place}",
    )
    held_out_paraphrases = (
        "the {ordinal} block counted from the {direction} goes on the {place}",
        "take the {ordinal} block from the {direction} over to the {place}",
    )
    rules = DIRECTIONS_RULE

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        direction = str(rng.choice(list(DIRECTIONS)))
        count = int(rng.integers(3, 5))
        ordinal_index = int(rng.integers(0, min(count, len(ORDINALS))))
        place, target = self._choose_place(rng)
        clear_of_place = far_from([target], 0.12)
        unit = np.array(DIRECTIONS[direction])
        layout = Layout(rng)
        coordinates: list[float] = []

        def distinct_coordinate(xy: np.ndarray) -> bool:
            c = float(xy @ unit)
            return clear_of_place(xy) and all(abs(c - other) >= SEPARATION for other in coordinates)

        blocks = []
        for colour in choose_colours(rng, colours, count):
            block = layout.add("block", colour, accept=distinct_coordinate)
            coordinates.append(float(np.array(block.position[:2]) @ unit))
            blocks.append(block)
        answer = blocks[int(np.argsort(coordinates)[::-1][ordinal_index])]
        fields = {"ordinal": ORDINALS[ordinal_index], "direction": direction, "place": place}
        return Sample(
            self.template.format(**fields),
            layout.placements,
            {"object": answer.name, "place": place, "direction": direction, "ordinal": ordinal_index + 1},
            fields,
        )
