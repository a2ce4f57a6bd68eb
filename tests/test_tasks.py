"""Every task's success check against hand-placed scenes: teleport objects, settle, check the verdict."""

from __future__ import annotations

import numpy as np
import pytest
from scenes import Goal, arrange

from codeact_robot.envs.objects import BLOCK_SIZE, KINDS, split_name
from codeact_robot.envs.tasks import CAP_FAMILIES, TASKS, TaskInstance, evaluate, get_task, sample_instance
from codeact_robot.envs.tasks.placing import AMOUNTS
from codeact_robot.envs.workspace import CORNERS, DIRECTIONS, TABLE_PLACES
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import SceneSamplingError, UnknownNameError


def blocks_of(instance: TaskInstance) -> list[str]:
    return [p.name for p in instance.placements if p.kind == "block"]


def stack_at(names: list[str], xy: tuple[float, float]) -> Goal:
    return {name: (xy[0], xy[1], BLOCK_SIZE / 2 + BLOCK_SIZE * i) for i, name in enumerate(names)}


def in_bowl(instance: TaskInstance, pairs: list[tuple[str, str]]) -> Goal:
    bowls = {p.name: p.position for p in instance.placements}
    goal: Goal = {}
    for index, (block, bowl) in enumerate(pairs):
        x, y, _ = bowls[bowl]
        goal[bowl] = bowls[bowl]
        offset = 0.025 * np.array([np.cos(index * 2.1), np.sin(index * 2.1)]) if index else np.zeros(2)
        goal[block] = (x + offset[0], y + offset[1], 0.008 + BLOCK_SIZE / 2 + 0.002)
    return goal


def at_place(name: str, place: str) -> Goal:
    x, y = TABLE_PLACES[place]
    return {name: (x, y, BLOCK_SIZE / 2)}


