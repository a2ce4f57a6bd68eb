"""The families of many moves against hand-built scenes: objects teleported into place and settled, no motion.

Each family gets scenes that must pass (the goal laid out within its tolerances) and
scenes that must fail (one block 3 cm off, a wrong order, a block on a smaller one ...).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scenes import Goal, arrange

from codeact_robot.envs.objects import BLOCK_SIZE, BOWL_FLOOR, spec_of
from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks import ARRANGEMENT_FAMILIES, TaskInstance, evaluate, get_task
from codeact_robot.envs.tasks.arrangements import letter_cells, square_corners
from codeact_robot.envs.tasks.sizes import SIZE_ORDER
from codeact_robot.envs.workspace import TABLE_PLACES
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.worker.protocol import ObjectStateData

NAMES = [task.name for task in ARRANGEMENT_FAMILIES]
ROW_X = 0.45


def blocks_of(instance: TaskInstance) -> list[str]:
    return [p.name for p in instance.placements if p.kind == "block"]


def standing(name: str, x: float, y: float) -> tuple[float, float, float]:
    return (x, y, spec_of(name).half_height)


def row(names: list[str], spacing: float = 0.08) -> Goal:
    """The blocks left to right (+y to -y) along x = ROW_X, centred on y = 0."""
    first = (len(names) - 1) / 2
    return {n: standing(n, ROW_X, (first - i) * spacing) for i, n in enumerate(names)}


def tower(names: list[str], xy: tuple[float, float] = (0.45, 0.1)) -> Goal:
    """The blocks stacked bottom to top."""
    goal, bottom = {}, 0.0
    for name in names:
        half = spec_of(name).half_height
        goal[name] = (xy[0], xy[1], bottom + half)
        bottom += 2 * half
    return goal


def shifted(goal: Goal, name: str, dx: float = 0.0, dy: float = 0.0) -> Goal:
    x, y, z = goal[name]
    return {**goal, name: (x + dx, y + dy, z)}


def by_size(instance: TaskInstance) -> list[str]:
    """The blocks smallest first (ties in name order)."""
    sizes = {p.name: SIZE_ORDER.index(p.size) for p in instance.placements if p.kind == "block"}
    return sorted(sizes, key=lambda n: (sizes[n], n))


def pyramid(instance: TaskInstance, spacing: float = 0.045) -> Goal:
    p = instance.params
    x, y = TABLE_PLACES[p["location"]]
    return {
        p["left"]: (x, y + spacing / 2, BLOCK_SIZE / 2),
        p["right"]: (x, y - spacing / 2, BLOCK_SIZE / 2),
        p["top"]: (x, y, 1.5 * BLOCK_SIZE + 0.001),
    }


def square(instance: TaskInstance) -> Goal:
    corners = square_corners(instance.params["centre"], instance.params["side"])
    return {b: standing(b, *c) for b, c in zip(blocks_of(instance), corners)}


def letter(instance: TaskInstance, upside_down: bool = False) -> Goal:
    cells = letter_cells(instance.params["letter"], TABLE_PLACES["middle"])
    if upside_down:  # turned half a turn about its centre
        cells = 2 * np.array(TABLE_PLACES["middle"]) - cells
    return {b: standing(b, *c) for b, c in zip(blocks_of(instance), cells)}


def sorted_row(instance: TaskInstance) -> list[str]:
    smallest_first = by_size(instance)
    return smallest_first if instance.params["smallest"] == "left" else smallest_first[::-1]


def bowls(instance: TaskInstance, wrong: bool = False) -> Goal:
    """Each bowl's blocks stacked largest first on its floor (with ``wrong``, two bowls' top blocks swapped)."""
    placed = {p.name: p for p in instance.placements}
    bowl_names = [n for n, p in placed.items() if p.kind == "bowl"]
    goal: Goal = {}
    contents = {b: [n for n in by_size(instance)[::-1] if placed[n].colour == placed[b].colour] for b in bowl_names}
    if wrong:
        first, second = contents[bowl_names[0]], contents[bowl_names[1]]
        first[-1], second[-1] = second[-1], first[-1]
    for i, bowl in enumerate(bowl_names):
        x, y = 0.33 + 0.16 * (i % 2), -0.18 + 0.18 * i
        goal[bowl] = (x, y, placed[bowl].position[2])
        bottom = BOWL_FLOOR + 0.001
        for name in contents[bowl]:
            half = spec_of(name).half_height
            goal[name] = (x, y, bottom + half)
            bottom += 2 * half
    return goal


# family -> (goals that must pass, goals that must fail), each a function of the instance
Scenes = tuple[list[Callable[[TaskInstance], Goal]], list[Callable[[TaskInstance], Goal]]]
SCENES: dict[str, Scenes] = {
    "BuildPyramid": (
        [pyramid, lambda i: pyramid(i, spacing=0.055)],
        [
            lambda i: shifted(pyramid(i), i.params["left"], dy=0.03),  # a base block 3 cm off: the top tips
            lambda i: {
                **pyramid(i),
                i.params["left"]: pyramid(i)[i.params["right"]],
                i.params["right"]: pyramid(i)[i.params["left"]],
            },  # left and right swapped
            lambda i: {k: v for k, v in pyramid(i).items() if k != i.params["top"]},  # no top block
        ],
    ),
    "MakeSquare": (
        [square, lambda i: shifted(square(i), blocks_of(i)[0], dx=0.012)],
        [
            lambda i: shifted(square(i), blocks_of(i)[0], dx=0.03),
            lambda i: shifted(square(i), blocks_of(i)[2], dy=-0.03),
        ],
    ),
    "RowInColourOrder": (
        [lambda i: row(i.params["order"]), lambda i: row(i.params["order"], spacing=0.06)],
        [
            lambda i: row([*i.params["order"][1::-1], *i.params["order"][2:]]),  # the first two swapped
            lambda i: shifted(row(i.params["order"]), i.params["order"][1], dx=0.03),  # one 3 cm off the line
            lambda i: row(i.params["order"][::-1]),
        ],
    ),
    "MakeLetter": (
        [letter, lambda i: shifted(letter(i), blocks_of(i)[1], dy=0.012)],
        [
            lambda i: shifted(letter(i), blocks_of(i)[-1], dx=0.03),
            lambda i: letter(i, upside_down=True),
        ],
    ),
    "SortBySize": (
        [lambda i: row(sorted_row(i))],
        [
            lambda i: row(sorted_row(i)[::-1]),
            lambda i: shifted(row(sorted_row(i)), sorted_row(i)[0], dx=0.03),
        ],
    ),
    "StackBySize": (
        [lambda i: tower(by_size(i)[::-1])],
        [
            lambda i: tower(by_size(i)),  # smallest at the bottom: the tower may stand, the order is wrong
            lambda i: shifted(tower(by_size(i)[::-1]), by_size(i)[0], dy=0.03),  # the top block 3 cm off
        ],
    ),
    "ReverseTower": (
        [lambda i: tower(i.params["order"])],
        [
            lambda i: tower(i.params["order"][::-1]),  # the tower as it started
            lambda i: tower([*i.params["order"][1::-1], *i.params["order"][2:]]),
        ],
    ),
    "SortManyIntoBowls": ([bowls], [lambda i: bowls(i, wrong=True)]),
}


def test_every_family_has_hand_built_scenes() -> None:
    assert sorted(SCENES) == sorted(NAMES)
    assert len(NAMES) >= 8


@pytest.mark.parametrize("name", NAMES)
def test_check_passes_the_goal_and_fails_near_misses(world: TabletopWorld, name: str) -> None:
    must_pass, must_fail = SCENES[name]
    for seed, colours in ((0, "seen"), (1, "unseen")):
        instance = get_task(name).sample(seed, colours)
        world.build(instance.placements)
        initial = evaluate(instance, world.object_states())
        assert not initial.success, f"{name} seed {seed} starts solved: {initial.detail}"
        for index, goal in enumerate(must_pass):
            arrange(world, goal(instance))
            verdict = evaluate(instance, world.object_states())
            assert verdict.success, f"{name} seed {seed} goal {index}: {verdict.detail}"
        for index, goal in enumerate(must_fail):
            arrange(world, goal(instance))
            verdict = evaluate(instance, world.object_states())
            assert not verdict.success, f"{name} seed {seed} near miss {index} accepted: {verdict.detail}"
            assert verdict.detail


@pytest.mark.parametrize("name", NAMES)
def test_scenes_are_seeded_and_need_many_moves(name: str) -> None:
    task = get_task(name)
    for seed in range(10):
        for colours in ("seen", "unseen"):
            instance = task.sample(seed, colours)
            assert task.sample(seed, colours) == instance
            assert len(blocks_of(instance)) >= 3
            assert {p.colour for p in instance.placements} <= set(
                {
                    "seen": ("red", "green", "blue", "yellow", "orange"),
                    "unseen": ("purple", "pink", "cyan", "brown", "gray"),
                }[colours]
            )
    assert task.sample(0) != task.sample(1)


def test_instructions_state_the_numbers_the_check_needs() -> None:
    pyramid_ = get_task("BuildPyramid").sample(3)
    assert "4 to 6 cm apart" in pyramid_.instruction and pyramid_.params["location"] in pyramid_.instruction
    square_ = get_task("MakeSquare").sample(3)
    side_cm = round(square_.params["side"] * 100)
    x, y = square_.params["centre"]
    assert f"sides of {side_cm} cm" in square_.instruction and f"x = {x:.2f} m, y = {y:.2f} m" in square_.instruction
    row_ = get_task("RowInColourOrder").sample(3)
    assert ", ".join(f"the {n}" for n in row_.params["order"]) in row_.instruction
    assert "5 to 12 cm apart" in row_.instruction
    letter_ = get_task("MakeLetter").sample(3)
    assert "8 cm apart" in letter_.instruction and "x = 0.45 m, y = 0.00 m" in letter_.instruction
    reverse = get_task("ReverseTower").sample(3)
    assert ", ".join(f"the {n}" for n in reverse.params["order"]) in reverse.instruction
    assert "small blocks are 3 cm" in get_task("SortBySize").rules


def test_rainbow_order_for_seen_colours() -> None:
    for seed in range(5):
        instance = get_task("RowInColourOrder").sample(seed, "seen")
        rainbow = ["red", "orange", "yellow", "green", "blue"]
        colours = [n.split(" ")[0] for n in instance.params["order"]]
        assert colours == sorted(colours, key=rainbow.index) and "rainbow order" in instance.instruction


def test_long_horizon_scenes_start_stacked_and_crowded() -> None:
    reverse = get_task("ReverseTower").sample(0)
    tower_blocks = [p for p in reverse.placements if p.kind == "block"]
    assert [p.name for p in sorted(tower_blocks, key=lambda p: p.position[2])] == reverse.params["order"][::-1]
    many = [get_task("SortManyIntoBowls").sample(seed, "unseen") for seed in range(5)]
    assert all(8 <= len(blocks_of(i)) <= 9 for i in many)
    assert any(p.position[2] > 0.04 for i in many for p in i.placements if p.kind == "block")  # some start stacked


def test_sized_blocks_are_named_measured_and_carried_by_their_size(world: TabletopWorld) -> None:
    world.build(
        [
            ObjectPlacement("block", "red", (0.45, 0.1, 0.025), size="large"),
            ObjectPlacement("block", "red", (0.45, -0.1, 0.015), size="small"),
            ObjectPlacement("block", "blue", (0.35, 0.0, 0.02)),
        ]
    )
    assert world.object_names == ["large red block", "small red block", "blue block"]
    widths = {n: float(world.sim.aabb(n)[1][2] - world.sim.aabb(n)[0][2]) for n in world.object_names}
    assert widths == pytest.approx({"large red block": 0.05, "small red block": 0.03, "blue block": 0.04}, abs=1e-3)
    state = world.object_state("large red block")
    assert (state.size, state.colour, state.spec.size[2]) == ("large", "red", pytest.approx(0.05))
    assert ObjectState.from_dict(ObjectStateData(**state.to_dict()).model_dump()) == state  # across the worker boundary
    saved = world.get_state()
    world.build([])
    world.set_state(saved)
    assert world.object_names == ["large red block", "small red block", "blue block"]
    with pytest.raises(ValueError, match="sizes are: small, medium, large"):
        ObjectPlacement("block", "red", (0.45, 0.0, 0.02), size="huge")
    with pytest.raises(ValueError, match="a bowl has no size"):
        ObjectPlacement("bowl", "red", (0.45, 0.0, 0.02), size="large")


def test_a_sized_block_stands_and_stacks_by_its_own_height(world: TabletopWorld) -> None:
    names = ["large red block", "small blue block"]
    world.build(
        [
            ObjectPlacement("block", "red", (0.45, 0.0, 0.025), size="large"),
            ObjectPlacement("block", "blue", (0.45, 0.0, 0.066), size="small"),
        ]
    )
    world.step(240)
    states = world.object_states()
    assert evaluate(get_task("StackBySize").sample(0), states).success  # only these two blocks in this scene
    assert np.isclose(states[names[1]].position[2], 0.065, atol=0.003)
