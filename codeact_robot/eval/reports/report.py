"""The numbers of a report, computed once from a results store and rendered many ways.

:func:`build_report` reads every episode's flat metrics (never the transcripts), checks
each row, and computes per suite and per agent: success per task family and per split
with 95% Wilson intervals, mean turns, tokens, times, failure kinds, and paired
comparisons between every two agents of a suite that ran the same (task, seed, repeat)
episodes. Episodes that could not run (outcome ``error``) are counted apart and never as
task failures. The terminal, Markdown, HTML and JSON renderings all read a :class:`Report`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from codeact_robot.config import ActionMode
from codeact_robot.envs.tasks import TASKS
from codeact_robot.errors import UsageError, unknown_name_error
from codeact_robot.eval.reports.prices import PriceTable
from codeact_robot.eval.reports.robustness import PerturbationDrop, perturbation_drops
from codeact_robot.eval.reports.stats import PairedDifference, Rate, paired_difference, wilson
from codeact_robot.eval.results.failures import FAILURE_KINDS
from codeact_robot.eval.results.rows import SPLITS, EpisodeRow, check_rows, mean, scored
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.skills.registry import TIERS

MODES = get_args(ActionMode)
PairKey = tuple[str, int, int]  # task, seed, repeat


@dataclass(frozen=True)
class KindCount:
    """How many scored episodes ended with a failure kind, and their share."""

    count: int
    share: float


@dataclass(frozen=True)
class AgentReport:
    """One agent of a suite.

    Attributes:
        name: the agent's name in the suite.
        mode: its action mode (several joined by ", " if its episodes differ).
        api: its API tier (likewise).
        model: its model name (likewise).
        episodes: episodes scored (infrastructure errors left out).
        infrastructure_errors: episodes that could not run.
        success: the success rate over all scored episodes.
        families: task family -> success rate.
        splits: ``seen``/``unseen``/``feedback`` -> success rate (splits it ran).
        mean_turns: model turns per episode.
        mean_prompt_tokens, mean_completion_tokens: per episode (None when unknown).
        tokens_per_success: all tokens spent / successes (None without either).
        mean_cost_usd, cost_per_success_usd: US dollars per episode and per success, from the
            price table (None unless every scored episode's model has a price and its tokens
            are known).
        mean_llm_s, mean_sim_s, mean_wall_s: model, simulated and wall-clock seconds per episode.
        failure_kinds: kind -> count and share of the scored episodes (kinds that occurred).
        turns_histogram: number of turns -> episodes.
    """

    name: str
    mode: str
    api: str
    model: str
    episodes: int
    infrastructure_errors: int
    success: Rate
    families: dict[str, Rate]
    splits: dict[str, Rate]
    mean_turns: float | None
    mean_prompt_tokens: float | None
    mean_completion_tokens: float | None
    tokens_per_success: float | None
    mean_cost_usd: float | None
    cost_per_success_usd: float | None
    mean_llm_s: float | None
    mean_sim_s: float | None
    mean_wall_s: float | None
    failure_kinds: dict[str, KindCount]
    turns_histogram: dict[int, int]


@dataclass(frozen=True)
class Comparison:
    """Agent ``a`` against agent ``b`` on the episodes both ran (paired by task, seed, repeat).

    Attributes:
        a, b: the agents' names.
        overall: the difference over every pair.
        families: task family -> the difference over that family's pairs.
    """

    a: str
    b: str
    overall: PairedDifference
    families: dict[str, PairedDifference]


@dataclass(frozen=True)
class ModeRow:
    """A row of the CodeAct paper's table: one model in one action mode."""

    model: str
    mode: str
    success: Rate
    mean_turns: float | None


@dataclass(frozen=True)
class TierRow:
    """Success on one API tier, over every agent that ran it."""

    api: str
    episodes: int
    success: Rate
    mean_turns: float | None


@dataclass(frozen=True)
class SuiteReport:
    """Everything about one suite evaluated in the store.

    Attributes:
        name, suite_hash, heldout: the suite.
        episodes: its episodes, infrastructure errors included.
        agents: one report per agent, in the suite's order.
        comparisons: every pair of agents that ran common episodes.
        modes: success and turns per (model, action mode).
        tiers: success and turns per API tier.
        robustness: each perturbed agent's success drop against its unperturbed twin.
    """

    name: str
    suite_hash: str
    heldout: bool
    episodes: int
    agents: list[AgentReport]
    comparisons: list[Comparison]
    modes: list[ModeRow]
    tiers: list[TierRow]
    robustness: list[PerturbationDrop]


