"""API tiers: each tier's namespace, prompt, help() and dir(); the expert at every tier; the tiers suite."""

from __future__ import annotations

import ast
import re
from importlib import resources

import pytest

from codeact_robot.agent.prompt import system_prompt
from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs import objects
from codeact_robot.envs.tasks import TASKS, get_task
from codeact_robot.errors import UsageError
from codeact_robot.eval.running.suite import load_suite, parse_suite
from codeact_robot.expert import ExpertBackend
from codeact_robot.expert.programs import reference_program
from codeact_robot.skills.registry import api_reference, argument_schemas, skills_for
from codeact_robot.worker.config import EnvConfig, Limits

COMPOUND = {"pick", "place", "pick_and_place", "push", "go_home"}
OBJECT_STATE = {
    "get_object_names",
    "get_object_position",
    "get_object_orientation",
    "get_object_bbox",
    "is_holding",
    "detect_objects",
}
HIGH = {s.name for s in skills_for("high")}
EXPECTED = {"high": HIGH, "primitive": HIGH - COMPOUND, "pixels": HIGH - COMPOUND - OBJECT_STATE}


def test_each_tier_offers_exactly_its_skills() -> None:
    assert len(HIGH) == 24 and "get_camera_info" in HIGH
    for api, names in EXPECTED.items():
        assert {s.name for s in skills_for(api)} == names
        assert set(argument_schemas(api)) == names
    with pytest.raises(ValueError, match="no API tier named 'low'; API tiers are: high, primitive, pixels"):
        skills_for("low")


@pytest.mark.parametrize("api", ["high", "primitive", "pixels"])
def test_the_prompt_documents_exactly_the_tiers_skills(api: str) -> None:
    instance = get_task("StackBlocks").instance(0)
    prompt = system_prompt("codeact", instance, Limits(), api=api)
    documented = set(re.findall(r"^(\w+)\(", api_reference(api), flags=re.MULTILINE))
    assert documented == EXPECTED[api]
    for name in HIGH - EXPECTED[api]:
        assert f"\n{name}(" not in prompt
    assert "ends as soon as the task's check holds" in prompt
    json_prompt = system_prompt("json", instance, Limits(), api=api)
    assert ('- pick: {"type"' in json_prompt) == (api == "high")


@pytest.mark.parametrize("api", ["high", "primitive", "pixels"])
def test_a_tiers_examples_call_only_its_own_skills(api: str) -> None:
    for s in skills_for(api):
        example = s.doc.partition("Example:")[2]
        called = set(re.findall(r"\b(\w+)\(", example)) & HIGH
        assert called <= EXPECTED[api], f"{s.name}'s example calls {called - EXPECTED[api]}"


@pytest.mark.parametrize("api", ["primitive", "pixels"])
def test_the_sandbox_namespace_help_and_dir_show_exactly_the_tiers_skills(api: str) -> None:
    env = CodeActEnv(renderer="tiny", api=api, time_limit_s=10.0)
    try:
        env.reset(seed=0, options={"blocks": ["red"], "bowls": ["blue"]})
        listed = env.step("print(sorted(n for n in dir() if n in " + repr(sorted(HIGH)) + "))")[4]["stdout"]
        assert eval(listed) == sorted(EXPECTED[api])
        info = env.step("help(move_to)\npick('red block')")[4]
        assert "move_to(position: Sequence[float], yaw: float | None = None) -> bool" in info["stdout"]
        assert "NameError: name 'pick' is not defined" in info["error"]
        text = env.step("help(get_camera_info)")[0]["text"]
        assert "camera_to_world" in text
        shown = "Visible objects: blue bowl" in text
        assert shown == (api == "primitive")  # the pixels tier's observations name no object
    finally:
        env.close()


def test_an_unknown_tier_is_one_clear_error() -> None:
    with pytest.raises(UsageError, match="api: 'low' is not valid; valid: high, primitive, pixels"):
        EnvConfig().with_overrides({"api": "low"})


def prelude_constants(file_name: str) -> dict[str, object]:
    """The literal constants a prelude file assigns at its top level (a prelude cannot import them)."""
    tree = ast.parse(resources.files("codeact_robot.expert.programs").joinpath(file_name).read_text())
    constants = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # not a literal (a mutable memory built from names)
    return constants


