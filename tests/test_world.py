"""The tabletop world: wrapper, robot, cameras, plain-data state, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codeact_robot.envs.objects import COLOURS, KINDS, SEEN_COLOURS, UNSEEN_COLOURS
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.tasks import get_task
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UnknownNameError, UsageError

SCENE = [
    ObjectPlacement("block", "red", (0.45, 0.10, 0.02), yaw=0.3),
    ObjectPlacement("bowl", "blue", (0.50, -0.15, KINDS["bowl"].half_height)),
    ObjectPlacement("cup", "green", (0.35, 0.20, KINDS["cup"].half_height)),
]


def readable(state: dict) -> dict:
    """A world state without the engine's own serialisation (which embeds addresses)."""
    return {key: value for key, value in state.items() if key != "bullet"}


def test_palette_has_ten_colours_split_into_seen_and_unseen() -> None:
    assert len(COLOURS) >= 10
    assert set(SEEN_COLOURS).isdisjoint(UNSEEN_COLOURS)
    assert set(SEEN_COLOURS) | set(UNSEEN_COLOURS) == set(COLOURS)


def test_two_worlds_in_one_process_are_independent(world: TabletopWorld) -> None:
    other = TabletopWorld(renderer="tiny")
    try:
        world.build(SCENE)
        other.build([ObjectPlacement("block", "yellow", (0.5, 0.0, 0.02))])
        assert world.object_names == ["red block", "blue bowl", "green cup"]
        assert other.object_names == ["yellow block"]
        world.sim.set_pose("red block", (0.3, 0.0, 0.3), (0, 0, 0, 1))
        world.step(100)
        assert world.object_state("red block").position[2] < 0.03  # it fell onto the table
        assert other.object_state("yellow block").position == pytest.approx((0.5, 0.0, 0.02), abs=1e-3)
    finally:
        other.close()
        other.close()  # closing twice is safe


def test_bodies_are_addressed_by_name_with_helpful_errors(world: TabletopWorld) -> None:
    world.build(SCENE)
    assert world.sim.body_name(world.sim.body_id("blue bowl")) == "blue bowl"
    with pytest.raises(UnknownNameError, match="did you mean 'red block'"):
        world.object_state("red blok")
    with pytest.raises(UsageError, match="unique"):
        world.build([SCENE[0], SCENE[0]])


def test_block_dropped_into_a_bowl_stays_inside(world: TabletopWorld) -> None:
    world.build([SCENE[1], ObjectPlacement("block", "red", (0.50, -0.13, 0.15))])
    world.step(480)
    block, bowl = world.object_state("red block"), world.object_state("blue bowl")
    assert np.hypot(block.position[0] - bowl.position[0], block.position[1] - bowl.position[1]) < 0.06
    assert block.position[2] < 0.04
    assert bowl.up_z > 0.99  # the bowl did not tip over


def test_robot_reaches_the_workspace_with_the_gripper_down(world: TabletopWorld) -> None:
    robot = world.robot
    for target in [(0.3, 0.25, 0.05), (0.6, -0.25, 0.05), (0.45, 0.0, 0.3)]:
        for _ in range(150):  # IK is re-solved from the current joints as the arm moves
            robot.set_ee_target(target, yaw=0.4)
            world.step(4)
        assert np.linalg.norm(robot.ee_position() - np.array(target)) < 0.005
        assert abs(robot.ee_yaw() - 0.4) < 0.02


def test_gripper_opens_and_closes_on_a_block(world: TabletopWorld) -> None:
    world.build([ObjectPlacement("block", "red", (0.45, 0.0, 0.02))])
    for target in [(0.45, 0.0, 0.12), (0.45, 0.0, 0.02)]:
        for _ in range(150):
            world.robot.set_ee_target(target, yaw=0.0)
            world.step(4)
    world.robot.set_gripper_target(0.0)
    world.step(120)
    assert world.robot.gripper_width() == pytest.approx(0.04, abs=0.003)  # stopped by the 4 cm block
    for _ in range(120):
        world.robot.set_ee_target((0.45, 0.0, 0.2), yaw=0.0)
        world.step(4)
    assert world.object_state("red block").position[2] > 0.15  # lifted with the gripper


