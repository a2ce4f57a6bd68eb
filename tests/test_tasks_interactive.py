"""The interactive task families: success checks on hand-built scenes, the drawer's joint,
scene events, perturbations (deterministic, the same scene underneath) and one expert
episode per family."""

from __future__ import annotations

import math
import string
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.bullet import pybullet
from codeact_robot.envs.objects import BLOCK_SIZE, COLOUR_SPLITS, DRAWER_TRAVEL, KINDS, split_name
from codeact_robot.envs.perturbation import Perturbation
from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks import INTERACTIVE_FAMILIES, TASKS, get_task
from codeact_robot.envs.tasks.sampling import with_retries
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UsageError
from codeact_robot.expert import ExpertBackend
from codeact_robot.worker.client import WorkerClient
from codeact_robot.worker.config import EnvConfig

INTERACTIVE = [task.name for task in INTERACTIVE_FAMILIES]
EVERYTHING = Perturbation(paraphrase=True, distractors=3, unseen_colours=True, layout_shift=0.05)
ROUGH = {"grasp_slip": 0.2, "state_noise": 0.002, "variation": 0.2, "disturbance": 0.5}
PERTURBED = EnvConfig(renderer="tiny", perturbation=EVERYTHING.__dict__, physics=ROUGH)
"""Every perturbation at once, imperfect physics included."""


def state(
    name: str,
    x: float,
    y: float,
    z: float | None = None,
    *,
    opening: float | None = None,
    speed: float = 0.0,
    tilt: float = 0.0,
) -> ObjectState:
    """An object at rest (unless ``speed``) at (x, y), on the table unless ``z`` is given."""
    colour, kind = split_name(name)
    z = KINDS[kind].half_height if z is None else z
    orientation = (math.sin(tilt / 2), 0.0, 0.0, math.cos(tilt / 2))
    return ObjectState(name, kind, colour, (x, y, z), orientation, (speed, 0.0, 0.0), opening=opening)


def scene(*states: ObjectState) -> dict[str, ObjectState]:
    return {s.name: s for s in states}


def verdict(task: str, objects: dict[str, ObjectState], **params: Any) -> bool:
    result = get_task(task).check(objects, params)
    assert result.detail  # a verdict always says why
    return result.success


IN_BOWL_Z = 0.008 + BLOCK_SIZE / 2 + 0.002


def test_push_box_onto_mat_check() -> None:
    params = {"box": "red box", "mat": "blue mat"}
    mat = state("blue mat", 0.45, 0.0)
    assert verdict("PushBoxOntoMat", scene(state("red box", 0.47, -0.03), mat), **params)
    assert verdict("PushBoxOntoMat", scene(state("red box", 0.505, 0.055), mat), **params)  # 5.5 cm off: inside 6
    assert not verdict("PushBoxOntoMat", scene(state("red box", 0.52, 0.0), mat), **params)  # 7 cm off along x
    assert not verdict("PushBoxOntoMat", scene(state("red box", 0.45, 0.0, speed=0.2), mat), **params)  # still sliding
    assert not verdict("PushBoxOntoMat", scene(state("red box", 0.45, 0.0, tilt=0.8), mat), **params)  # tipped over


def test_put_in_drawer_check() -> None:
    params = {"drawer": "red drawer", "object": "blue block"}
    closed = state("red drawer", 0.56, 0.05, opening=0.0)
    inside = state("blue block", 0.54, 0.06, 0.034)
    assert verdict("PutInDrawer", scene(closed, inside), **params)
    open_ = state("red drawer", 0.56, 0.05, opening=0.05)
    assert not verdict("PutInDrawer", scene(open_, inside), **params)  # left open
    assert not verdict("PutInDrawer", scene(closed, state("blue block", 0.45, 0.05)), **params)  # in front of it
    assert not verdict("PutInDrawer", scene(closed, state("blue block", 0.56, 0.05, 0.13)), **params)  # on top of it


