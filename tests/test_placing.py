"""Placing blocks next to blocks already placed: no motion disturbs an object it is not handling,
and a skill that touches one says so and returns False."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from codeact_robot.envs.objects import COLOUR_SPLITS, KINDS
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.tasks.sampling import CLEARANCE, Layout, far_from, with_retries
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.skills import bind
from codeact_robot.skills.clearance import Obstacle, Rectangle, clearance, clearest_yaw
from codeact_robot.skills.context import SkillContext

SEEDS = range(20)
VISION_SEEDS = range(1)  # vision renders both cameras at every look: one seed shows it places as state does
CASES = [("state", seed) for seed in SEEDS] + [("vision", seed) for seed in VISION_SEEDS]
SPACING = 0.1
CENTRE = np.array([0.45, 0.0])
AT_TARGET = 0.01  # every block ends this close to its target
STILL = 0.001  # a block nobody touches moves less than this
# Blocks start anywhere on the table, as far from every target as the scene sampler keeps
# any two objects apart: the targets are free, and their neighbours are the placed blocks.
START_AWAY = 2 * KINDS["block"].footprint_radius + CLEARANCE
LINE_DIRECTIONS = [(0.0, 1.0), (1.0, 0.0), (math.sqrt(0.5), math.sqrt(0.5))]  # along y, along x, diagonal
COLOURS = COLOUR_SPLITS["all"]


def line_targets(seed: int) -> list[np.ndarray]:
    """Four points 10 cm apart through the table's middle; the direction changes with the seed."""
    direction = np.array(LINE_DIRECTIONS[seed % len(LINE_DIRECTIONS)])
    return [CENTRE + (i - 1.5) * SPACING * direction for i in range(4)]


def grid_targets() -> list[np.ndarray]:
    """A 3x3 grid 10 cm apart around the table's middle."""
    return [CENTRE + SPACING * np.array([i, j]) for i in (-1, 0, 1) for j in (-1, 0, 1)]


def blocks_away_from(targets: list[np.ndarray], seed: int) -> list[ObjectPlacement]:
    """One block per target, each at a seeded random spot at least ``START_AWAY`` from every target."""
    rng = np.random.default_rng(seed)

    def lay_out() -> Layout:
        layout = Layout(rng)
        for colour in COLOURS[: len(targets)]:
            layout.add("block", colour, accept=far_from(targets, START_AWAY))
        return layout

    return with_retries(lay_out).placements


