"""Physics stepping through our world vs raw PyBullet on the same scene, and scene reset times.

python benchmarks/physics.py [--steps 4800] [--repeats 5] [--resets 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import pybullet
import pybullet_data
from pybullet_utils.bullet_client import BulletClient

from codeact_robot.envs.cstdout import captured_c_output
from codeact_robot.envs.objects import COLOURS, KINDS, TABLE_CENTRE, asset_path
from codeact_robot.envs.robot import FINGER_JOINTS, HOME_JOINTS
from codeact_robot.envs.tasks import TASKS
from codeact_robot.envs.world import TabletopWorld

SCENE_TASK, SCENE_SEED = "SortHiddenBlocks", 0  # the busiest scene: bowls, cups and hidden blocks


def raw_scene() -> BulletClient:
    """The same scene built with bare PyBullet calls."""
    with captured_c_output():
        client = BulletClient(pybullet.DIRECT)
    client.setAdditionalSearchPath(pybullet_data.getDataPath())
    client.setGravity(0, 0, -9.81)
    client.setPhysicsEngineParameter(fixedTimeStep=1 / 240, numSolverIterations=50, deterministicOverlappingPairs=1)
    client.loadURDF(str(asset_path("table.urdf")), TABLE_CENTRE, useFixedBase=True)
    robot = client.loadURDF("franka_panda/panda.urdf", useFixedBase=True)
    for joint, angle in enumerate(HOME_JOINTS):
        client.resetJointState(robot, joint, angle)
        client.setJointMotorControl2(robot, joint, pybullet.POSITION_CONTROL, targetPosition=angle, force=87)
    for joint in FINGER_JOINTS:
        client.resetJointState(robot, joint, 0.04)
    for placement in TASKS[SCENE_TASK].sample(SCENE_SEED).placements:
        body = client.loadURDF(
            str(asset_path(KINDS[placement.kind].urdf)),
            placement.position,
            pybullet.getQuaternionFromEuler((0, 0, placement.yaw)),
        )
        client.changeVisualShape(body, -1, rgbaColor=[*COLOURS[placement.colour], 1])
    return client


def steps_per_second(step: callable, steps: int) -> float:
    start = time.perf_counter()
    step(steps)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4800)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resets", type=int, default=10)
    args = parser.parse_args()

    world = TabletopWorld(renderer="tiny")
    world.build(TASKS[SCENE_TASK].sample(SCENE_SEED).placements)
    raw = raw_scene()

    def raw_step(count: int) -> None:
        for _ in range(count):
            raw.stepSimulation()

    ours, bare = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        ours.append(steps_per_second(world.step, args.steps))
        bare.append(steps_per_second(raw_step, args.steps))
    ours_median, bare_median = statistics.median(ours), statistics.median(bare)
    print(f"physics, {SCENE_TASK} seed {SCENE_SEED} scene, {args.steps} steps x {args.repeats}:")
    print(f"  our world  {ours_median:8.0f} steps/s ({ours_median / 240:.0f}x real time)")
    print(f"  raw PyBullet {bare_median:6.0f} steps/s")
    print(f"  ratio ours/raw {ours_median / bare_median:.3f} (target >= 0.9)")
    raw.disconnect()

    print(f"\nscene reset (rebuild the world and lay out a task's scene), median of {args.resets}:")
    for name, task in TASKS.items():
        times = []
        for seed in range(args.resets):
            instance = task.sample(seed)
            start = time.perf_counter()
            world.build(instance.placements)
            times.append(time.perf_counter() - start)
        print(f"  {name:<26}{statistics.median(times) * 1000:7.1f} ms")
    world.close()


if __name__ == "__main__":
    main()