def test_the_pixels_preludes_copies_of_the_palette_and_sizes_match_the_objects() -> None:
    pixels = prelude_constants("prelude_pixels.py")
    large = prelude_constants("prelude_pixels_large.py")
    primitive = prelude_constants("prelude_primitive.py")
    assert pixels["PALETTE"] == {name: tuple(rgb) for name, rgb in objects.COLOURS.items()}
    assert tuple(pixels["TABLE_RGB"]) == objects.TABLE_COLOUR
    for kind in ("block", "cup", "bowl"):
        assert pixels["SIZES"][kind] == pytest.approx(objects.KINDS[kind].size), kind
        assert primitive["HALF_HEIGHTS"][kind] == pytest.approx(objects.KINDS[kind].half_height), kind
    for word, scale in objects.SIZES.items():
        assert pixels["BLOCK_SIDES"][word] == pytest.approx(objects.BLOCK_SIZE * scale), word
    assert pixels["CUP_FACE"] == pytest.approx((objects.BLOCK_SIZE + objects.CUP_TOP_SIZE) / 2)
    for kind in ("mat", "box", "crate", "drawer", "handle"):
        assert large["LARGE_SIZES"][kind] == pytest.approx(objects.KINDS[kind].size), kind
    assert large["KNOB_SIZE"] == objects.KNOB_SIZE
    assert large["HANDLE_STANDOFF"] == objects.HANDLE_STANDOFF
    assert large["DRAWER_TRAVEL"] == objects.DRAWER_TRAVEL


def test_primitive_and_pixels_programs_define_the_high_tier_names_from_their_own_tier() -> None:
    instance = get_task("PickPlace").instance(0)
    assert "def pick_and_place(" not in reference_program(instance, "high")
    primitive = reference_program(instance, "primitive")
    assert "def pick_and_place(" in primitive and "def get_object_names(" not in primitive
    pixels = reference_program(instance, "pixels")
    assert "def get_object_names(" in pixels and "get_camera_info(" in pixels and "detect_objects(" not in pixels


@pytest.mark.parametrize(
    ("task", "api", "perception"),
    [
        ("PickPlace", "primitive", "vision"),
        ("MatchingBowls", "primitive", "state"),
        ("StackBySize", "pixels", "state"),  # blocks of three sizes, each measured in the images
        ("PutInDrawer", "pixels", "state"),  # a cabinet and its knob found in the images, the drawer slid by hand
        ("FindUnderCrate", "pixels", "state"),  # crates found by their knobs, one lifted away in view
    ],
)
def test_the_expert_solves_a_sample_of_families_at_each_lower_tier(task: str, api: str, perception: str) -> None:
    env = CodeActEnv(task=task, renderer="tiny", api=api, perception=perception)
    try:
        seed = 1001  # beyond the seeds the programs were written on
        record = run_episode(env, ExpertBackend(env.instance_for(seed), api), seed=seed)
    finally:
        env.close()
    assert record.success, record.turns[-1].observation
    assert record.outcome in ("success", "done")


def test_the_tiers_suite_runs_every_family_at_every_tier() -> None:
    suite = load_suite("tiers")
    tiers = {name: agent.env_config().api for name, agent in suite.agents.items()}
    assert set(tiers.values()) == {"high", "primitive", "pixels"}
    assert {suite.agents[n].llm.backend for n in tiers} == {"openai", "reference"}
    assert set(suite.tasks) == {name for name, task in TASKS.items() if task.has_check}
    assert len(set(suite.with_api("pixels").hash for _ in range(2))) == 1
    assert suite.with_api("pixels").hash != suite.hash


def test_a_suite_sets_the_tier_and_physics_for_agents_that_do_not_set_their_own() -> None:
    suite = parse_suite(
        {
            "name": "t",
            "tasks": ["PickPlace"],
            "seeds": [0],
            "api": "primitive",
            "physics": {"grasp_slip": 0.2},
            "agents": [
                {"name": "a", "llm": {"backend": "reference"}},
                {"name": "b", "api": "pixels", "llm": {"backend": "reference"}},
            ],
        },
        "inline",
    )
    a, b = (suite.agents[n].env_config() for n in "ab")
    assert (a.api, b.api) == ("primitive", "pixels")
    assert a.physics.grasp_slip == b.physics.grasp_slip == 0.2
    with pytest.raises(UsageError, match="physics.grasp_slip: 2 is out of range; it must be at most 1"):
        parse_suite({**suite.definition(), "physics": {"grasp_slip": 2}, "agents": [{"name": "a"}]}, "inline")
