"""Tasks about precise arrangements of blocks: a pyramid, a square, a row in colour order, a letter.

Lengths and positions are in metres in the world frame; "left", "right", "top" and
"bottom" are as seen from the top camera (left is +y, top is +x).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours, far_from
from codeact_robot.envs.workspace import DIRECTIONS_RULE, TABLE_PLACES
from codeact_robot.errors import SceneSamplingError

PYRAMID_SPACING = (0.04, 0.06)  # centre to centre of the two base blocks: touching to 2 cm apart
PYRAMID_ROW_X = 0.015  # the base blocks' centres differ by at most this in x (a left-right row)
PYRAMID_TOP_XY = 0.015  # the top block's centre from the midpoint of the base centres
CORNER_TOLERANCE = 0.02  # a block's centre from its corner (square) or cell (letter)


def starts_unsolved(placements: Sequence[ObjectPlacement], solved: bool) -> None:
    """Reject a layout that happens to start with the goal holding (the sampler then draws again).

    Raises:
        SceneSamplingError: when ``solved``.
    """
    if solved:
        raise SceneSamplingError(f"the layout of {len(placements)} objects starts solved")


class BuildPyramid(Task):
    """Two blocks side by side on the table and a third resting on both.

    Tolerances: both base blocks stand on the table, the left one at larger y, their
    centres 4-6 cm apart and within 1.5 cm of each other in x (a left-right row), their
    midpoint within 8 cm of the named place; the top block rests on both (its centre
    within 1.5 cm of the base midpoint horizontally, and one block height, within 1 cm,
    above each base block).
    """

    name = "BuildPyramid"
    split = "seen"
    description = "build a two-one pyramid of three named blocks on a table place"
    template = (
        "build a pyramid on the {location}: put the {left} and the {right} side by side on the table in a left-right "
        "row, the {left} on the left, their centres 4 to 6 cm apart, then put the {top} on top resting on both"
    )
    paraphrases = (
        "on the {location}, make a pyramid: the {left} and the {right} stand side by side on the table in a "
        "left-right row with the {left} on the left and their centres 4 to 6 cm apart, and the {top} rests on top "
        "of both",
        "put the {left} and the {right} next to each other on the table on the {location}, in a left-right row "
        "with the {left} on the left and 4 to 6 cm between their centres, then set the {top} on top of both to make "
        "a pyramid",
        "make a three-block pyramid on the {location}: the base is the {left} (on the left) and the {right}, side "
        "by side on the table in a left-right row with centres 4 to 6 cm apart; the {top} goes on top, resting on "
        "both",
    )
    held_out_paraphrases = (
        "the {top} should rest on top of the {left} and the {right}, which stand side by side on the table in a "
        "left-right row on the {location}, the {left} on the left, centres 4 to 6 cm apart: a pyramid",
        "stack a pyramid on the {location}: first the {left} on the left and the {right} on the right, side by side "
        "on the table in a left-right row, their centres 4 to 6 cm apart; then the {top} on top across both",
    )
    max_turns = 6
    rules = DIRECTIONS_RULE

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        place = str(rng.choice(list(TABLE_PLACES)))
        target = TABLE_PLACES[place]
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(0, 2))):
            layout.add("bowl", colour, accept=far_from([target], 0.2))
        names = [layout.add("block", c, accept=far_from([target], 0.1)).name for c in choose_colours(rng, colours, 3)]
        params = {"left": names[0], "right": names[1], "top": names[2], "location": place}
        return Sample(self.template.format(**params), layout.placements, params, dict(params))

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        left, right, top = objects[params["left"]], objects[params["right"]], objects[params["top"]]
        place = params["location"]
        mid = (checks.xy(left) + checks.xy(right)) / 2
        spacing = checks.xy_distance(left, right.position)
        results = [(checks.is_on_table(b), f"{checks.describe(b)} is not standing on the table") for b in (left, right)]
        results += [
            (left.position[1] > right.position[1], f"the {left.name} is not to the left of the {right.name}"),
            (
                abs(left.position[0] - right.position[0]) <= PYRAMID_ROW_X,
                f"the base blocks are {abs(left.position[0] - right.position[0]) * 100:.1f} cm apart in x, not in "
                f"a left-right row (at most {PYRAMID_ROW_X * 100:.1f} cm)",
            ),
            (
                PYRAMID_SPACING[0] <= spacing <= PYRAMID_SPACING[1],
                f"the base blocks' centres are {spacing * 100:.1f} cm apart "
                f"({PYRAMID_SPACING[0] * 100:.0f}-{PYRAMID_SPACING[1] * 100:.0f} cm needed)",
            ),
            (
                float(np.hypot(*(mid - TABLE_PLACES[place]))) < checks.PLACE_RADIUS,
                f"the pyramid's base is centred at ({mid[0]:.2f}, {mid[1]:.2f}), not on the {place}",
            ),
            (
                checks.xy_distance(top, mid) <= PYRAMID_TOP_XY
                and all(
                    abs(top.position[2] - b.position[2] - (top.spec.half_height + b.spec.half_height))
                    <= checks.STACK_Z_TOLERANCE
                    for b in (left, right)
                )
                and checks.is_resting(top),
                f"{checks.describe(top)} does not rest on both base blocks (its centre must be within "
                f"{PYRAMID_TOP_XY * 100:.1f} cm of ({mid[0]:.3f}, {mid[1]:.3f}), one block height above them)",
            ),
        ]
        return checks.all_hold(results, f"a pyramid of the {left.name}, {right.name} and {top.name} on the {place}")


SQUARE_SIDES = (0.08, 0.10, 0.12)
SQUARE_CENTRE_X = (0.38, 0.52)
SQUARE_CENTRE_Y = (-0.16, 0.16)


def square_corners(centre: Sequence[float], side: float) -> list[tuple[float, float]]:
    """The corners of an axis-aligned square: top left, top right, bottom right, bottom left."""
    h = side / 2
    return [(centre[0] + dx * h, centre[1] + dy * h) for dx, dy in ((1, 1), (1, -1), (-1, -1), (-1, 1))]


def blocks_at_points(
    blocks_: Sequence[ObjectState], points: Sequence[Sequence[float]], what: str
) -> list[tuple[bool, str]]:
    """(ok, failure) pairs: each point has a block standing within ``CORNER_TOLERANCE`` of it, one per point."""
    results = [(checks.is_on_table(b), f"{checks.describe(b)} is not standing on the table") for b in blocks_]
    used: set[str] = set()
    for point in points:
        near = [b for b in blocks_ if b.name not in used and checks.xy_distance(b, point) <= CORNER_TOLERANCE]
        if near:
            used.add(near[0].name)
        results.append(
            (
                bool(near),
                f"no block within {CORNER_TOLERANCE * 100:.0f} cm of the {what} at ({point[0]:.3f}, {point[1]:.3f})",
            )
        )
    return results


class MakeSquare(Task):
    """Four blocks at the corners of an axis-aligned square of a given side and centre.

    Tolerances: every block stands on the table, and each corner of the square has its
    own block whose centre is within 2 cm of it.
    """

    name = "MakeSquare"
    split = "seen"
    description = "arrange four blocks at the corners of a square of given side and centre"
    template = (
        "arrange the four blocks in a square with sides of {side_cm} cm, centred at x = {x} m, y = {y} m, "
        "with its sides parallel to the table's edges: one block standing at each corner"
    )
    paraphrases = (
        "put one block standing at each corner of a square {side_cm} cm on a side, centred at x = {x} m, y = {y} m, "
        "its sides parallel to the table's edges",
        "make a square of the four blocks: sides {side_cm} cm long and parallel to the table's edges, centre at "
        "x = {x} m, y = {y} m, one block standing on each corner",
        "place the four blocks standing at the corners of a {side_cm} cm square whose centre is x = {x} m, "
        "y = {y} m and whose sides run parallel to the table's edges",
    )
    held_out_paraphrases = (
        "the four blocks should stand at the corners of a square with {side_cm} cm sides, parallel to the table's "
        "edges, centred on x = {x} m, y = {y} m",
        "with its centre at x = {x} m, y = {y} m and its sides parallel to the table's edges, lay out a {side_cm} cm "
        "square with one block standing at each corner",
    )
    rules = "Each block's centre must be within 2 cm of its corner of the square."

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        side = float(rng.choice(SQUARE_SIDES))
        centre = [round(float(rng.uniform(*SQUARE_CENTRE_X)), 2), round(float(rng.uniform(*SQUARE_CENTRE_Y)), 2)]
        corners = square_corners(centre, side)
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(0, 2))):
            layout.add("bowl", colour, accept=far_from(corners, 0.14))
        for colour in choose_colours(rng, colours, 4):
            layout.add("block", colour, accept=far_from(corners, 0.07))
        fields = {"side_cm": str(round(side * 100)), "x": f"{centre[0]:.2f}", "y": f"{centre[1]:.2f}"}
        return Sample(self.template.format(**fields), layout.placements, {"side": side, "centre": centre}, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        corners = square_corners(params["centre"], params["side"])
        return checks.all_hold(
            blocks_at_points(checks.blocks(objects), corners, "corner"),
            f"the blocks form a square with {params['side'] * 100:.0f} cm sides",
        )


RAINBOW = ("red", "orange", "yellow", "green", "cyan", "blue", "purple")


class RowInColourOrder(Task):
    """The blocks in one left-to-right row, in a given colour order.

    Tolerances: every block stands on the table within 2.5 cm of the row's line (the
    blocks' median x), neighbouring centres 5-12 cm apart along y, and the order by
    decreasing y (left to right in the top camera) is the instruction's.
    """

    name = "RowInColourOrder"
    split = "seen"
    description = "line the blocks up left to right in rainbow (or a given) colour order"
    template = (
        "line up the blocks in one left-to-right row in {which}: {order}, from left to right as seen from the top "
        "camera, with neighbouring blocks 5 to 12 cm apart centre to centre"
    )
    paraphrases = (
        "arrange the blocks in a single left-to-right row in {which}: {order}, left to right as seen from the top "
        "camera, neighbouring blocks 5 to 12 cm apart centre to centre",
        "make one row of the blocks running left to right in {which} ({order}, from left to right as the top "
        "camera sees it), with 5 to 12 cm between neighbouring centres",
        "put the blocks in a left-to-right row in {which}, {order}, reading from left to right in the top camera, "
        "neighbouring blocks 5 to 12 cm apart centre to centre",
    )
    held_out_paraphrases = (
        "from left to right as seen from the top camera, the blocks should stand in one row in {which}: {order}, "
        "neighbouring centres 5 to 12 cm apart",
        "order the blocks in one left-to-right row in {which} ({order}, left to right in the top camera's view), "
        "keeping neighbouring blocks 5 to 12 cm apart centre to centre",
    )
    rules = "A row runs left to right (along y); every block's centre within 2.5 cm of the row's line. " + (
        DIRECTIONS_RULE
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        chosen = choose_colours(rng, colours, int(rng.integers(3, 6)))
        placements = [layout.add("block", colour) for colour in chosen]
        rainbow = all(c in RAINBOW for c in chosen)
        ordered = sorted(chosen, key=RAINBOW.index) if rainbow else [str(c) for c in rng.permutation(chosen)]
        order = [p.name for c in ordered for p in placements if p.colour == c]
        starts_unsolved(layout.placements, [p.name for p in sorted(placements, key=lambda p: -p.position[1])] == order)
        fields = {"which": "rainbow order" if rainbow else "this order", "order": ", ".join(f"the {n}" for n in order)}
        return Sample(self.template.format(**fields), layout.placements, {"order": order}, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        ordered, results = checks.row_left_to_right(checks.blocks(objects))
        names = [b.name for b in ordered]
        results.append((names == list(params["order"]), "the row reads " + ", ".join(names) + " from left to right"))
        return checks.all_hold(results, "the blocks stand in a row in the order " + ", ".join(params["order"]))


LETTER_SPACING = 0.08
LETTER_CENTRE_TOLERANCE = 0.05
LETTERS: dict[str, tuple[tuple[int, int], ...]] = {
    "L": ((0, 0), (1, 0), (2, 0), (2, 1)),
    "T": ((0, 0), (0, 1), (0, 2), (1, 1), (2, 1)),
}
"""Cells of each letter as (row, column): rows run top to bottom (-x), columns left to right (-y)."""
LETTER_SHAPES = {
    "L": "three blocks in a top-to-bottom column and a fourth to the right of the bottom one",
    "T": "three blocks in a left-to-right row and two more in a column below its middle block",
}


def letter_cells(letter: str, centre: Sequence[float]) -> np.ndarray:
    """The (x, y) of each cell of ``letter`` with the letter's bounding box centred on ``centre``."""
    cells = np.array(LETTERS[letter], dtype=float)
    cells -= (cells.min(axis=0) + cells.max(axis=0)) / 2
    return np.array(centre, dtype=float) - LETTER_SPACING * cells


