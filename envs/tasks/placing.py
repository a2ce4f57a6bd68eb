"""Tasks about putting blocks at places: on objects, at table places, relative to bowls, in lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codeact_robot.envs.objects import object_name
from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours, far_from
from codeact_robot.envs.workspace import CORNERS, DIRECTIONS, DIRECTIONS_RULE, TABLE_PLACES, WORKSPACE

GROUP_RADIUS = 0.12  # several blocks "at" one place may sit side by side


class PickPlace(Task):
    name = "PickPlace"
    split = "seen"
    description = "pick up a block and place it on another block or in a bowl"
    template = "pick up the {object} and place it {preposition} the {target}"
    paraphrases = (
        "put the {object} {preposition} the {target}",
        "move the {object} {preposition} the {target}",
        "take the {object} and set it {preposition} the {target}",
    )
    held_out_paraphrases = (
        "the {object} should end up {preposition} the {target}",
        "grab the {object} and set it down {preposition} the {target}",
    )
    max_turns = 5

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        block_colours = choose_colours(rng, colours, int(rng.integers(2, 4)))
        bowl_colours = choose_colours(rng, colours, int(rng.integers(1, 3)))
        for colour in bowl_colours:
            layout.add("bowl", colour)
        for colour in block_colours:
            layout.add("block", colour)
        picked = object_name(block_colours[0], "block")
        if rng.random() < 0.5:
            target, preposition = object_name(bowl_colours[0], "bowl"), "in"
        else:
            target, preposition = object_name(block_colours[1], "block"), "on"
        fields = {"object": picked, "preposition": preposition, "target": target}
        return Sample(self.template.format(**fields), layout.placements, {"object": picked, "target": target}, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        picked, target = objects[params["object"]], objects[params["target"]]
        if target.kind == "bowl":
            return checks.in_bowl(picked, target)
        if checks.is_on_top_of(picked, target):
            return CheckResult(True, f"{picked.name} is on the {target.name}")
        return CheckResult(False, f"{checks.describe(picked)} is not on the {checks.describe(target)}")


class BlocksOnPlace(Task):
    name = "BlocksOnPlace"
    split = "seen"
    description = "put all the blocks on a corner or side of the table"
    template = "put all the blocks on the {place}"
    paraphrases = (
        "move every block to the {place}",
        "gather the blocks on the {place}",
        "place each of the blocks on the {place}",
    )
    held_out_paraphrases = ("all of the blocks belong on the {place}", "bring each block over to the {place}")
    rules = "Blocks put at a place may stand side by side or be stacked there."

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        place = str(rng.choice(list(TABLE_PLACES)))
        target = TABLE_PLACES[place]
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(0, 2))):
            layout.add("bowl", colour, accept=far_from([target], 0.2))
        for colour in choose_colours(rng, colours, int(rng.integers(2, 4))):
            layout.add("block", colour, accept=far_from([target], GROUP_RADIUS + 0.03))
        return Sample(self.template.format(place=place), layout.placements, {"place": place}, {"place": place})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        place = params["place"]
        target = TABLE_PLACES[place]
        return checks.all_hold(
            (
                (checks.is_at(b, target, GROUP_RADIUS), f"{checks.describe(b)} is not on the {place} {target}")
                for b in checks.blocks(objects)
            ),
            f"every block is within {GROUP_RADIUS * 100:.0f} cm of the {place}",
        )


class BlocksInCorners(Task):
    name = "BlocksInCorners"
    split = "unseen"
    description = "put every block in a different corner of the table"
    template = "put all the blocks in different corners"
    paraphrases = (
        "place each block in a corner of its own",
        "spread the blocks out, one per corner",
        "move every block into a corner, no two in the same one",
    )
    held_out_paraphrases = (
        "no two blocks may share a corner: put every block in one",
        "move the blocks into separate corners",
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        corners = [TABLE_PLACES[c] for c in CORNERS]
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(0, 2))):
            layout.add("bowl", colour, accept=far_from(corners, 0.15))
        for colour in choose_colours(rng, colours, int(rng.integers(2, 5))):
            layout.add("block", colour, accept=far_from(corners, checks.PLACE_RADIUS + 0.02))
        return Sample(self.template, layout.placements, {})

    def reserved(self, placements: Sequence[ObjectPlacement], params: Mapping[str, Any]) -> list[tuple[float, float]]:
        """Every corner."""
        return [TABLE_PLACES[c] for c in CORNERS]

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        used: dict[str, str] = {}
        results = []
        for block in checks.blocks(objects):
            corner = next((c for c in CORNERS if checks.is_at(block, TABLE_PLACES[c])), None)
            if corner is None:
                results.append((False, f"{checks.describe(block)} is in no corner"))
            elif corner in used:
                results.append((False, f"{block.name} and {used[corner]} share the {corner}"))
            else:
                used[corner] = block.name
        return checks.all_hold(results, "every block is in a corner of its own")


AMOUNTS = {"a little": (0.12, (0.08, 0.17)), "a lot": (0.24, (0.19, 0.32))}
"""Offset from the bowl's centre: (nominal, accepted range), metres."""
OFFSET_SIDEWAYS = 0.05