def place_one_by_one(
    world: TabletopWorld, targets: list[np.ndarray], seed: int, perception: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lay out the seed's scene and pick_and_place each block at its target, checking as it goes."""
    world.build(blocks_away_from(targets, seed))
    skills = bind(SkillContext(world, perception))
    names = [f"{colour} block" for colour in COLOURS[: len(targets)]]
    for name, target in zip(names, targets):
        before = {n: np.array(world.object_state(n).position) for n in names}
        assert skills["pick_and_place"](name, target.tolist()) is True, f"seed {seed}: {name}: {capsys.readouterr()}"
        for other in names:
            moved = float(np.linalg.norm(world.object_state(other).position - before[other]))
            assert other == name or moved < STILL, f"seed {seed}: placing the {name} moved the {other} {moved:.4f} m"
    assert "[robot]" not in capsys.readouterr().out
    for name, target in zip(names, targets):
        error = float(np.hypot(*(np.array(world.object_state(name).position[:2]) - target)))
        assert error < AT_TARGET, f"seed {seed}: the {name} ended {error:.4f} m from its target"


@pytest.mark.parametrize(("perception", "seed"), CASES)
def test_four_blocks_in_a_line_each_stay_where_placed(
    world: TabletopWorld, perception: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    place_one_by_one(world, line_targets(seed), seed, perception, capsys)


@pytest.mark.parametrize(("perception", "seed"), CASES)
def test_nine_blocks_in_a_grid_each_stay_where_placed(
    world: TabletopWorld, perception: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    place_one_by_one(world, grid_targets(), seed, perception, capsys)


def test_room_between_rectangles_against_hand_computed_values() -> None:
    square = Rectangle(np.zeros(2), 0.0, (0.02, 0.02))
    assert square.gap(Rectangle(np.array([0.1, 0.0]), 0.0, (0.02, 0.02))) == pytest.approx(0.06)
    turned = Rectangle(np.array([0.1, 0.0]), math.pi / 4, (0.02, 0.02))  # a corner points back at it
    assert square.gap(turned) == pytest.approx(0.1 - 0.02 - 0.02 * math.sqrt(2))
    assert square.gap(Rectangle(np.array([0.03, 0.0]), 0.0, (0.02, 0.02))) == pytest.approx(-0.01)


def test_the_wrist_turns_the_fingers_off_the_axis_a_neighbour_lies_on() -> None:
    neighbour = Obstacle("blue block", Rectangle(np.array([0.0, 0.07]), 0.0, (0.02, 0.02)), top=0.04)
    grasp = np.array([0.0, 0.0, 0.02])  # a block's centre; the hand's underside is at 0.059, above the neighbour
    # Yaw 0: fingers open along y, 6.4 cm apart. A finger's thicker upper part starts at z 0.039,
    # below the neighbour's top, and spans y 0.032-0.059; the neighbour starts at y 0.05.
    assert clearance(grasp, 0.0, 0.064, [neighbour]) == pytest.approx(-0.009)
    # A quarter turn: the fingers open along x and are 1.1 cm wide, so the neighbour is 5 - 1.1 cm away.
    assert clearance(grasp, math.pi / 2, 0.064, [neighbour]) == pytest.approx(0.039)
    assert clearest_yaw(grasp, [0.0, math.pi / 2], 0.064, [neighbour]) == math.pi / 2
    assert clearest_yaw(grasp, [0.0, math.pi / 2], 0.064, []) == 0.0  # nothing around: the preferred yaw


def block(colour: str, x: float, y: float, yaw: float = 0.0) -> ObjectPlacement:
    return ObjectPlacement("block", colour, (x, y, KINDS["block"].half_height), yaw)


def resting(world: TabletopWorld, name: str) -> np.ndarray:
    return np.array(world.object_state(name).position)


@pytest.mark.parametrize("perception", ["state", "vision"])
def test_pick_turns_the_fingers_away_from_a_close_neighbour(world: TabletopWorld, perception: str) -> None:
    # At yaw 0 the fingers open along y, so fully open they would reach the blue block's face.
    world.build([block("red", 0.45, 0.0), block("blue", 0.45, 0.07)])
    skills = bind(SkillContext(world, perception))
    assert skills["pick"]("red block") is True
    assert skills["is_holding"]("red block")
    assert np.linalg.norm(resting(world, "blue block") - (0.45, 0.07, 0.02)) < STILL


@pytest.mark.parametrize("perception", ["state", "vision"])
def test_place_turns_the_fingers_away_from_a_close_neighbour(world: TabletopWorld, perception: str) -> None:
    world.build([block("red", 0.35, -0.15), block("blue", 0.45, 0.07)])
    skills = bind(SkillContext(world, perception))
    assert skills["pick_and_place"]("red block", [0.45, 0.0]) is True
    assert np.hypot(*(resting(world, "red block")[:2] - (0.45, 0.0))) < AT_TARGET
    assert np.linalg.norm(resting(world, "blue block") - (0.45, 0.07, 0.02)) < STILL


def test_a_pick_that_touches_a_neighbour_says_which_and_returns_false(
    world: TabletopWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # Cups 10 cm away on all four sides: whichever way the wrist turns, the hand (21 cm long,
    # its underside 1 mm below a cup's rim at the grasp) grazes two of them.
    sides = [(0.1, 0.0), (-0.1, 0.0), (0.0, 0.1), (0.0, -0.1)]
    cups = [
        ObjectPlacement("cup", c, (0.45 + dx, dy, KINDS["cup"].half_height)) for c, (dx, dy) in zip(COLOURS[1:], sides)
    ]
    world.build([block("red", 0.45, 0.0), *cups])
    skills = bind(SkillContext(world, "state"))
    assert skills["pick_and_place"]("red block", [0.35, -0.2]) is False
    assert np.hypot(*(resting(world, "red block")[:2] - (0.35, -0.2))) < AT_TARGET  # placed all the same
    notes = capsys.readouterr().out.splitlines()
    assert len(notes) == 2 and all(
        re.fullmatch(r"\[robot\] picking the red block, the arm touched the \w+ cup, which may have moved", n)
        for n in notes
    ), notes


def test_placing_where_a_block_stands_in_the_way_says_so_and_returns_false(
    world: TabletopWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    # The target is 3.5 cm from the blue block's centre: the red block comes down on its edge.
    world.build([block("red", 0.35, -0.15), block("blue", 0.45, 0.035)])
    skills = bind(SkillContext(world, "state"))
    assert skills["pick_and_place"]("red block", [0.45, 0.0]) is False
    assert "[robot] placing the red block, the red block touched the blue block" in capsys.readouterr().out


def test_pushing_a_block_into_another_says_so_and_returns_false(
    world: TabletopWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    world.build([block("red", 0.40, 0.0), block("blue", 0.40, 0.09)])
    skills = bind(SkillContext(world, "state"))
    assert skills["push"]("red block", "left", 0.1) is False
    assert "[robot] pushing the red block, the red block touched the blue block" in capsys.readouterr().out
    assert resting(world, "blue block")[1] > 0.09 + STILL  # it was shoved along
