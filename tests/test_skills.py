"""The skill API: argument checks before motion, physical outcomes, perception in both modes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from codeact_robot.envs.objects import KINDS
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.tasks import get_task
from codeact_robot.envs.tasks.checks import is_in_bowl, is_on_top_of
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.skills import all_skills, api_reference, bind
from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.registry import argument_schema

SCENE = [
    ObjectPlacement("block", "red", (0.40, 0.12, 0.02), yaw=0.4),
    ObjectPlacement("block", "green", (0.55, 0.15, 0.02), yaw=-0.2),
    ObjectPlacement("bowl", "blue", (0.50, -0.15, KINDS["bowl"].half_height)),
]


def api(
    world: TabletopWorld, scene: list[ObjectPlacement] = SCENE, perception: str = "state"
) -> dict[str, Callable[..., Any]]:
    world.build(scene)
    return bind(SkillContext(world, perception))


def readable(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != "bullet"}


BAD_CALLS = [
    ("move_to", ("red block",), TypeError, "list of 3 numbers"),
    ("move_to", ([0.5, 0.1],), ValueError, "must have 3 numbers, got 2"),
    ("move_to", ([math.nan, 0.0, 0.2],), ValueError, "finite"),
    ("move_to", ([0.5] * 7,), ValueError, "got 7"),
    ("move_to", ([0.9, 0.0, 0.2],), ValueError, "outside the workspace .x in \\[0.25, 0.65\\]"),
    ("move_to", ([0.5, 0.0, 0.2], "north"), TypeError, "yaw must be a number"),
    ("pick", (42,), TypeError, "must be a string"),
    ("pick", ("purple block",), ValueError, "did you mean 'red block'.*objects are: blue bowl, green block, red block"),
    ("pick", ("blue bowl",), ValueError, "cannot be grasped.*graspable kinds: block, cup"),
    ("place", ("nowhere",), ValueError, "objects are"),
    ("place", ([0.5, 0.0, 0.1, 0.2],), ValueError, "2 numbers or 3 numbers"),
    ("pick_and_place", ("red block", "red block"), ValueError, "on itself"),
    ("pick_and_place", ("red block", [0.0, 0.9]), ValueError, "outside the workspace"),
    ("push", ("red block", "up", 0.1), ValueError, "directions are: left, right, top, bottom"),
    ("push", ("red block", "left", 5.0), ValueError, "distance must be in"),
    ("push", ("red block", [0.0, 0.0], 0.1), ValueError, "must not be zero"),
    ("get_location", ("top middle",), ValueError, "did you mean .*places are: top left corner"),
    ("get_object_position", (["red block"],), TypeError, "must be a string"),
    ("get_camera_image", ("side",), ValueError, "cameras are: front, top"),
]


@pytest.mark.parametrize(
    ("skill", "args", "error", "message"), BAD_CALLS, ids=[f"{c[0]}{c[1]!r}"[:60] for c in BAD_CALLS]
)
def test_bad_arguments_raise_before_anything_moves(
    world: TabletopWorld, skill: str, args: tuple[Any, ...], error: type[Exception], message: str
) -> None:
    skills = api(world)
    before = readable(world.get_state())
    with pytest.raises(error, match=message):
        skills[skill](*args)
    assert readable(world.get_state()) == before  # not a single physics step ran


def test_pick_and_place_into_a_bowl_and_onto_a_block(world: TabletopWorld) -> None:
    skills = api(world)
    assert skills["pick_and_place"]("red block", "blue bowl") is True
    states = world.object_states()
    assert is_in_bowl(states["red block"], states["blue bowl"])
    assert skills["pick_and_place"]("green block", "red block") is True
    states = world.object_states()
    assert is_on_top_of(states["green block"], states["red block"])
    assert not skills["is_holding"]()


def test_pick_lifts_and_place_puts_down_at_a_table_position(world: TabletopWorld) -> None:
    skills = api(world)
    assert skills["pick"]("red block") is True
    assert skills["is_holding"]("red block") and skills["is_holding"]()
    assert world.object_state("red block").position[2] > 0.15
    assert skills["get_gripper_width"]() == pytest.approx(0.04, abs=0.004)
    assert skills["place"]([0.35, -0.05]) is True
    block = world.object_state("red block")
    assert np.hypot(block.position[0] - 0.35, block.position[1] + 0.05) < 0.01
    assert block.position[2] == pytest.approx(0.02, abs=0.003)


def test_place_without_holding_returns_false(world: TabletopWorld) -> None:
    assert api(world)["place"]("blue bowl") is False


def test_a_missed_grasp_returns_false() -> None:
    def whisk_away(step: int) -> None:  # the block is whisked away while the gripper descends
        if step == 300:
            world.sim.set_pose("red block", (0.3, -0.25, 0.02), (0, 0, 0, 1))

    world = TabletopWorld(renderer="tiny", on_step=whisk_away)
    try:
        skills = api(world)
        assert skills["pick"]("red block") is False
        assert not skills["is_holding"]()
    finally:
        world.close()


def test_push_moves_the_object_in_the_direction(world: TabletopWorld) -> None:
    skills = api(world)
    start = world.object_state("red block").position
    assert skills["push"]("red block", "left", 0.1) is True
    end = world.object_state("red block").position
    assert end[1] - start[1] == pytest.approx(0.1, abs=0.03)
    assert abs(end[0] - start[0]) < 0.03


def test_extreme_numbers_a_push_direction_of_huge_finite_components_is_still_that_direction(
    world: TabletopWorld,
) -> None:
    skills = api(world)
    start = world.object_state("red block").position
    assert skills["push"]("red block", [1e308, 1e308], 0.1) is True  # its length overflowed: a push nowhere
    end = world.object_state("red block").position
    assert end[0] - start[0] == pytest.approx(0.07, abs=0.03) and end[1] - start[1] == pytest.approx(0.07, abs=0.03)


def test_move_to_and_go_home(world: TabletopWorld) -> None:
    skills = api(world)
    assert skills["move_to"]([0.45, -0.1, 0.15], 0.3) is True
    assert np.linalg.norm(skills["get_gripper_position"]() - [0.45, -0.1, 0.15]) < 0.006
    assert skills["go_home"]() is True
    assert skills["get_gripper_position"]()[2] > 0.4


def test_scene_skills_report_positions_places_and_bounds(world: TabletopWorld) -> None:
    skills = api(world)
    assert skills["get_object_names"]() == ["blue bowl", "green block", "red block"]
    assert np.allclose(skills["get_object_position"]("red block"), (0.40, 0.12, 0.02), atol=1e-3)
    assert skills["get_object_orientation"]("red block")[2] == pytest.approx(0.4, abs=1e-3)
    low, high = skills["get_object_bbox"]("blue bowl")
    assert high[2] - low[2] == pytest.approx(KINDS["bowl"].size[2], abs=0.01)
    assert np.allclose(skills["get_location"]("top left corner"), (0.60, 0.25))
    assert skills["get_workspace_bounds"]()["x"] == (0.25, 0.65)


def test_hidden_objects_are_not_perceived_until_uncovered(world: TabletopWorld) -> None:
    instance = get_task("FindHiddenBlock").sample(0)
    for perception in ("state", "vision"):
        skills = api(world, list(instance.placements), perception)
        names = skills["get_object_names"]()
        assert instance.params["object"] not in names
        with pytest.raises(ValueError, match="no object named"):
            skills["get_object_position"](instance.params["object"])
    cup = next(
        p
        for p in instance.placements
        if p.kind == "cup"
        and p.position[:2] == next(q.position[:2] for q in instance.placements if q.name == instance.params["object"])
    )
    skills = api(world, list(instance.placements), "state")
    assert skills["pick_and_place"](cup.name, [0.3, -0.25]) is True
    assert instance.params["object"] in skills["get_object_names"]()


@pytest.mark.parametrize("cup_yaw", [0.0, math.pi / 8, math.pi / 4])
def test_a_round_cup_is_grasped_lifted_and_let_go_at_any_yaw_of_the_gripper(
    world: TabletopWorld, cup_yaw: float
) -> None:
    cup = KINDS["cup"]
    start = (0.45, 0.0, cup.half_height)
    skills = api(world, [ObjectPlacement("cup", "green", start, yaw=cup_yaw)])
    grasp_z = cup.size[2] - 0.02  # as pick grasps: 2 cm below the top (a round cup shows no yaw to turn to)
    assert skills["open_gripper"]() is True
    assert skills["move_to"]([0.45, 0.0, grasp_z], 0.0) is True
    assert np.allclose(world.object_state("green cup").position, start, atol=0.002)  # the fingers came down clear
    assert skills["close_gripper"]() is True
    assert skills["move_to"]([0.45, 0.0, 0.2]) is True
    assert world.object_state("green cup").position[2] > 0.15
    assert skills["move_to"]([0.40, 0.0, grasp_z + 0.003]) is True
    assert skills["open_gripper"]() is True
    assert skills["move_to"]([0.40, 0.0, 0.2]) is True
    state = world.object_state("green cup")  # let go of, upright on the table
    assert np.allclose(state.position, (0.40, 0.0, cup.half_height), atol=0.004)
    assert np.allclose(state.orientation[:2], 0.0, atol=0.05)


def test_a_block_fits_under_a_cup_at_any_yaw(world: TabletopWorld) -> None:
    cup = KINDS["cup"]
    world.build(
        [
            ObjectPlacement("block", "red", (0.45, 0.0, 0.02), yaw=math.pi / 4),
            ObjectPlacement("cup", "green", (0.45, 0.0, cup.half_height)),
        ]
    )
    world.step(240)
    state = world.object_state("green cup")
    assert state.position[2] == pytest.approx(cup.half_height, abs=0.002)  # it stands on the table, not the block
    assert np.hypot(state.position[0] - 0.45, state.position[1]) < 0.002


def test_vision_perception_locates_objects_from_images_alone(world: TabletopWorld) -> None:
    skills = api(world, SCENE, "vision")
    assert skills["get_object_names"]() == ["blue bowl", "green block", "red block"]
    for placement in SCENE:
        assert np.linalg.norm(skills["get_object_position"](placement.name) - placement.position) < 0.01
    detections = skills["detect_objects"]("top")
    assert {d["name"] for d in detections} == {p.name for p in SCENE}
    assert all(len(d["box"]) == 4 and d["pixels"] > 0 for d in detections)


def test_vision_mode_never_reads_the_segmentation_mask(world: TabletopWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    skills = api(world, SCENE, "vision")
    frames = {camera: world.render(camera) for camera in ("front", "top")}
    for frame in frames.values():
        frame.segmentation = None  # type: ignore[assignment]
    monkeypatch.setattr(world, "render", lambda camera: frames[camera])
    assert skills["get_object_names"]() == ["blue bowl", "green block", "red block"]


def test_camera_images_are_fresh_copies(world: TabletopWorld) -> None:
    skills = api(world)
    image = skills["get_camera_image"]("top")
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    image[:] = 0
    assert skills["get_camera_image"]("top").any()
    depth = skills["get_depth_image"]("front")
    assert depth.dtype == np.float32 and 0.3 < float(depth.min()) < 1.5


def test_api_reference_documents_every_skill_from_one_registry() -> None:
    text = api_reference()
    skills = all_skills()
    assert len(skills) == 24
    for skill in skills:
        assert skill.header() in text
        assert "Example:" in skill.doc, f"{skill.name} has no example"
    assert "pick(name: str) -> bool" in text
    schema = argument_schema(next(s for s in skills if s.name == "pick"))
    assert schema["required"] == ["name"] and schema["properties"]["name"] == {"type": "string"}