@dataclass(frozen=True)
class Report:
    """A results store's report.

    Attributes:
        folder: the evaluation folder.
        episodes: readable episodes.
        skipped: one line for each row that could not be read (left out of every number).
        suites: one report per suite.
        compared: the comparison asked for by name (``--compare A B``), if any.
    """

    folder: str
    episodes: int
    skipped: list[str]
    suites: list[SuiteReport]
    compared: Comparison | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json`` (the shape is documented in docs/reports.md)."""
        return dataclasses.asdict(self)


def load_report(folder: str | Path, compare: Sequence[str] | None = None, prices: PriceTable | None = None) -> Report:
    """Open the store in ``folder`` read-only and build its report (see :func:`build_report`).

    Raises:
        UsageError: no store there, or ``compare`` names an agent the store lacks.
    """
    store = ResultsStore(folder, read_only=True)
    try:
        return build_report(store, compare, prices)
    finally:
        store.close()


def build_report(store: ResultsStore, compare: Sequence[str] | None = None, prices: PriceTable | None = None) -> Report:
    """The report of every suite in a store.

    Args:
        store: the results store.
        compare: two agent names (``AGENT`` or ``SUITE:AGENT``) to compare on their common episodes.
        prices: the models' token prices (None or an empty table: no costs).

    Raises:
        UsageError: ``compare`` names an unknown agent, or one that ran the same episode in several suites.
    """
    checked = check_rows(store.summaries())
    by_suite: dict[str, list[EpisodeRow]] = defaultdict(list)
    for episode in checked.episodes:
        by_suite[episode.suite_hash].append(episode)
    known = {s["suite_hash"]: s for s in store.suites()}
    suites = []
    for suite_hash in sorted(by_suite, key=lambda h: (known.get(h, {}).get("created_at", ""), h)):
        info = known.get(suite_hash, {"name": suite_hash[:12], "heldout": False, "definition": None})
        suites.append(_suite_report(info, suite_hash, by_suite[suite_hash], prices or PriceTable()))
    compared = None
    if compare:
        if compare[0] == compare[1]:
            raise UsageError(f"--compare needs two different agents, got {compare[0]!r} twice")
        a, b = (_agent_episodes(name, suites, by_suite, known) for name in compare)
        compared = compare_agents(compare[0], a, compare[1], b)
        if compared is None:
            raise UsageError(f"agents {compare[0]!r} and {compare[1]!r} ran no episode in common to compare")
    return Report(str(store.folder), len(checked.episodes), checked.problems, suites, compared)


def compare_agents(a_name: str, a: Iterable[EpisodeRow], b_name: str, b: Iterable[EpisodeRow]) -> Comparison | None:
    """Paired comparison over the (task, seed, repeat) both agents ran; None if they share none."""
    a_results = _by_key(a)
    b_results = _by_key(b)
    common = sorted(set(a_results) & set(b_results), key=lambda k: (family_order(k[0]), k))
    if not common:
        return None
    families = {}
    for family, keys in itertools.groupby(common, key=lambda k: k[0]):
        keys = list(keys)
        families[family] = paired_difference([a_results[k] for k in keys], [b_results[k] for k in keys])
    overall = paired_difference([a_results[k] for k in common], [b_results[k] for k in common])
    return Comparison(a_name, b_name, overall, families)


def agent_report(name: str, episodes: Sequence[EpisodeRow], prices: PriceTable | None = None) -> AgentReport:
    """The numbers of one agent over its episodes (infrastructure errors counted apart), costs from ``prices``."""
    counted = list(scored(episodes))
    successes = [e for e in counted if e.success]
    tokens = [e.tokens for e in counted if e.tokens is not None]
    kinds = Counter(e.failure_kind for e in counted)
    costs = [episode_cost(e, prices or PriceTable()) for e in counted]
    known = [c for c in costs if c is not None] if counted and None not in costs else []
    return AgentReport(
        name=name,
        mode=_joined(e.mode for e in episodes),
        api=_joined(e.api for e in episodes),
        model=_joined(e.model for e in episodes),
        episodes=len(counted),
        infrastructure_errors=len(episodes) - len(counted),
        success=wilson(len(successes), len(counted)),
        families=_rates(counted, key=lambda e: e.task, order=family_order),
        splits=_rates(counted, key=lambda e: e.split, order=split_order),
        mean_turns=mean(e.turns for e in counted),
        mean_prompt_tokens=mean(e.prompt_tokens for e in counted if e.prompt_tokens is not None),
        mean_completion_tokens=mean(e.completion_tokens for e in counted if e.completion_tokens is not None),
        tokens_per_success=sum(tokens) / len(successes) if tokens and successes else None,
        mean_cost_usd=mean(known) if known else None,
        cost_per_success_usd=sum(known) / len(successes) if known and successes else None,
        mean_llm_s=mean(e.llm_s for e in counted),
        mean_sim_s=mean(e.sim_s for e in counted),
        mean_wall_s=mean(e.wall_s for e in counted),
        failure_kinds={
            kind: KindCount(kinds[kind], kinds[kind] / len(counted)) for kind in sorted(kinds, key=kind_order)
        },
        turns_histogram=dict(sorted(Counter(e.turns for e in counted).items())),
    )


def episode_cost(episode: EpisodeRow, prices: PriceTable) -> float | None:
    """An episode's cost in US dollars: None without a price for its model, or with turns whose tokens are unknown."""
    price = prices.models.get(episode.model)
    if price is None or (episode.turns and (episode.prompt_tokens is None or episode.completion_tokens is None)):
        return None
    return price.cost(episode.prompt_tokens or 0, episode.completion_tokens or 0)


