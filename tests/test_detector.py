"""The RGB-D detector on rendered scenes: every kind found, named as the scene names it, and located;
and the families that need it solved in vision mode through the real agent loop, worker and sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.objects import KINDS, kind_spec
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UnknownNameError
from codeact_robot.expert import ExpertBackend
from codeact_robot.skills import bind
from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.detector import detect

TOLERANCE = 0.01  # metres, every coordinate of a reported centre
LARGE_KINDS = [
    ObjectPlacement("box", "yellow", (0.33, 0.19, KINDS["box"].half_height), yaw=0.3),
    ObjectPlacement("mat", "orange", (0.40, 0.0, KINDS["mat"].half_height)),
    ObjectPlacement("crate", "red", (0.57, 0.15, KINDS["crate"].half_height), yaw=-0.2),
    ObjectPlacement("drawer", "blue", (0.57, -0.17, KINDS["drawer"].half_height), opening=0.06),
    ObjectPlacement("block", "green", (0.30, -0.22, KINDS["block"].half_height)),
]

SIZED_BLOCKS = [
    ObjectPlacement("block", "red", (0.35, 0.15, kind_spec("block", "small").half_height), yaw=0.3, size="small"),
    ObjectPlacement("block", "green", (0.50, 0.15, kind_spec("block", "medium").half_height), size="medium"),
    ObjectPlacement("block", "blue", (0.35, -0.15, kind_spec("block", "large").half_height), yaw=-0.5, size="large"),
    # a tower: the large block's top face is hidden under the small one, so its size comes from its sides
    ObjectPlacement("block", "yellow", (0.52, -0.12, 0.025), size="large"),
    ObjectPlacement("block", "purple", (0.52, -0.12, 0.05 + 0.015), size="small"),
]


def perceived(world: TabletopWorld, scene: list[ObjectPlacement]) -> dict[str, np.ndarray]:
    world.build(scene, settle_steps=120)
    return {n: e.position for n, e in SkillContext(world, "vision").perception.estimates().items()}


def test_boxes_mats_crates_and_drawers_are_told_apart_by_their_geometry(world: TabletopWorld) -> None:
    seen = perceived(world, LARGE_KINDS)
    drawer = "blue drawer"
    assert sorted(seen) == ["blue drawer", "blue drawer handle", "green block", "orange mat", "red crate", "yellow box"]
    for name in world.object_names:
        assert np.abs(seen[name] - world.object_state(name).position).max() < TOLERANCE, name
    assert np.abs(seen[f"{drawer} handle"] - world.handle_position(drawer)).max() < TOLERANCE


@pytest.mark.parametrize("opening", [0.0, 0.12])
def test_a_drawer_knob_follows_the_drawer_out(world: TabletopWorld, opening: float) -> None:
    drawer = ObjectPlacement("drawer", "yellow", (0.55, 0.0, KINDS["drawer"].half_height), opening=opening)
    seen = perceived(world, [drawer])
    assert sorted(seen) == ["yellow drawer", "yellow drawer handle"]
    assert np.abs(seen["yellow drawer handle"] - world.handle_position("yellow drawer")).max() < TOLERANCE


def test_a_sized_scene_names_each_block_by_the_width_of_its_face_or_sides(world: TabletopWorld) -> None:
    seen = perceived(world, SIZED_BLOCKS)
    assert sorted(seen) == sorted(p.name for p in SIZED_BLOCKS)
    assert "large yellow block" in seen and "small purple block" in seen
    for name in world.object_names:
        assert np.abs(seen[name] - world.object_state(name).position).max() < TOLERANCE, name


def test_an_empty_table_shows_no_object_in_either_camera(world: TabletopWorld) -> None:
    world.build([])
    assert [d.estimate.name for camera in ("top", "front") for d in detect(world.render(camera), camera)] == []
    assert [d.estimate.name for camera in ("top", "front") for d in detect(world.render(camera), camera, True)] == []


def test_a_name_only_perception_knows_fails_without_naming_simulator_bodies(
    world: TabletopWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A detector told the wrong naming convention reports "blue block" for the body "medium blue block".
    monkeypatch.setattr(TabletopWorld, "names_sizes", property(lambda self: False))
    world.build([SIZED_BLOCKS[1], ObjectPlacement("block", "blue", (0.45, -0.1, 0.02), size="medium")])
    skills = bind(SkillContext(world, "vision"))
    assert skills["get_object_names"]() == ["blue block", "green block"]
    expected = (
        "the blue block is seen but no object by that name can be touched (perception may have misread it); "
        "objects are: blue block, green block"
    )
    for call, args in (("pick", ("blue block",)), ("push", ("blue block", "left", 0.05))):  # before any motion
        with pytest.raises(UnknownNameError) as error:
            skills[call](*args)
        assert str(error.value) == expected
    assert np.abs(np.subtract(world.object_state("medium blue block").position, (0.45, -0.1, 0.02))).max() < 0.002


# A sample, one held-out episode each (sized blocks, a box on a mat, a drawer); the detector tests above
# cover every kind, and benchmarks/tiers.py measures each family's rate.
EPISODE_SAMPLE = [("StackBySize", 300), ("PushBoxOntoMat", 303), ("PutInDrawer", 304)]


@pytest.mark.parametrize(("task", "seed"), EPISODE_SAMPLE)
def test_the_expert_solves_the_families_of_new_kinds_in_vision_mode(task: str, seed: int) -> None:
    env = CodeActEnv(task=task, perception="vision", renderer="tiny")
    try:
        record = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
    finally:
        env.close()
    assert record.success, f"{task} seed {seed}: {record.outcome}; {record.check}"
