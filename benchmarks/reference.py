"""The scripted expert over every task family: success rate, turns, wall and simulated time.

Runs each family's reference program through the full loop (agent, worker process,
sandbox, skills) for N seeds in each perception mode, prints a markdown table and the
failures with the task's own explanation. Also times one pick_and_place between two
fixed spots.

    python benchmarks/reference.py [--seeds 20] [--modes state vision] [--jobs 2]
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from codeact_robot.agent.session import run_episode
from codeact_robot.agent.trajectory import EpisodeRecord
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.state import ObjectPlacement
from codeact_robot.envs.tasks import TASKS
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.expert import ExpertBackend
from codeact_robot.skills import bind
from codeact_robot.skills.context import SkillContext


def episode_figures(seed: int, record: EpisodeRecord, start: float) -> dict[str, Any]:
    """What the tables report of one expert episode that began at ``time.perf_counter()`` = start."""
    return {
        "seed": seed,
        "success": record.success,
        "outcome": record.outcome,
        "check": record.check,
        "turns": len(record.turns),
        "wall_s": time.perf_counter() - start,
        "sim_s": record.totals()["sim_s"],
    }


def family(task: str, perception: str, seeds: int) -> dict[str, Any]:
    """Run one family's seeds; return per-episode outcomes and times."""
    env = CodeActEnv(task=task, perception=perception, renderer="tiny")
    episodes = []
    try:
        for seed in range(seeds):
            start = time.perf_counter()
            record = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
            episodes.append(episode_figures(seed, record, start))
    finally:
        env.close()
    return {"task": task, "perception": perception, "episodes": episodes}


def pick_and_place_timing(repeats: int = 5) -> tuple[float, float]:
    """Median wall and simulated seconds of pick_and_place between two fixed spots (state mode, in process)."""
    world = TabletopWorld(renderer="tiny")
    walls, sims = [], []
    for _ in range(repeats):
        world.build(
            [ObjectPlacement("block", "red", (0.35, 0.15, 0.02)), ObjectPlacement("block", "blue", (0.55, -0.15, 0.02))]
        )
        skills = bind(SkillContext(world, "state"))
        start_wall, start_sim = time.perf_counter(), world.time
        assert skills["pick_and_place"]("red block", [0.55, 0.15])
        walls.append(time.perf_counter() - start_wall)
        sims.append(world.time - start_sim)
    world.close()
    return statistics.median(walls), statistics.median(sims)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--modes", nargs="+", default=["state", "vision"])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()

    wall, sim = pick_and_place_timing()
    print(
        f"pick_and_place between two fixed spots: {wall:.2f} s wall, {sim:.2f} s simulated "
        f"({sim / wall:.1f}x faster than real time)\n"
    )

    jobs = [(task, mode, args.seeds) for mode in args.modes for task in TASKS]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(family, *zip(*jobs)))
    by_key = {(r["task"], r["perception"]): r["episodes"] for r in results}

    header = "| family | split | " + " | ".join(f"{m} success" for m in args.modes)
    header += " | turns (state) | wall s/episode (state) | simulated s/episode (state) | sim / wall |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    totals = {m: [0, 0] for m in args.modes}
    for task, spec in TASKS.items():
        cells = []
        for mode in args.modes:
            episodes = by_key[(task, mode)]
            wins = sum(e["success"] for e in episodes)
            totals[mode][0] += wins
            totals[mode][1] += len(episodes)
            cells.append(f"{wins}/{len(episodes)} ({100 * wins / len(episodes):.0f}%)")
        state = by_key.get((task, "state")) or by_key[(task, args.modes[0])]
        wall_s = statistics.mean(e["wall_s"] for e in state)
        sim_s = statistics.mean(e["sim_s"] for e in state)
        turns = statistics.mean(e["turns"] for e in state)
        print(
            f"| {task} | {spec.split} | "
            + " | ".join(cells)
            + f" | {turns:.1f} | {wall_s:.2f} | {sim_s:.1f} | {sim_s / wall_s:.1f}x |"
        )
    print("| **all** | | " + " | ".join(f"**{w}/{n} ({100 * w / n:.1f}%)**" for w, n in totals.values()) + " | | | | |")

    failures = [(task, mode, e) for (task, mode), episodes in by_key.items() for e in episodes if not e["success"]]
    print(f"\nfailures ({len(failures)}):")
    for task, mode, e in failures:
        print(f"- {task} seed {e['seed']} ({mode}): {e['outcome']}; {e['check']}")


if __name__ == "__main__":
    main()