def test_more_in_bowl_check() -> None:
    params = {"bowl": "red bowl", "other": "blue bowl", "more": 2}
    bowls = (state("red bowl", 0.4, 0.15), state("blue bowl", 0.4, -0.15))
    three_one = (
        state("green block", 0.4, 0.15, IN_BOWL_Z),
        state("yellow block", 0.42, 0.17, IN_BOWL_Z),
        state("orange block", 0.38, 0.13, IN_BOWL_Z),
        state("pink block", 0.4, -0.15, IN_BOWL_Z),
    )
    assert verdict("MoreInBowl", scene(*bowls, *three_one), **params)
    swapped = {"bowl": "blue bowl", "other": "red bowl", "more": 2}
    assert not verdict("MoreInBowl", scene(*bowls, *three_one), **swapped)  # two more in the other bowl
    left_out = (*three_one[:3], state("pink block", 0.6, 0.0))
    assert not verdict("MoreInBowl", scene(*bowls, *left_out), **params)  # 3 - 0 = 3, and a block left out


def test_tower_of_count_check() -> None:
    bowls = (state("red bowl", 0.35, 0.2), state("blue bowl", 0.35, -0.2))  # two bowls: a tower of three
    tower = [state(c + " block", 0.5, 0.0, BLOCK_SIZE / 2 + BLOCK_SIZE * i) for i, c in enumerate(("green", "yellow"))]
    third = state("orange block", 0.5, 0.005, BLOCK_SIZE / 2 + 2 * BLOCK_SIZE)
    spare = state("pink block", 0.6, 0.2)
    assert verdict("TowerOfCount", scene(*bowls, *tower, third, spare), height=3)
    assert not verdict("TowerOfCount", scene(*bowls, *tower, state("orange block", 0.6, -0.2), spare), height=3)
    fourth = state("pink block", 0.5, 0.0, BLOCK_SIZE / 2 + 3 * BLOCK_SIZE)
    assert not verdict("TowerOfCount", scene(*bowls, *tower, third, fourth), height=3)  # one too many


def test_closest_on_side_check() -> None:
    params = {"bowl": "red bowl", "anchor": "green block", "direction": "left", "object": "blue block"}
    base = (state("red bowl", 0.45, 0.0), state("green block", 0.35, 0.05))
    decoy_out = state("yellow block", 0.5, -0.1)  # closer to the bowl, but right of the anchor
    assert verdict("ClosestOnSide", scene(*base, state("blue block", 0.45, 0.0, IN_BOWL_Z), decoy_out), **params)
    decoy_in = state("yellow block", 0.45, 0.0, IN_BOWL_Z)
    assert not verdict("ClosestOnSide", scene(*base, state("blue block", 0.45, 0.15), decoy_in), **params)
    both = (state("blue block", 0.45, 0.0, IN_BOWL_Z), state("yellow block", 0.47, 0.02, IN_BOWL_Z))
    assert not verdict("ClosestOnSide", scene(*base, *both), **params)  # the distractor went in too


def test_find_under_crate_and_put_back_in_bowl_checks() -> None:
    bowl = state("red bowl", 0.45, 0.1)
    found = state("blue block", 0.45, 0.1, IN_BOWL_Z)
    crate = state("green crate", 0.35, -0.15)
    assert verdict("FindUnderCrate", scene(bowl, found, crate), object="blue block", bowl="red bowl")
    assert not verdict(
        "FindUnderCrate", scene(bowl, state("blue block", 0.35, -0.15), crate), object="blue block", bowl="red bowl"
    )
    others = state("yellow block", 0.46, 0.12, IN_BOWL_Z)
    assert verdict("PutBackInBowl", scene(bowl, found, others), bowl="red bowl")
    assert not verdict("PutBackInBowl", scene(bowl, found, state("yellow block", 0.3, -0.2)), bowl="red bowl")


