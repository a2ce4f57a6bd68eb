"""The Gymnasium environments: the programmatic API of DESIGN.md, check_env, learned skills."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from codeact_robot.agent.prompt import system_prompt
from codeact_robot.envs.tasks import TASKS
from codeact_robot.errors import UsageError
from codeact_robot.library.files import SkillLibrary
from codeact_robot.worker.config import Limits


def test_every_task_is_registered_with_the_codeact_env() -> None:
    for task in TASKS:
        spec = gym.spec(f"CodeActRobot/{task}-v0")
        assert spec.entry_point == "codeact_robot.environments.codeact:CodeActEnv" and spec.kwargs["task"] == task
    control = "codeact_robot.environments.control:TabletopControlEnv"
    assert gym.spec("CodeActRobot/TabletopControl-v0").entry_point == control


def test_programmatic_api_of_the_design() -> None:
    env = gym.make("CodeActRobot/PickPlace-v0", time_limit_s=60, renderer="tiny")
    try:
        obs, info = env.reset(seed=1)
        assert set(obs) == {"text", "rgb"} and obs["rgb"].shape == (240, 320, 3)
        assert obs["text"].startswith("Task: pick up the")
        target = env.unwrapped.instance.params
        obs, reward, terminated, truncated, info = env.step(
            f"pick_and_place({target['object']!r}, {target['target']!r})"
        )
        assert info["success"] and reward == 1.0 and terminated and not truncated
        assert info["stdout"] == "True\n" and info["error"] is None
        assert set(info["objects"][target["object"]]) >= {"position", "orientation"}
        assert info["timings"].sim_steps > 0
    finally:
        env.close()


def test_codeact_env_passes_check_env() -> None:
    env = gym.make("CodeActRobot/StackBlocks-v0", renderer="tiny", time_limit_s=5)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


def test_free_scene_is_laid_out_from_reset_options() -> None:
    env = gym.make("CodeActRobot/Tabletop-v0", renderer="tiny")
    try:
        options = {
            "blocks": ["red", "green"],
            "bowls": ["blue"],
            "positions": {"red block": [0.5, 0.1]},
            "instruction": "put the red block in the blue bowl",
        }
        obs, info = env.reset(seed=0, options=options)
        assert obs["text"].startswith("Task: put the red block in the blue bowl")
        assert np.allclose(info["objects"]["red block"]["position"][:2], (0.5, 0.1), atol=1e-3)
        assert sorted(info["objects"]) == ["blue bowl", "green block", "red block"]
        assert not info["success"]  # a free scene has no success check
    finally:
        env.close()


def test_limits_are_make_keyword_arguments_and_checked() -> None:
    env = gym.make(
        "CodeActRobot/StackBlocks-v0", time_limit_s=7, memory_limit_mb=3000, max_output_chars=99, max_sim_steps=1234
    )
    try:
        assert env.unwrapped.config.limits == Limits(
            time_limit_s=7, memory_limit_mb=3000, max_output_chars=99, max_sim_steps=1234
        )
    finally:
        env.close()
    with pytest.raises(UsageError, match="memory_limit_mb"):
        gym.make("CodeActRobot/StackBlocks-v0", memory_limit_mb=10)
    with pytest.raises(UsageError) as unknown:
        gym.make("CodeActRobot/StackBlocks-v0", time_limt_s=7)
    message = str(unknown.value)
    assert message.startswith(
        "invalid settings in the environment's keyword arguments: no setting named 'time_limt_s' (did you mean "
        "'time_limit_s'?); settings are: perception, colours, "
    )
    assert message.endswith(", time_limit_s, memory_limit_mb, max_output_chars, max_sim_steps, max_recursion")


def test_done_terminates_and_the_turn_budget_truncates() -> None:
    env = gym.make("CodeActRobot/StackBlocks-v0", renderer="tiny", max_turns=2)
    try:
        env.reset(seed=0)
        _, _, terminated, truncated, info = env.step("done()")
        assert terminated and not truncated and info["outcome"] == "done" and not info["success"]
        env.reset(seed=0)
        env.step("x = 1")
        obs, _, terminated, truncated, info = env.step("x += 1")
        assert truncated and not terminated and info["outcome"] == "turn_limit"
        assert "No turns left." in obs["text"]
    finally:
        env.close()


def test_low_level_control_env_passes_check_env_and_moves_the_gripper() -> None:
    env = gym.make("CodeActRobot/TabletopControl-v0", task="PickPlace", renderer="tiny", render_mode="rgb_array")
    try:
        check_env(env.unwrapped)
        obs, info = env.reset(seed=1)
        assert obs["object_mask"].sum() == len(info["objects"])
        start = obs["robot"][:3].copy()
        for _ in range(10):
            obs, *_ = env.step(np.array([1.0, 0.0, -1.0, 1.0], dtype=np.float32))
        moved = obs["robot"][:3] - start
        assert moved[0] > 0.1 and moved[2] < -0.1 and abs(moved[1]) < 0.02
        assert env.render().shape == (240, 320, 3)
    finally:
        env.close()


def test_saved_skills_are_stored_pending_and_not_offered_until_verified(tmp_path: Path) -> None:
    library = tmp_path / "skills"
    env = gym.make("CodeActRobot/StackBlocks-v0", renderer="tiny", skill_library=str(library))
    try:
        env.reset(seed=0)
        program = (
            "def count_blocks():\n"
            '    """How many blocks the robot can see."""\n'
            "    return len([n for n in get_object_names() if n.endswith('block')])\n"
            "print(save_skill(count_blocks))"
        )
        _, _, _, _, info = env.step(program)
        assert "saved skill count_blocks" in info["stdout"] and info["saved_skills"] == ["count_blocks@1"]
        _, _, _, _, info = env.step("save_skill(pick)")
        assert info["error_type"] == "TypeError" and "function you defined with def" in info["error"]
        _, info = env.reset(seed=1)  # a new episode: a pending skill is not offered
        assert info["skills"] == []
        _, _, _, _, info = env.step("print(count_blocks())")
        assert info["error_type"] == "NameError"
    finally:
        env.close()
    learned = SkillLibrary(library).skills()
    described = [(s.ref, s.status, s.meta.provenance.task) for s in learned]
    assert described == [("count_blocks@1", "pending", "StackBlocks")]
    prompt = system_prompt("codeact", None, Limits(), [s.header for s in learned])
    assert "count_blocks()\n    How many blocks the robot can see." in prompt


def test_after_a_place_the_scene_says_the_gripper_is_open() -> None:
    env = gym.make("CodeActRobot/PickPlace-v0", renderer="tiny")
    try:
        env.reset(seed=1)
        observation, _, _, _, info = env.step("pick('orange block')\nplace('blue block')")
        assert info["success"]
        assert "Scene: The gripper is open at (0.15, 0.00, 0.50), holding nothing." in observation["text"]
    finally:
        env.close()