class MakeLetter(Task):
    """The blocks drawn as an upright letter (L or T) on a grid of 8 cm, seen from the top camera.

    Tolerances: every block stands on the table; after the best shift of the whole letter
    (so the shape is judged apart from where it stands), each block's centre is within 2 cm of
    its own cell; and that shift is at most 5 cm, so the letter's bounding box is centred within
    5 cm of the middle of the table.
    """

    name = "MakeLetter"
    split = "unseen"
    description = "draw an upright letter L or T with the blocks on an 8 cm grid"
    template = (
        "make an upright letter {letter} with the blocks, as read from the top camera: {shape}; neighbouring "
        "blocks 8 cm apart centre to centre, the letter centred on the middle of the table (x = 0.45 m, y = 0.00 m)"
    )
    paraphrases = (
        "use the blocks to form an upright letter {letter}, as read from the top camera: {shape}; neighbouring "
        "blocks 8 cm apart centre to centre, centred on the middle of the table (x = 0.45 m, y = 0.00 m)",
        "arrange the blocks as an upright {letter} read from the top camera ({shape}), with neighbouring blocks "
        "8 cm apart centre to centre and the letter centred on the middle of the table (x = 0.45 m, y = 0.00 m)",
        "lay the blocks out as the letter {letter}, upright as the top camera reads it: {shape}; 8 cm between "
        "neighbouring centres, the letter centred on the middle of the table (x = 0.45 m, y = 0.00 m)",
    )
    held_out_paraphrases = (
        "the blocks should spell an upright letter {letter} as read from the top camera: {shape}, neighbouring "
        "blocks 8 cm apart centre to centre, centred on the middle of the table (x = 0.45 m, y = 0.00 m)",
        "centred on the middle of the table (x = 0.45 m, y = 0.00 m), draw an upright {letter} with the blocks as "
        "the top camera reads it: {shape}; neighbouring blocks 8 cm apart centre to centre",
    )
    rules = (
        "Blocks stand on the table, each centre within 2 cm of its cell; the letter's bounding box may be off the "
        "given centre by at most 5 cm. " + DIRECTIONS_RULE
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        letter = str(rng.choice(list(LETTERS)))
        cells = letter_cells(letter, TABLE_PLACES["middle"])
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, len(LETTERS[letter])):
            layout.add("block", colour, accept=far_from(cells, 0.06))
        fields = {"letter": letter, "shape": LETTER_SHAPES[letter]}
        return Sample(self.template.format(**fields), layout.placements, {"letter": letter}, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        blocks_ = checks.blocks(objects)
        cells = letter_cells(params["letter"], TABLE_PLACES["middle"])
        points = np.array([checks.xy(b) for b in blocks_])
        best_error, best_shift = np.inf, np.zeros(2)
        for order in itertools.permutations(range(len(blocks_))):
            shift = (points[list(order)] - cells).mean(axis=0)
            error = float(np.linalg.norm(points[list(order)] - cells - shift, axis=1).max())
            if error < best_error:
                best_error, best_shift = error, shift
        results = [(checks.is_on_table(b), f"{checks.describe(b)} is not standing on the table") for b in blocks_]
        results += [
            (
                best_error <= CORNER_TOLERANCE,
                f"the blocks do not form the letter {params['letter']}: a block is {best_error * 100:.1f} cm from its "
                f"cell (at most {CORNER_TOLERANCE * 100:.0f} cm)",
            ),
            (
                float(np.linalg.norm(best_shift)) <= LETTER_CENTRE_TOLERANCE,
                f"the letter is centred {np.linalg.norm(best_shift) * 100:.1f} cm from the middle of the table "
                f"(at most {LETTER_CENTRE_TOLERANCE * 100:.0f} cm)",
            ),
        ]
        return checks.all_hold(results, f"the blocks form the letter {params['letter']}")
