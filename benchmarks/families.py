"""The scripted expert on chosen task families and seeds: success per family, turns, times, failures.

Runs each family's reference program through the full loop (agent, worker process,
sandbox, skills) and prints a markdown table and every failure with the task's own
explanation. Families are named one by one or by group (``GROUPS``: a group added to
``codeact_robot.envs.tasks`` is added there too); seeds are a range, so held-out seeds
can be asked for apart from those the tests use.

    python benchmarks/families.py --tasks arrangements --seeds 100-119 --colours unseen [--modes state] [--jobs 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from reference import episode_figures  # a sibling script: run as python benchmarks/families.py

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.objects import COLOUR_SPLITS
from codeact_robot.envs.tasks import ARRANGEMENT_FAMILIES, CAP_FAMILIES, TASKS
from codeact_robot.expert import ExpertBackend

GROUPS: dict[str, tuple[str, ...]] = {
    "cap": tuple(t.name for t in CAP_FAMILIES),
    "arrangements": tuple(t.name for t in ARRANGEMENT_FAMILIES),
    "all": tuple(TASKS),
}
"""Names that stand for several families in ``--tasks``."""


def family(task: str, perception: str, colours: str, seeds: list[int]) -> dict[str, Any]:
    """Run one family's seeds; return per-episode outcomes and times."""
    env = CodeActEnv(task=task, perception=perception, colours=colours, renderer="tiny")
    episodes = []
    try:
        for seed in seeds:
            start = time.perf_counter()
            try:
                record = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
            except Exception as error:  # one broken episode is a failure in the table, not the end of the run
                episodes.append({"seed": seed, "success": False, "outcome": "error", "check": repr(error)})
                continue
            episodes.append(episode_figures(seed, record, start))
    finally:
        env.close()
    wins = sum(e["success"] for e in episodes)
    print(f"{task} ({perception}): {wins}/{len(episodes)}", file=sys.stderr, flush=True)  # progress
    return {"task": task, "perception": perception, "episodes": episodes}


def task_names(names: list[str]) -> list[str]:
    """Families and groups expanded to family names, in order, each once.

    Raises:
        ValueError: an unknown name, naming the valid ones.
    """
    chosen: list[str] = []
    for name in names:
        if name not in GROUPS and name not in TASKS:
            raise ValueError(
                f"unknown task or group {name!r}; groups are: {', '.join(GROUPS)}; tasks are: {', '.join(TASKS)}"
            )
        chosen += [n for n in GROUPS.get(name, (name,)) if n not in chosen]
    return chosen


def seed_range(text: str) -> list[int]:
    """``"100-119"`` -> [100, ..., 119]; ``"5"`` -> [0, ..., 4]."""
    try:
        if "-" in text:
            first, last = (int(part) for part in text.split("-", 1))
            seeds = list(range(first, last + 1))
        else:
            seeds = list(range(int(text)))
    except ValueError:
        seeds = []
    if not seeds or seeds[0] < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed range; give a count (20) or FIRST-LAST (100-119)")
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["arrangements"], help="families or groups: " + ", ".join(GROUPS))
    parser.add_argument("--seeds", type=seed_range, default=seed_range("100-119"), help="a count or FIRST-LAST")
    parser.add_argument("--colours", choices=list(COLOUR_SPLITS), default="unseen")
    parser.add_argument("--modes", nargs="+", choices=["state", "vision"], default=["state"])
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    try:
        tasks = task_names(args.tasks)
    except ValueError as error:
        parser.error(str(error))

    jobs = [(task, mode, args.colours, args.seeds) for mode in args.modes for task in tasks]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(family, *zip(*jobs)))
    by_key = {(r["task"], r["perception"]): r["episodes"] for r in results}

    print(f"seeds {args.seeds[0]}-{args.seeds[-1]}, {args.colours} colours\n")
    header = "| family | split | " + " | ".join(f"{m} success" for m in args.modes)
    header += f" | turns ({args.modes[0]}) | wall s/episode | simulated s/episode |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for task in tasks:
        cells = []
        for mode in args.modes:
            wins = sum(e["success"] for e in by_key[(task, mode)])
            cells.append(f"{wins}/{len(args.seeds)} ({100 * wins / len(args.seeds):.0f}%)")
        first = [e for e in by_key[(task, args.modes[0])] if "turns" in e] or [{"turns": 0, "wall_s": 0, "sim_s": 0}]
        turns = statistics.mean(e["turns"] for e in first)
        wall_s = statistics.mean(e["wall_s"] for e in first)
        sim_s = statistics.mean(e["sim_s"] for e in first)
        print(
            f"| {task} | {TASKS[task].split} | " + " | ".join(cells) + f" | {turns:.1f} | {wall_s:.1f} | {sim_s:.1f} |"
        )

    failures = [(task, mode, e) for (task, mode), episodes in by_key.items() for e in episodes if not e["success"]]
    print(f"\nfailures ({len(failures)}):")
    for task, mode, e in failures:
        print(f"- {task} seed {e['seed']} ({mode}): {e['outcome']}; {e['check']}")


if __name__ == "__main__":
    main()
