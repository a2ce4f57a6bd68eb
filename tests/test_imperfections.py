"""Imperfect physics: slips reported truthfully, noise and disturbances deterministic per seed, replays exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codeact_robot.agent.replay import ReplayBackend
from codeact_robot.agent.session import run_episode
from codeact_robot.agent.trajectory import write_trajectory
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.objects import KINDS
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UsageError
from codeact_robot.expert import ExpertBackend
from codeact_robot.skills import bind, skills_for
from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.imperfections import Imperfections
from codeact_robot.worker.config import EnvConfig, PhysicsConfig

SCENE = [
    ObjectPlacement("block", "red", (0.45, 0.1, 0.02)),
    ObjectPlacement("bowl", "blue", (0.45, -0.15, KINDS["bowl"].half_height)),
]
ROUGH = {"grasp_slip": 0.3, "state_noise": 0.002, "variation": 0.2, "disturbance": 0.5}


def imperfect(seed: int = 0, **settings: float) -> Imperfections:
    return Imperfections(seed, **{**PhysicsConfig().model_dump(), **settings})


def test_physics_is_perfect_by_default_and_its_settings_are_checked() -> None:
    assert EnvConfig().physics.perfect
    assert not EnvConfig().with_overrides({"physics": {"grasp_slip": 0.1}}).physics.perfect
    with pytest.raises(UsageError, match="physics.state_noise: 1.0 is out of range; it must be at most 0.05"):
        EnvConfig().with_overrides({"physics": {"state_noise": 1.0}})


def test_a_slipped_grasp_is_reported_truthfully(world: TabletopWorld) -> None:
    world.build(SCENE)
    skills = bind(SkillContext(world, "state", imperfections=imperfect(grasp_slip=1.0)))
    assert skills["pick"]("red block") is False
    assert skills["is_holding"]() is False
    assert world.sim.get_pose("red block")[0][2] == pytest.approx(0.02, abs=0.003)  # left on the table
    world.build(SCENE)
    primitive = bind(SkillContext(world, "state", imperfections=imperfect(grasp_slip=1.0)), skills_for("primitive"))
    primitive["open_gripper"]()
    primitive["move_to"]([0.45, 0.1, 0.1], 0.0)
    primitive["move_to"]([0.45, 0.1, 0.02], 0.0)
    assert primitive["close_gripper"]() is True  # the fingers did close on the block ...
    primitive["move_to"]([0.45, 0.1, 0.2])
    assert primitive["is_holding"]("red block") is False  # ... and it stayed behind
    assert primitive["get_gripper_width"]() < 0.005


def test_without_slips_the_same_grasp_holds(world: TabletopWorld) -> None:
    world.build(SCENE)
    skills = bind(SkillContext(world, "state", imperfections=imperfect(grasp_slip=0.0, state_noise=0.001)))
    assert skills["pick"]("red block") is True and skills["is_holding"]("red block")


def test_state_noise_is_the_same_for_the_same_seed_and_differs_for_another(world: TabletopWorld) -> None:
    world.build(SCENE)

    def positions(seed: int) -> list[np.ndarray]:
        skills = bind(SkillContext(world, "state", imperfections=imperfect(seed, state_noise=0.01)))
        first = skills["get_object_position"]("red block")
        again = skills["get_object_position"]("red block")  # the same look: the same estimate
        assert np.array_equal(first, again)
        return [first, skills["get_object_position"]("blue bowl")]

    same, also_same, other = positions(3), positions(3), positions(4)
    assert all(np.array_equal(a, b) for a, b in zip(same, also_same))
    assert not np.array_equal(same[0], other[0])
    assert 0 < np.linalg.norm(same[0] - world.sim.get_pose("red block")[0]) < 0.06


def test_a_disturbance_between_turns_moves_an_object_the_next_observation_shows() -> None:
    after = []
    for _ in range(2):
        env = CodeActEnv(renderer="tiny", physics={"disturbance": 1.0}, time_limit_s=10.0)
        try:
            _, info = env.reset(seed=5, options={"blocks": ["red", "green"], "bowls": ["blue"]})
            before = {n: o["position"] for n, o in info["objects"].items()}
            observation, *_, info = env.step("print('looking')")
            moved = [
                n for n, o in info["objects"].items() if np.linalg.norm(np.subtract(o["position"], before[n])) > 0.03
            ]
            assert len(moved) == 1 and moved[0].endswith("block")
            assert "Between turns, an object was nudged" in observation["text"]
            assert f"{moved[0]} at" in observation["text"]
            after.append(info["objects"])
            *_, info = env.step("done()")
            assert info["objects"] == after[-1]  # a program that calls done() is not disturbed after
        finally:
            env.close()
    assert after[0] == after[1]  # the same seed, the same disturbance


def test_with_imperfect_physics_a_replay_reproduces_the_final_state(tmp_path: Path) -> None:
    env = CodeActEnv(task="StackBlocks", renderer="tiny", physics=ROUGH)
    try:
        seed = 7
        expert = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
        again = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
        assert [t.observation for t in again.turns] == [t.observation for t in expert.turns]
        assert again.final_objects == expert.final_objects
        replayed = run_episode(env, ReplayBackend(write_trajectory(expert, tmp_path / "rough.jsonl")), seed=seed)
        assert replayed.final_objects == expert.final_objects  # bit-identical: the same slips, noise, pushes
        assert expert.success
    finally:
        env.close()


def test_state_noise_depends_on_the_step_not_on_earlier_looks(world: TabletopWorld) -> None:
    world.build(SCENE)
    looked = bind(SkillContext(world, "state", imperfections=imperfect(3, state_noise=0.01)))
    first = looked["get_object_position"]("red block")
    world.step(10)
    again = looked["get_object_position"]("red block")
    assert not np.array_equal(first, again)  # a new step, a new offset
    fresh = bind(SkillContext(world, "state", imperfections=imperfect(3, state_noise=0.01)))  # as after a restore
    assert np.array_equal(fresh["get_object_position"]("red block"), again)


def test_a_restored_episode_continues_its_streams_and_varies_its_rebuilt_objects_alike(world: TabletopWorld) -> None:
    world.build(SCENE)
    first = imperfect(3, **ROUGH)
    first.vary(world)

    def dynamics() -> list[tuple[float, float]]:
        return [world.sim.client.getDynamicsInfo(world.sim.body_id(n), -1)[:2] for n in world.object_names]

    varied = dynamics()
    for _ in range(5):
        first.slips()
    resumed = imperfect(3, **ROUGH, streams=first.streams())
    world.set_state(world.get_state(exact=True))  # a rebuild: the objects' own mass and friction again
    assert dynamics() != varied
    resumed.vary(world)
    assert dynamics() == varied  # the variations are drawn from the start again, as at the reset
    assert [resumed.slips() for _ in range(20)] == [first.slips() for _ in range(20)]
    with pytest.raises(ValueError, match="PCG64"):
        imperfect(3, streams=[{"bit_generator": "MT19937"}, {}])
    with pytest.raises(ValueError, match="continues 2 random streams"):
        imperfect(3, streams=first.streams()[:1])
