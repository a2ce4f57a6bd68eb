"""The scripted expert on task families under each perturbation (LIBERO-PRO style).

Runs each family's reference program through the full loop (agent, worker process,
sandbox, skills, state perception) for the given seeds, once unperturbed and once under
each perturbation, and prints a markdown table of success per family and perturbation,
then the failures with the task's own explanation.

    python benchmarks/perturbations.py [--tasks PushBoxOntoMat PutInDrawer ...] [--seeds 100:20]
        [--colours unseen] [--perturbations none paraphrase distractors unseen_colours layout_shift] [--jobs 1]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import TASKS
from codeact_robot.expert import ExpertBackend

INTERACTIVE = [name for name, task in TASKS.items() if task.split == "interactive"]
PERTURBATIONS: dict[str, dict[str, Any]] = {
    "none": {},
    "paraphrase": {"paraphrase": True},
    "distractors": {"distractors": 3},
    "unseen_colours": {"unseen_colours": True},
    "layout_shift": {"layout_shift": 0.05},
}


def family(task: str, perturbation: str, seeds: list[int], colours: str) -> dict[str, Any]:
    """Run one family's seeds under one perturbation; return per-episode outcomes."""
    env = CodeActEnv(task=task, renderer="tiny", colours=colours, perturbation=PERTURBATIONS[perturbation])
    episodes = []
    try:
        for seed in seeds:
            record = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
            episodes.append({"seed": seed, "success": record.success, "outcome": record.outcome, "check": record.check})
    finally:
        env.close()
    return {"task": task, "perturbation": perturbation, "episodes": episodes}


def seed_range(text: str) -> list[int]:
    """``START:COUNT`` as a list of seeds."""
    start, _, count = text.partition(":")
    return list(range(int(start), int(start) + int(count or 1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=INTERACTIVE, choices=list(TASKS))
    parser.add_argument("--seeds", type=seed_range, default=seed_range("100:20"), help="START:COUNT")
    parser.add_argument("--colours", default="unseen", choices=["seen", "unseen", "all"])
    parser.add_argument("--perturbations", nargs="+", default=list(PERTURBATIONS), choices=list(PERTURBATIONS))
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()

    jobs = [(task, p, args.seeds, args.colours) for p in args.perturbations for task in args.tasks]
    with ProcessPoolExecutor(args.jobs) as pool:
        results = list(pool.map(family, *zip(*jobs)))
    by_key = {(r["task"], r["perturbation"]): r["episodes"] for r in results}

    print("| family | " + " | ".join(args.perturbations) + " |")
    print("|---|" + "---|" * len(args.perturbations))
    for task in args.tasks:
        cells = []
        for p in args.perturbations:
            episodes = by_key[(task, p)]
            wins = sum(e["success"] for e in episodes)
            cells.append(f"{wins}/{len(episodes)}")
        print(f"| {task} | " + " | ".join(cells) + " |")
    failures = [(task, p, e) for (task, p), episodes in by_key.items() for e in episodes if not e["success"]]
    print(f"\nfailures ({len(failures)}):")
    for task, p, e in failures:
        print(f"- {task} seed {e['seed']} ({p}): {e['outcome']}; {e['check']}")


if __name__ == "__main__":
    main()