def test_every_interactive_scene_starts_unsolved_and_seeded() -> None:
    assert len(INTERACTIVE) >= 7
    for name in INTERACTIVE:
        task = get_task(name)
        for seed in range(5):
            instance = task.sample(seed, "unseen")
            assert task.sample(seed, "unseen") == instance
            objects = {
                p.name: state(p.name, *p.position, opening=0.0 if KINDS[p.kind].fixed else None)
                for p in instance.placements
            }
            assert not task.check(objects, instance.params), f"{name} seed {seed} starts solved"
            assert {p.colour for p in instance.placements} <= set(COLOUR_SPLITS["unseen"])


def test_drawer_slides_on_its_joint_and_its_opening_is_state(world: TabletopWorld) -> None:
    world.build([ObjectPlacement("drawer", "red", (0.56, 0.0, KINDS["drawer"].half_height))], settle_steps=60)
    assert world.opening("red drawer") == pytest.approx(0.0, abs=1e-4)
    closed_knob = np.array(world.handle_position("red drawer"))
    body = world.sim.body_id("red drawer")
    world.sim.client.resetJointState(body, 0, 0.08)
    world.step(120)  # the slide's friction holds it where it was put
    assert world.opening("red drawer") == pytest.approx(0.08, abs=2e-3)
    assert world.handle_position("red drawer")[0] == pytest.approx(closed_knob[0] - 0.08, abs=2e-3)
    for force, end in ((-20.0, DRAWER_TRAVEL), (20.0, 0.0)):  # pulled hard, it stops at its limits
        for _ in range(480):
            position = world.handle_position("red drawer")
            world.sim.client.applyExternalForce(body, 0, (force, 0.0, 0.0), position, pybullet.WORLD_FRAME)
            world.step()
        assert world.opening("red drawer") == pytest.approx(end, abs=2e-3)
    world.sim.client.resetJointState(body, 0, 0.05)
    exported = world.get_state(exact=False)
    assert exported["objects"][0]["opening"] == pytest.approx(0.05, abs=1e-6)
    world.set_state(exported)  # a rebuild from plain data keeps the drawer open as it was
    assert world.opening("red drawer") == pytest.approx(0.05, abs=1e-6)
    assert world.object_state("red drawer").position[2] == pytest.approx(KINDS["drawer"].half_height, abs=1e-6)


def test_paraphrases_ask_for_the_same_goal_and_hold_some_out() -> None:
    for name, task in TASKS.items():
        assert len(task.paraphrases) >= 3 and len(task.held_out_paraphrases) >= 2, f"{name} has too few paraphrases"
        assert not set(task.paraphrases) & set(task.held_out_paraphrases), f"{name} asks seen and unseen alike"
        used = _fields_used(task.template)
        for template in (*task.paraphrases, *task.held_out_paraphrases):
            assert _fields_used(template) == used, f"{name}: {template!r} does not use the template's fields {used}"
        for seed, colours in ((3, "seen"), (4, "unseen"), (5, "all")):
            fields = _fields(task, seed, colours)
            plain = task.sample(seed, colours)
            assert plain.instruction == task.template.format(**fields)  # the fields are the template's own
            for template in (*task.paraphrases, *task.held_out_paraphrases):
                template.format(**fields)
            templates = task.paraphrases if colours == "seen" else task.held_out_paraphrases
            asked = task.sample(seed, colours, Perturbation(True, 0, False, 0.0))
            assert asked.placements == plain.placements and asked.params == plain.params
            assert asked.instruction in {t.format(**fields) for t in templates}, f"{name} asked {asked.instruction!r}"


def _fields_used(template: str) -> set[str]:
    """The names of the fields a template fills in."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def _fields(task: Any, seed: int, colours: str) -> dict[str, str]:
    """The template fields the family's sampler draws for ``seed`` (as ``Task.sample`` draws them)."""
    rng = np.random.default_rng([seed, zlib.crc32(task.name.encode())])
    return with_retries(lambda: task.sample_scene(rng, COLOUR_SPLITS[colours])).fields