class PlaceRelativeToBowl(Task):
    name = "PlaceRelativeToBowl"
    split = "unseen"
    description = "place a block a little or a lot to one side of a bowl"
    template = "place the {object} {amount} to the {direction} of the {bowl}"
    paraphrases = (
        "put the {object} {amount} {direction} of the {bowl}",
        "set the {object} down {amount} to the {direction} of the {bowl}",
        "take the {object} and place it {amount} to the {direction} of the {bowl}",
    )
    held_out_paraphrases = (
        "move the {object} so it sits {amount} to the {direction} of the {bowl}",
        "the {object} goes {amount} to the {direction} of the {bowl}",
    )
    max_turns = 5
    rules = (
        'Distances are measured from the bowl\'s centre: "a little" is about 12 cm, "a lot" about 24 cm. '
        + DIRECTIONS_RULE
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        direction = str(rng.choice(list(DIRECTIONS)))
        amount = str(rng.choice(list(AMOUNTS)))
        offset = AMOUNTS[amount][0] * np.array(DIRECTIONS[direction])

        def target_fits(xy: np.ndarray) -> bool:
            return WORKSPACE.contains(xy + offset, margin=0.04)

        layout = Layout(rng)
        bowl_colour = choose_colours(rng, colours, 1)[0]
        bowl = layout.add("bowl", bowl_colour, accept=target_fits)
        target = (bowl.position[0] + offset[0], bowl.position[1] + offset[1])
        for colour in choose_colours(rng, colours, int(rng.integers(1, 3))):
            layout.add("block", colour, accept=far_from([target], 0.08))
        picked = layout.placements[1].name
        fields = {"object": picked, "amount": amount, "direction": direction, "bowl": bowl.name}
        return Sample(self.template.format(**fields), layout.placements, dict(fields), fields)

    def reserved(self, placements: Sequence[ObjectPlacement], params: Mapping[str, Any]) -> list[tuple[float, float]]:
        """Where the block goes: ``amount`` to the ``direction`` of the bowl."""
        bowl = next(p for p in placements if p.name == params["bowl"])
        offset = AMOUNTS[params["amount"]][0] * np.array(DIRECTIONS[params["direction"]])
        return [(bowl.position[0] + float(offset[0]), bowl.position[1] + float(offset[1]))]

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        block, bowl = objects[params["object"]], objects[params["bowl"]]
        unit = np.array(DIRECTIONS[params["direction"]])
        delta = checks.xy(block) - checks.xy(bowl)
        along = float(delta @ unit)
        sideways = abs(float(delta @ np.array([-unit[1], unit[0]])))
        low, high = AMOUNTS[params["amount"]][1]
        ok = low <= along <= high and sideways <= OFFSET_SIDEWAYS and checks.is_on_table(block)
        where = f"{along * 100:.0f} cm {params['direction']} and {sideways * 100:.0f} cm sideways of the {bowl.name}"
        if ok:
            return CheckResult(True, f"{block.name} is {where}")
        return CheckResult(
            False,
            f"{block.name} is {where}; needed {low * 100:.0f}-{high * 100:.0f} cm {params['direction']}, "
            f"at most {OFFSET_SIDEWAYS * 100:.0f} cm sideways, standing on the table",
        )


LINE_ANGLES = {"horizontal": (90.0,), "vertical": (0.0,), "diagonal": (45.0, 135.0)}
"""Accepted line directions in degrees from the +x axis (mod 180): horizontal runs left-right in the top view."""
LINE_ANGLE_TOLERANCE = 15.0
LINE_MAX_OFFSET = 0.025
LINE_SPACING = (0.045, 0.16)


class BlocksInLine(Task):
    name = "BlocksInLine"
    split = "unseen"
    description = "put all the blocks in a horizontal, vertical or diagonal line"
    template = "put all the blocks in a {orientation} line"
    paraphrases = (
        "line the blocks up in a {orientation} row",
        "arrange every block along a {orientation} line",
        "place all of the blocks in one {orientation} line",
    )
    held_out_paraphrases = (
        "make a {orientation} line out of all the blocks",
        "the blocks should form one {orientation} line",
    )
    rules = (
        "Lines are as seen from the top camera: horizontal runs left-right (along y), vertical runs "
        "top-bottom (along x), diagonal at 45 degrees. Blocks stand on the table, 5-15 cm apart."
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        orientation = str(rng.choice(list(LINE_ANGLES)))
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(3, 5))):
            layout.add("block", colour)
        fields = {"orientation": orientation}
        return Sample(self.template.format(**fields), layout.placements, dict(fields), fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        blocks = checks.blocks(objects)
        standing = [(checks.is_on_table(b), f"{checks.describe(b)} is not standing on the table") for b in blocks]
        if not all(ok for ok, _ in standing):
            return checks.all_hold(standing, "")
        points = np.array([checks.xy(b) for b in blocks])
        centred = points - points.mean(axis=0)
        _, _, axes = np.linalg.svd(centred)
        direction = axes[0]
        angle = float(np.degrees(np.arctan2(direction[1], direction[0]))) % 180.0
        offsets = np.abs(centred @ np.array([-direction[1], direction[0]]))
        along = np.sort(centred @ direction)
        gaps = np.diff(along)
        wanted = LINE_ANGLES[params["orientation"]]
        angle_error = min(min(abs(angle - a), 180 - abs(angle - a)) for a in wanted)
        return checks.all_hold(
            [
                (
                    angle_error <= LINE_ANGLE_TOLERANCE,
                    f"the blocks line up at {angle:.0f} degrees from +x, not {params['orientation']}",
                ),
                (
                    float(offsets.max()) <= LINE_MAX_OFFSET,
                    f"a block is {offsets.max() * 100:.1f} cm off the line (at most {LINE_MAX_OFFSET * 100:.1f})",
                ),
                (
                    bool(np.all((gaps >= LINE_SPACING[0]) & (gaps <= LINE_SPACING[1]))),
                    "neighbouring blocks are "
                    + ", ".join(f"{g * 100:.0f}" for g in gaps)
                    + " cm apart (5-15 cm needed)",
                ),
            ],
            f"the blocks form a {params['orientation']} line",
        )