def _suite_report(info: dict[str, Any], suite_hash: str, episodes: list[EpisodeRow], prices: PriceTable) -> SuiteReport:
    by_agent: dict[str, list[EpisodeRow]] = defaultdict(list)
    for episode in episodes:
        by_agent[episode.agent].append(episode)
    names = _agent_order(info.get("definition"), by_agent)
    agents = [agent_report(name, by_agent[name], prices) for name in names]
    comparisons = [
        comparison
        for a, b in itertools.combinations(names, 2)
        if (comparison := compare_agents(a, by_agent[a], b, by_agent[b])) is not None
    ]
    return SuiteReport(
        name=str(info["name"]),
        suite_hash=suite_hash,
        heldout=bool(info["heldout"]),
        episodes=len(episodes),
        agents=agents,
        comparisons=comparisons,
        modes=_mode_rows(episodes),
        tiers=_tier_rows(episodes),
        robustness=perturbation_drops(info.get("definition"), by_agent, compare_agents),
    )


def _mode_rows(episodes: list[EpisodeRow]) -> list[ModeRow]:
    groups: dict[tuple[str, str], list[EpisodeRow]] = defaultdict(list)
    for episode in scored(episodes):
        groups[(episode.model, episode.mode)].append(episode)
    return [
        ModeRow(model, mode, wilson(sum(e.success for e in group), len(group)), mean(e.turns for e in group))
        for (model, mode), group in sorted(groups.items(), key=lambda item: (item[0][0], mode_order(item[0][1])))
    ]


def _tier_rows(episodes: list[EpisodeRow]) -> list[TierRow]:
    groups: dict[str, list[EpisodeRow]] = defaultdict(list)
    for episode in scored(episodes):
        groups[episode.api].append(episode)
    return [
        TierRow(api, len(group), wilson(sum(e.success for e in group), len(group)), mean(e.turns for e in group))
        for api, group in sorted(groups.items(), key=lambda item: tier_order(item[0]))
    ]


def _agent_order(definition: Any, by_agent: dict[str, list[EpisodeRow]]) -> list[str]:
    """The suite definition's agent order where it gives one, then the store's order."""
    declared = []
    if isinstance(definition, dict) and isinstance(definition.get("agents"), list):
        declared = [a.get("name") for a in definition["agents"] if isinstance(a, dict)]
    present = [name for name in declared if name in by_agent]
    return present + [name for name in by_agent if name not in present]


def _agent_episodes(
    name: str,
    suites: list[SuiteReport],
    by_suite: dict[str, list[EpisodeRow]],
    known: dict[str, dict[str, Any]],
) -> list[EpisodeRow]:
    """The episodes of an agent named ``AGENT`` (in any suite) or ``SUITE:AGENT``."""
    everyone = [(s, e) for s in suites for e in by_suite[s.suite_hash]]
    episodes = [e for _, e in everyone if e.agent == name]
    if not episodes and ":" in name:
        suite_name, _, agent = name.partition(":")
        episodes = [e for s, e in everyone if s.name == suite_name and e.agent == agent]
    if not episodes:
        agents = [(s.name, a.name) for s in suites for a in s.agents]
        raise unknown_name_error("agent", name, sorted({a for _, a in agents} | {f"{s}:{a}" for s, a in agents}))
    keys = Counter((e.task, e.seed, e.repeat) for e in scored(episodes))
    if any(count > 1 for count in keys.values()):
        in_suites = sorted({str(known.get(e.suite_hash, {}).get("name", e.suite_hash)) for e in episodes})
        raise UsageError(
            f"agent {name!r} ran the same episodes in suites {', '.join(in_suites)}; name one as SUITE:AGENT"
        )
    return episodes


def _by_key(episodes: Iterable[EpisodeRow]) -> dict[PairKey, bool]:
    return {(e.task, e.seed, e.repeat): e.success for e in scored(episodes)}


def _rates(
    episodes: list[EpisodeRow], key: Callable[[EpisodeRow], str], order: Callable[[str], Any]
) -> dict[str, Rate]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for episode in episodes:
        groups[key(episode)].append(episode.success)
    return {name: wilson(sum(groups[name]), len(groups[name])) for name in sorted(groups, key=order)}


def _joined(values: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(values))


def _ordered(vocabulary: Sequence[str]) -> Callable[[str], tuple[int, str]]:
    """A sort key: the vocabulary's order first, then anything else alphabetically."""
    position = {name: i for i, name in enumerate(vocabulary)}
    return lambda name: (position.get(name, len(position)), name)


family_order = _ordered(list(TASKS))
"""Sort key of task families: the task table's order, then unknown names alphabetically."""
split_order = _ordered(SPLITS)
kind_order = _ordered(FAILURE_KINDS)
"""Sort key of failure kinds: the vocabulary's order, then unknown kinds alphabetically."""
mode_order = _ordered(MODES)
tier_order = _ordered(TIERS)