def test_cameras_back_project_pixels_onto_the_objects_they_show(world: TabletopWorld) -> None:
    world.build(SCENE)
    block = np.array(world.object_state("red block").position)
    for camera in ("front", "top"):
        frame = world.render(camera)
        assert frame.rgb.shape == (240, 320, 3) and frame.rgb.dtype == np.uint8
        assert frame.depth.shape == (240, 320) and frame.depth.dtype == np.float32
        mask = frame.segmentation == world.sim.body_id("red block")
        assert mask.sum() > 20
        rows, cols = np.nonzero(mask)
        points = frame.backproject(np.stack([cols, rows], axis=1))
        # every pixel of the block back-projects onto the block's surface
        assert np.all(np.abs(points - block) < 0.02 * np.sqrt(3) + 0.004)
        assert np.allclose(frame.project(points), np.stack([cols, rows], axis=1), atol=1e-6)


def test_camera_resolution_is_configurable() -> None:
    world = TabletopWorld(camera_size=(640, 480), renderer="tiny")
    try:
        assert world.render("top").rgb.shape == (480, 640, 3)
    finally:
        world.close()


def test_unknown_renderer_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="renderers are: auto, tiny, egl"):
        TabletopWorld(renderer="vulkan")  # type: ignore[arg-type]


def test_state_round_trips_exactly_through_json(world: TabletopWorld) -> None:
    world.build(SCENE)
    world.robot.set_ee_target((0.4, 0.1, 0.1), yaw=0.5)
    world.step(200)  # mid-motion: velocities are not zero
    state = json.loads(json.dumps(world.get_state()))
    fresh = TabletopWorld(renderer="tiny")
    try:
        fresh.set_state(state)
        assert readable(fresh.get_state()) == readable(state)  # bit for bit
        assert any(any(v != 0 for v in o["linear_velocity"]) for o in state["objects"]) or any(
            v != 0 for v in state["robot"]["velocities"]
        )
    finally:
        fresh.close()


def test_state_without_engine_data_restores_poses_to_rounding(world: TabletopWorld) -> None:
    world.build(SCENE)
    world.step(50)
    state = world.get_state(exact=False)
    assert "bullet" not in state
    world.build([])
    world.set_state(state)
    for before, after in zip(state["objects"], world.get_state(exact=False)["objects"]):
        assert before["name"] == after["name"]
        assert np.allclose(before["position"], after["position"], atol=1e-12)


DETERMINISM_SCRIPT = """
import json, sys
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.envs.tasks import get_task
world = TabletopWorld(renderer="tiny")
world.build(get_task("StackBlocks").sample(7).placements)
for target in [(0.4, 0.1, 0.05), (0.5, -0.1, 0.02), (0.45, 0.0, 0.3)]:
    for _ in range(75):
        world.robot.set_ee_target(target, yaw=0.2)
        world.robot.set_gripper_target(0.0)
        world.step(4)
state = world.get_state(exact=False)
print(json.dumps(state))
"""


def test_same_seed_same_commands_give_bit_identical_states_in_two_processes() -> None:
    outputs = [
        subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout
        for _ in range(2)
    ]
    first, second = (json.loads(o.strip().splitlines()[-1]) for o in outputs)
    assert first == second
    assert first["step_count"] == 900


def test_same_seed_gives_the_same_scene_and_different_seeds_differ() -> None:
    task = get_task("MatchingBowls")
    assert task.sample(3) == task.sample(3)
    assert task.sample(3).placements != task.sample(4).placements


def test_workspace_bounds_are_exposed_and_reachable() -> None:
    assert WORKSPACE.contains((0.45, 0.0))
    assert not WORKSPACE.contains((0.9, 0.0))
    assert "x in [0.25, 0.65]" in WORKSPACE.describe()


def test_committed_urdfs_match_their_generator() -> None:
    from codeact_robot.assets import generate
    from codeact_robot.envs.objects import asset_path

    for file_name, build in generate.FILES.items():
        assert asset_path(file_name).read_text() == build(), (
            f"run python -m codeact_robot.assets.generate ({file_name})"
        )
