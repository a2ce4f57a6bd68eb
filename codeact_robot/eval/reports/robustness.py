"""Robustness: each agent's success drop under each perturbation, relative to its unperturbed episodes.

A suite such as ``robustness`` runs one agent several times, once plainly and once under
each perturbation (the environment's ``perturbation`` setting, LIBERO-PRO style). Agents of
a suite whose settings are the same but for their name, ``perturbation`` and ``physics`` are the same
agent; the one without a perturbation is the baseline, and each other one is compared with
it on the (task, seed, repeat) episodes both ran. The definition is read as data: an agent
entry that is not a mapping, or one without settings, is simply not grouped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from codeact_robot.eval.reports.stats import PairedDifference
from codeact_robot.eval.results.rows import EpisodeRow

Compare = Callable[[str, Iterable[EpisodeRow], str, Iterable[EpisodeRow]], Any]


@dataclass(frozen=True)
class PerturbationDrop:
    """One agent's success without and with one perturbation.

    Attributes:
        agent: the unperturbed agent's name.
        perturbed: the perturbed agent's name.
        perturbation: what is perturbed, e.g. ``"paraphrase"`` or ``"distractors=3"``.
        drop: the paired difference unperturbed − perturbed (its ``difference`` is the drop).
    """

    agent: str
    perturbed: str
    perturbation: str
    drop: PairedDifference


PERTURBING = ("perturbation", "physics")  # the environment settings that perturb an agent's episodes


def perturbation_label(env: Mapping[str, Any]) -> str:
    """``"paraphrase+physics.grasp_slip=0.1"``: the perturbations that are on ("" when none is)."""
    parts = []
    for setting in PERTURBING:
        values = env.get(setting) if isinstance(env.get(setting), dict) else {}
        prefix = "" if setting == "perturbation" else f"{setting}."
        parts += [
            prefix + name if value is True else f"{prefix}{name}={value}" for name, value in values.items() if value
        ]
    return "+".join(parts)


def perturbation_drops(
    definition: Any, by_agent: Mapping[str, list[EpisodeRow]], compare: Compare
) -> list[PerturbationDrop]:
    """Every perturbed agent of a suite against its unperturbed twin.

    Args:
        definition: the suite's stored definition (parsed JSON; anything else yields nothing).
        by_agent: the suite's episodes by agent name.
        compare: the report's paired comparison (``a`` unperturbed, ``b`` perturbed); it
            returns None when the two ran no episode in common.
    """
    agents = definition.get("agents") if isinstance(definition, dict) else None
    groups: dict[str, dict[str, str]] = {}  # the settings but name and perturbations -> label -> agent name
    for agent in agents if isinstance(agents, list) else []:
        env = agent.get("env") if isinstance(agent, dict) else None
        if not isinstance(env, dict) or agent.get("name") not in by_agent:
            continue
        rest = {**agent, "name": None, "env": {**env, **dict.fromkeys(PERTURBING)}}
        groups.setdefault(json.dumps(rest, sort_keys=True), {})[perturbation_label(env)] = agent["name"]
    drops = []
    for twins in groups.values():
        baseline = twins.get("")
        for label, name in twins.items():
            if baseline is None or not label:
                continue
            comparison = compare(baseline, by_agent[baseline], name, by_agent[name])
            if comparison is not None:
                drops.append(PerturbationDrop(baseline, name, label, comparison.overall))
    return drops