@pytest.mark.parametrize("name", list(TASKS))
def test_perturbations_keep_the_scene_underneath_and_are_deterministic(name: str) -> None:
    task = get_task(name)
    for seed in range(3):
        plain = task.sample(seed, "seen")
        perturbed = task.sample(seed, "seen", EVERYTHING)
        assert task.sample(seed, "seen", EVERYTHING) == perturbed  # same seed, same perturbed episode
        recoloured = task.sample(seed, "seen", Perturbation(False, 0, True, 0.0))
        assert [p.position for p in recoloured.placements] == [p.position for p in plain.placements]
        assert {p.colour for p in recoloured.placements} <= set(COLOUR_SPLITS["unseen"])
        distracted = task.sample(seed, "seen", Perturbation(False, 3, False, 0.0))
        assert distracted.placements[: len(plain.placements)] == plain.placements
        extra = distracted.placements[len(plain.placements) :]
        assert {p.kind for p in extra} <= set(task.distractor_kinds)
        shifted = task.sample(seed, "seen", Perturbation(False, 0, False, 0.04)).placements
        offsets = {
            (round(s.position[0] - p.position[0], 9), round(s.position[1] - p.position[1], 9))
            for s, p in zip(shifted, plain.placements)
        }
        assert len(offsets) == 1  # the whole layout moved together
        ((dx, dy),) = offsets
        assert math.hypot(dx, dy) in (pytest.approx(0.04), 0.0)


def test_perturbation_settings_are_checked() -> None:
    config = EnvConfig().with_overrides({"perturbation": {"distractors": 2, "paraphrase": True}})
    assert config.perturbation.distractors == 2 and config.perturbation.paraphrase
    assert not config.perturbation.unseen_colours and config.perturbation.layout_shift == 0.0
    with pytest.raises(UsageError, match="layout_shift"):
        EnvConfig().with_overrides({"perturbation": {"layout_shift": 0.5}})
    with pytest.raises(UsageError, match="perturbation"):
        EnvConfig().with_overrides({"perturbation": {"typo": 1}})


@pytest.fixture(scope="module")
def perturbed_worker() -> Iterator[WorkerClient]:
    """One worker for the replays under every perturbation at once (the families take turns in it)."""
    worker = WorkerClient(PERTURBED)
    yield worker
    worker.close()


REPLAYED = ("PushBoxOntoMat", "PutBackInBowl")  # their expert episodes are those of the replay test


@pytest.mark.parametrize("name", REPLAYED)
def test_same_seed_replays_to_the_same_final_state_under_every_perturbation(
    name: str, perturbed_worker: WorkerClient
) -> None:
    env = CodeActEnv(name, PERTURBED, worker=perturbed_worker)
    instance, plain = env.instance_for(5), get_task(name).sample(5, PERTURBED.colours)
    assert instance.instruction in {t.format(**_fields(env.task, 5, "unseen")) for t in env.task.held_out_paraphrases}
    assert len(instance.placements) > len(plain.placements)  # distractors
    assert {p.colour for p in instance.placements} <= set(COLOUR_SPLITS["unseen"])
    records = [run_episode(env, ExpertBackend(env.instance_for(5)), seed=5) for _ in range(2)]
    assert [t.observation for t in records[0].turns] == [t.observation for t in records[1].turns]
    assert records[0].final_objects == records[1].final_objects  # the same slips, noise, disturbances, events
    assert records[0].success, records[0].check
    if name == "PutBackInBowl":  # the scene changed under the program, and the observation said so
        assert "was taken out of the" in records[0].turns[0].observation


@pytest.mark.parametrize("name", [n for n in INTERACTIVE if n not in REPLAYED])
def test_the_expert_solves_one_episode_of_each_family(name: str) -> None:
    env = CodeActEnv(name, renderer="tiny", colours="unseen")
    try:
        record = run_episode(env, ExpertBackend(env.instance_for(7)), seed=7)
    finally:
        env.close()
    assert record.success, f"{name}: {record.check}"
