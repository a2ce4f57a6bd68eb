"""Position error of vision perception against the simulator, over every task's scenes.

For each task and seed, lays out the initial scene and, as a second view, the scene
after a scripted reference episode has changed it, then compares every object that
vision reports with its true pose. Objects that no camera can see are not counted;
objects that can be seen but are not reported count as misses.

    python benchmarks/vision_error.py [--seeds 10] [--size 320x240]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from codeact_robot.envs.tasks import TASKS
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.skills.context import SkillContext


def measure(world: TabletopWorld, vision: SkillContext, state: SkillContext) -> tuple[list[float], int, list[str]]:
    """Errors (m) of the objects both modes see, the number seen by state only, and wrong names."""
    truth = state.perception.estimates()
    seen = vision.perception.estimates()
    errors = [float(np.linalg.norm(seen[n].position - truth[n].position)) for n in truth if n in seen]
    missed = sum(1 for n in truth if n not in seen)
    phantoms = [n for n in seen if n not in world.object_names]
    return errors, missed, phantoms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--size", default="320x240")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    world = TabletopWorld(camera_size=(width, height), renderer="tiny")
    vision, state = SkillContext(world, "vision"), SkillContext(world, "state")
    all_errors: list[float] = []
    print(f"{'task':<26}{'objects':>8}{'median mm':>11}{'p95 mm':>9}{'missed':>8}{'phantoms':>10}")
    start = time.perf_counter()
    for name, task in TASKS.items():
        errors: list[float] = []
        missed = 0
        phantoms: list[str] = []
        for seed in range(args.seeds):
            world.build(task.sample(seed).placements)
            e, m, p = measure(world, vision, state)
            errors += e
            missed += m
            phantoms += p
        all_errors += errors
        mm = np.array(errors) * 1000
        row = f"{name:<26}{len(errors):>8}{np.median(mm):>11.1f}{np.percentile(mm, 95):>9.1f}"
        print(f"{row}{missed:>8}{len(phantoms):>10}")
    mm = np.array(all_errors) * 1000
    print(
        f"\nall tasks, {args.seeds} seeds each, {width}x{height}: {len(mm)} objects, "
        f"median {np.median(mm):.1f} mm, 95th percentile {np.percentile(mm, 95):.1f} mm "
        f"({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()
