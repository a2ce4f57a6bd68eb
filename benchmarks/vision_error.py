"""Position error of vision perception against the simulator, over every task's scenes.

For each task and seed it looks at the initial scene and at the scene after the
reference program has solved the task in state mode (towers, blocks in bowls, lifted
cups), and compares every object vision reports with its true pose. Objects no camera
can see are not counted; objects seen by the state perception but missing from vision
count as misses; reported names that are neither an object nor a part state mode reports
(a drawer's handle) count as phantoms.

    python benchmarks/vision_error.py [--seeds 10] [--size 320x240] [--tasks StackBySize ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from codeact_robot.envs.tasks import TASKS
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.expert.programs import reference_program
from codeact_robot.sandbox.executor import Sandbox
from codeact_robot.skills import bind
from codeact_robot.skills.context import SkillContext
from codeact_robot.worker.config import Limits


def measure(world: TabletopWorld) -> tuple[list[float], int, int]:
    """Errors (m) of the objects both modes report, then misses and phantoms."""
    truth = SkillContext(world, "state").perception.estimates()
    seen = SkillContext(world, "vision").perception.estimates()
    errors = [float(np.linalg.norm(seen[n].position - truth[n].position)) for n in truth if n in seen]
    missed = sum(1 for n in truth if n not in seen)
    phantoms = sum(1 for n in seen if n not in world.object_names and n not in truth)
    return errors, missed, phantoms


def solve(world: TabletopWorld, program: str) -> None:
    """Run a reference program in the sandbox, in state mode, to change the scene."""
    sandbox = Sandbox(bind(SkillContext(world, "state")), Limits(time_limit_s=120))
    sandbox.run(program, "<action 1>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS), metavar="TASK")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    world = TabletopWorld(camera_size=(width, height), renderer="tiny")
    everything: list[float] = []
    print(f"{'task':<26}{'objects':>8}{'median mm':>11}{'p95 mm':>9}{'missed':>8}{'phantoms':>10}")
    start = time.perf_counter()
    for name in args.tasks:
        task = TASKS[name]
        errors: list[float] = []
        missed = phantoms = 0
        for seed in range(args.seeds):
            instance = task.sample(seed)
            world.build(instance.placements)
            for scene in ("initial", "solved"):
                if scene == "solved":
                    solve(world, reference_program(instance))
                e, m, p = measure(world)
                errors += e
                missed += m
                phantoms += p
        everything += errors
        mm = np.array(errors) * 1000
        row = f"{name:<26}{len(errors):>8}{np.median(mm):>11.1f}{np.percentile(mm, 95):>9.1f}"
        print(f"{row}{missed:>8}{phantoms:>10}")
    mm = np.array(everything) * 1000
    print(
        f"\nall tasks, {args.seeds} seeds, initial and solved scenes, {width}x{height}: {len(mm)} objects, "
        f"median {np.median(mm):.1f} mm, 95th percentile {np.percentile(mm, 95):.1f} mm "
        f"({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