def solved(instance: TaskInstance) -> Goal:
    """Object positions that satisfy the instance's goal (objects not listed are parked)."""
    p, blocks = instance.params, blocks_of(instance)
    bowls = [q.name for q in instance.placements if q.kind == "bowl"]
    task = instance.task
    if task == "PickPlace":
        if p["target"].endswith("bowl"):
            return in_bowl(instance, [(p["object"], p["target"])])
        return stack_at([p["target"], p["object"]], (0.45, 0.0))
    if task == "StackBlocks":
        return stack_at(blocks, (0.45, 0.05))
    if task == "StackOnPlace":
        return stack_at(blocks, TABLE_PLACES[p["place"]])
    if task == "BlocksOnPlace":
        x, y = TABLE_PLACES[p["place"]]
        return {
            b: (x + 0.05 * (i % 2) * np.sign(0.45 - x), y + 0.05 * (i // 2) * np.sign(0.0 - y or 1), 0.02)
            for i, b in enumerate(blocks)
        }
    if task == "BlocksInBowl":  # a small tower standing on the bowl's floor
        x, y, _ = instance_position(instance, p["bowl"])
        return {p["bowl"]: (x, y, KINDS["bowl"].half_height)} | {
            b: (x, y, 0.008 + BLOCK_SIZE / 2 + BLOCK_SIZE * i) for i, b in enumerate(blocks)
        }
    if task in ("MatchingBowls", "SortHiddenBlocks"):
        return in_bowl(instance, [(b, b.replace("block", "bowl")) for b in blocks])
    if task == "MismatchedBowls":
        return in_bowl(
            instance, [(b, bowls[(bowls.index(b.replace("block", "bowl")) + 1) % len(bowls)]) for b in blocks]
        )
    if task in ("PickByDirectionFromBowl", "PickByDistanceToBowl", "PickNthFromDirection"):
        return at_place(p["object"], p["place"])
    if task == "BlocksInCorners":
        return {b: (*TABLE_PLACES[c], 0.02) for b, c in zip(blocks, CORNERS)}
    if task == "PlaceRelativeToBowl":
        bowl = instance_position(instance, p["bowl"])
        offset = AMOUNTS[p["amount"]][0] * np.array(DIRECTIONS[p["direction"]])
        return {p["bowl"]: bowl, p["object"]: (bowl[0] + offset[0], bowl[1] + offset[1], 0.02)}
    if task == "BlocksInLine":
        axis = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (0.7071, 0.7071)}[p["orientation"]]
        return {
            b: (0.45 + axis[0] * 0.08 * (i - 1.5), 0.0 + axis[1] * 0.08 * (i - 1.5), 0.02) for i, b in enumerate(blocks)
        }
    if task == "FindHiddenBlock":
        return in_bowl(instance, [(p["object"], p["bowl"])])
    raise AssertionError(f"no goal layout for {task}")


def instance_position(instance: TaskInstance, name: str) -> tuple[float, float, float]:
    return next(p.position for p in instance.placements if p.name == name)


def near_miss(instance: TaskInstance, goal: Goal) -> Goal:
    """The goal with one moved block pushed 12 cm sideways: just outside every tolerance."""
    moved = sorted(n for n in goal if split_name(n)[1] == "block")[-1]
    x, y, _ = goal[moved]
    away = (x, y - 0.12 if y > 0 else y + 0.12, BLOCK_SIZE / 2)
    return {**goal, moved: away}


@pytest.mark.parametrize("name", [task.name for task in CAP_FAMILIES])  # the others: test_tasks_arrangements.py
def test_check_accepts_a_solved_scene_and_rejects_near_misses(world: TabletopWorld, name: str) -> None:
    for seed in (0, 1):
        instance = get_task(name).sample(seed)
        world.build(instance.placements)
        initial = evaluate(instance, world.object_states())
        assert initial is not None and not initial.success, f"{name} seed {seed} starts solved: {initial}"
        goal = solved(instance)
        arrange(world, goal)
        verdict = evaluate(instance, world.object_states())
        assert verdict.success, f"{name} seed {seed}: {verdict.detail}"
        arrange(world, near_miss(instance, goal))
        missed = evaluate(instance, world.object_states())
        assert not missed.success, f"{name} seed {seed} near miss accepted: {missed.detail}"
        assert missed.detail  # the verdict says why


def test_every_family_of_code_as_policies_is_present() -> None:
    splits = {t.split for t in TASKS.values()}
    assert splits == {"seen", "unseen", "feedback"}
    assert sum(t.split == "seen" for t in TASKS.values()) >= 8
    assert sum(t.split == "unseen" for t in TASKS.values()) >= 5
    assert sum(t.split == "feedback" for t in TASKS.values()) >= 2


@pytest.mark.parametrize("name", list(TASKS))
def test_scenes_are_seeded_and_use_the_requested_colours(name: str) -> None:
    task = get_task(name)
    for seed in range(10):
        seen, unseen = task.sample(seed, "seen"), task.sample(seed, "unseen")
        assert task.sample(seed, "seen") == seen
        assert {p.colour for p in seen.placements} <= {"red", "green", "blue", "yellow", "orange"}
        assert {p.colour for p in unseen.placements} <= {"purple", "pink", "cyan", "brown", "gray"}
        assert seen.instruction and seen.max_turns > 0


def test_hidden_blocks_start_under_cups() -> None:
    instance = get_task("FindHiddenBlock").sample(0)
    cups = [p for p in instance.placements if p.kind == "cup"]
    target = next(p for p in instance.placements if p.name == instance.params["object"])
    assert any(np.hypot(c.position[0] - target.position[0], c.position[1] - target.position[1]) < 1e-9 for c in cups)


def test_bad_task_inputs_name_what_is_valid() -> None:
    with pytest.raises(UnknownNameError, match="tasks are: PickPlace"):
        get_task("StackTheBlocks")
    assert get_task("CodeActRobot/StackBlocks-v0").name == "StackBlocks"
    with pytest.raises(UnknownNameError, match="colour splits are: seen, unseen, all"):
        get_task("StackBlocks").sample(0, "rainbow")
    with pytest.raises(UnknownNameError, match="colours are: red"):
        sample_instance("Tabletop", 0, {"blocks": ["red", "vermilion"]})
    crowded = {"blocks": ["red", "green", "blue", "yellow"], "bowls": ["red", "green", "blue", "yellow", "orange"]}
    with pytest.raises(SceneSamplingError, match="does not fit on the table"):
        sample_instance("Tabletop", 0, crowded)
    with pytest.raises(ValueError, match="options are: blocks, bowls"):
        sample_instance("Tabletop", 0, {"blocks": ["red"], "boxes": ["blue"]})
