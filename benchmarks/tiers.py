"""The scripted expert at every API tier: success per task family, tier and perception mode.

Runs each family's program (the tier's prelude + helpers + the family's file) through the
full loop (agent, worker process, sandbox, skills) on unseen seeds, for the high and
primitive tiers in both perception modes and for the pixels tier (which has no object
state, so no perception mode), prints a markdown table and every failure's last error.
Imperfect physics can be switched on for the whole table.

    python benchmarks/tiers.py [--seeds 10] [--first-seed 1000] [--tiers high primitive pixels]
        [--tasks PickPlace ...] [--perceptions state vision] [--jobs 2]
        [--physics grasp_slip=0.1 disturbance=0.2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import TASKS
from codeact_robot.expert import ExpertBackend
from codeact_robot.skills.registry import TIERS, has_object_state

PERCEPTIONS = ("state", "vision")


def columns(tiers: list[str], perceptions: list[str]) -> list[tuple[str, str]]:
    """(tier, perception) pairs: each perception mode where the tier has object state, else state only."""
    return [(api, p) for api in tiers for p in (perceptions if has_object_state(api) else PERCEPTIONS[:1])]


def family(task: str, api: str, perception: str, seeds: list[int], physics: dict[str, float]) -> dict[str, Any]:
    """Run one family's seeds at one tier and perception mode; per-episode outcomes."""
    env = CodeActEnv(task=task, perception=perception, api=api, physics=physics, renderer="tiny")
    episodes = []
    try:
        for seed in seeds:
            start = time.perf_counter()
            record = run_episode(env, ExpertBackend(env.instance_for(seed), api), seed=seed)
            last_error = next((t.report.error for t in reversed(record.turns) if t.report and t.report.error), None)
            episodes.append(
                {
                    "seed": seed,
                    "success": record.success,
                    "outcome": record.outcome,
                    "turns": len(record.turns),
                    "wall_s": time.perf_counter() - start,
                    "error": (last_error or "").strip().splitlines()[-1:] or [record.check],
                }
            )
    finally:
        env.close()
    return {"task": task, "api": api, "perception": perception, "episodes": episodes}


def physics_settings(pairs: list[str]) -> dict[str, float]:
    """``name=value`` pairs as PhysicsConfig fields."""
    settings = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        settings[name] = float(value)
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=1000, help="unseen seeds start here (tests use 0-99)")
    parser.add_argument("--tiers", nargs="+", default=list(TIERS), choices=TIERS)
    parser.add_argument("--tasks", nargs="+", default=[t for t in TASKS if TASKS[t].has_check])
    parser.add_argument("--perceptions", nargs="+", default=list(PERCEPTIONS), choices=PERCEPTIONS)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--physics", nargs="*", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    physics = physics_settings(args.physics)
    pairs = columns(args.tiers, args.perceptions)
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(family, task, api, perception, seeds, physics)
            for api, perception in pairs
            for task in args.tasks
        ]
        results = []
        for future in as_completed(futures):  # a line per family as it finishes: a cut-short run still tells
            result = future.result()
            results.append(result)
            won = sum(e["success"] for e in result["episodes"])
            print(f"{result['task']} {result['api']}/{result['perception']}: {won}/{len(seeds)}", flush=True)
    by_key = {(r["task"], r["api"], r["perception"]): r["episodes"] for r in results}
    print(f"seeds {seeds[0]}-{seeds[-1]} per family and column; physics {physics or 'perfect'}")
    print(f"{time.perf_counter() - start:.0f} s wall with {args.jobs} jobs\n")
    header = " | ".join(f"{api} {perception if has_object_state(api) else ''}".strip() for api, perception in pairs)
    print(f"| family | {header} |")
    print("|---|" + "---:|" * len(pairs))
    totals = {pair: [0, 0] for pair in pairs}
    for task in args.tasks:
        cells = []
        for pair in pairs:
            episodes = by_key[(task, *pair)]
            won = sum(e["success"] for e in episodes)
            totals[pair][0] += won
            totals[pair][1] += len(episodes)
            cells.append(f"{won}/{len(episodes)}")
        print(f"| {task} | " + " | ".join(cells) + " |")
    print("| **all** | " + " | ".join(f"**{w}/{n} ({100 * w / n:.1f}%)**" for w, n in totals.values()) + " |")
    failures = [(key, e) for key, episodes in by_key.items() for e in episodes if not e["success"]]
    if failures:
        print("\nFailures:")
        for (task, api, perception), e in failures:
            print(
                f"- {task} {api}/{perception} seed {e['seed']}: {e['outcome']} after {e['turns']} turns: {e['error']}"
            )


if __name__ == "__main__":
    main()
