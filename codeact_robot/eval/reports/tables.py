"""A report's tables, laid out once: the terminal, Markdown and HTML renderings draw these.

Each :class:`Cell` holds its text and, where a number stands for episodes, the viewer
filters that list them, so the HTML report links every row to its episodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from codeact_robot.eval.reports.report import AgentReport, Comparison, Report, SuiteReport, family_order, kind_order
from codeact_robot.eval.reports.stats import PairedDifference, Rate
from codeact_robot.eval.results.rows import SPLITS

DASH = "–"


@dataclass(frozen=True)
class Cell:
    """One table cell.

    Attributes:
        text: what it shows.
        link: viewer filters (``suite``, ``agent``, ``task``, ``split``, ``kind``, ``model``,
            ``mode``) listing the episodes behind it, or None.
        strong: shown emphasised (the totals row).
    """

    text: str
    link: Mapping[str, str] | None = None
    strong: bool = False


@dataclass(frozen=True)
class Table:
    """A titled table; the first ``labels`` columns hold names, the others numbers."""

    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    labels: int = 1
    note: str = ""
    key: str = field(default="", compare=False)


def percent(value: float | None) -> str:
    """``0.6912`` -> ``"69.1%"``; None -> a dash."""
    return DASH if value is None else f"{100 * value:.1f}%"


def rate_text(rate: Rate, counts: bool = True) -> str:
    """``"69.1% [62.7, 74.8] 154/223"``: the rate, its 95% interval and the counts."""
    if rate.rate is None or rate.low is None or rate.high is None:
        return DASH
    interval = f"{percent(rate.rate)} [{100 * rate.low:.1f}, {100 * rate.high:.1f}]"
    return f"{interval} {rate.successes}/{rate.episodes}" if counts else interval


def number(value: float | None, digits: int = 1) -> str:
    """A figure with thousands separators, or a dash for None."""
    return DASH if value is None else f"{value:,.{digits}f}"


def dollars(value: float | None) -> str:
    """US dollars with four decimals (an episode of a small model costs fractions of a cent), or a dash."""
    return DASH if value is None else f"${value:,.4f}"


def difference_text(difference: PairedDifference) -> str:
    """``"+12.0 pp [4.1, 19.9]"``: the difference in percentage points with its bootstrap interval."""
    value = f"{100 * difference.difference:+.1f} pp"
    if difference.low is None or difference.high is None:
        return value
    return f"{value} [{100 * difference.low:+.1f}, {100 * difference.high:+.1f}]"


def p_text(p_value: float) -> str:
    """A p-value with three significant digits (``"< 0.0001"`` below that)."""
    return "< 0.0001" if p_value < 1e-4 else f"{p_value:.3g}"


def report_tables(report: Report) -> list[tuple[SuiteReport | None, list[Table]]]:
    """Every suite's tables, then the comparison asked for by name (with suite None)."""
    found: list[tuple[SuiteReport | None, list[Table]]] = [(s, suite_tables(s)) for s in report.suites]
    if report.compared is not None:
        found.append((None, [comparison_table(report.compared, None)]))
    return found


def suite_tables(suite: SuiteReport) -> list[Table]:
    """The tables of one suite: agents, costs, families, failure kinds, modes, robustness, comparisons."""
    tables = [
        _success_table(suite),
        _cost_table(suite),
        _family_table(suite),
        _kind_table(suite),
    ]
    if len({row.mode for row in suite.modes}) > 1:
        tables.append(_mode_table(suite))
    if len(suite.tiers) > 1:
        tables.append(_tier_table(suite))
    if suite.robustness:
        tables.append(_robustness_table(suite))
    tables += [comparison_table(c, suite.suite_hash) for c in suite.comparisons]
    return tables


def _robustness_table(suite: SuiteReport) -> Table:
    """Each agent's success drop per perturbation, paired with its unperturbed episodes."""
    rows = [
        [
            Cell(row.agent, {"suite": suite.suite_hash, "agent": row.agent}),
            Cell(row.perturbation, {"suite": suite.suite_hash, "agent": row.perturbed}),
            Cell(str(row.drop.pairs)),
            Cell(percent(row.drop.a_rate)),
            Cell(percent(row.drop.b_rate)),
            Cell(difference_text(row.drop), strong=True),
            Cell(p_text(row.drop.p_value)),
        ]
        for row in suite.robustness
    ]
    return Table(
        title="Robustness: success drop per perturbation",
        columns=["agent", "perturbation", "pairs", "unperturbed", "perturbed", "drop [95% CI]", "McNemar p"],
        rows=rows,
        note="Drop = unperturbed − perturbed success over the episodes both ran (paired by task, seed and "
        "repeat); the perturbed agent is the one whose settings differ only in `perturbation`.",
        labels=2,
        key="robustness",
    )


def comparison_table(comparison: Comparison, suite_hash: str | None) -> Table:
    """A paired comparison: per family and overall, the difference A − B, its interval, McNemar's p."""
    a, b = comparison.a, comparison.b
    suite = {"suite": suite_hash} if suite_hash else {}
    rows = [
        _difference_row(family, difference, {**suite, "task": family})
        for family, difference in comparison.families.items()
    ]
    rows.append(_difference_row("all", comparison.overall, suite or None, strong=True))
    return Table(
        title=f"Paired comparison: {a} − {b}",
        columns=["family", "pairs", a, b, f"{a} − {b} [95% CI]", f"only {a}", f"only {b}", "McNemar p"],
        rows=rows,
        note="Paired by task, seed and repeat. Interval: paired bootstrap (10,000 resamples, seed 0); "
        "p: exact McNemar test on the discordant pairs.",
        key="comparison",
    )


def _difference_row(
    label: str, difference: PairedDifference, link: Mapping[str, str] | None, strong: bool = False
) -> list[Cell]:
    texts = [
        str(difference.pairs),
        percent(difference.a_rate),
        percent(difference.b_rate),
        difference_text(difference),
        str(difference.a_only),
        str(difference.b_only),
        p_text(difference.p_value),
    ]
    return [Cell(label, link, strong), *(Cell(t, strong=strong) for t in texts)]


def _agent_link(suite: SuiteReport, agent: AgentReport, **filters: str) -> dict[str, str]:
    return {"suite": suite.suite_hash, "agent": agent.name, **filters}


def _success_table(suite: SuiteReport) -> Table:
    splits = [s for s in SPLITS if any(s in a.splits for a in suite.agents)]
    others = sorted({s for a in suite.agents for s in a.splits} - set(SPLITS))
    rows = []
    for agent in suite.agents:
        row = [
            Cell(agent.name, _agent_link(suite, agent)),
            Cell(agent.mode),
            Cell(agent.api),
            Cell(agent.model),
            Cell(str(agent.episodes)),
            Cell(rate_text(agent.success), _agent_link(suite, agent)),
        ]
        for split in [*splits, *others]:
            rate = agent.splits.get(split)
            text = rate_text(rate, counts=False) if rate else DASH
            row.append(Cell(text, _agent_link(suite, agent, split=split)))
        row.append(Cell(str(agent.infrastructure_errors), _agent_link(suite, agent, kind="error")))
        rows.append(row)
    return Table(
        title="Success",
        columns=["agent", "mode", "api", "model", "episodes", "success [95% CI]", *splits, *others, "infra errors"],
        rows=rows,
        labels=4,
        note="Success rates with 95% Wilson intervals; episodes that could not run (infra errors) are left out.",
        key="success",
    )


def _cost_table(suite: SuiteReport) -> Table:
    priced = any(agent.mean_cost_usd is not None for agent in suite.agents)  # dollars only where a price is known
    rows = [
        [
            Cell(agent.name, _agent_link(suite, agent)),
            Cell(number(agent.mean_turns, 2)),
            Cell(number(agent.mean_prompt_tokens, 0)),
            Cell(number(agent.mean_completion_tokens, 0)),
            Cell(number(agent.tokens_per_success, 0)),
            *([Cell(dollars(agent.mean_cost_usd)), Cell(dollars(agent.cost_per_success_usd))] if priced else []),
            Cell(number(agent.mean_llm_s, 2)),
            Cell(number(agent.mean_sim_s, 2)),
            Cell(number(agent.mean_wall_s, 2)),
        ]
        for agent in suite.agents
    ]
    return Table(
        title="Turns, tokens and time (means per episode)",
        columns=[
            "agent",
            "turns",
            "prompt tokens",
            "completion tokens",
            "tokens per success",
            *(["$ per episode", "$ per success"] if priced else []),
            "model s",
            "simulated s",
            "wall s",
        ],
        rows=rows,
        note="Dollars from the price table (prices.yaml in the user's configuration folder, or report --prices)."
        if priced
        else "",
        key="cost",
    )


def _family_table(suite: SuiteReport) -> Table:
    def text(agent: AgentReport, family: str) -> str:
        rate = agent.families.get(family)
        return rate_text(rate) if rate else DASH

    return _per_agent_table(
        suite,
        "Success per task family [95% Wilson interval] successes/episodes",
        ("family", "task", "families"),
        sorted({f for a in suite.agents for f in a.families}, key=family_order),
        text,
    )


def _kind_table(suite: SuiteReport) -> Table:
    def text(agent: AgentReport, kind: str) -> str:
        found = agent.failure_kinds.get(kind)
        return f"{found.count} ({percent(found.share)})" if found else "0"

    return _per_agent_table(
        suite,
        "Failure kinds (count and share of each agent's episodes)",
        ("failure kind", "kind", "kinds"),
        sorted({k for a in suite.agents for k in a.failure_kinds}, key=kind_order),
        text,
    )


def _per_agent_table(
    suite: SuiteReport,
    title: str,
    names: tuple[str, str, str],
    values: list[str],
    text: Callable[[AgentReport, str], str],
) -> Table:
    """One row per value, one column per agent, each cell linking to that agent's episodes of it.

    Args:
        names: the first column's heading, the episode filter a value is, the table's key.
    """
    heading, filtered_by, key = names
    rows = [
        [
            Cell(value, {"suite": suite.suite_hash, filtered_by: value}),
            *(Cell(text(agent, value), _agent_link(suite, agent, **{filtered_by: value})) for agent in suite.agents),
        ]
        for value in values
    ]
    return Table(title=title, columns=[heading, *(a.name for a in suite.agents)], rows=rows, key=key)


def _tier_table(suite: SuiteReport) -> Table:
    rows = [
        [Cell(row.api), Cell(str(row.episodes)), Cell(rate_text(row.success)), Cell(number(row.mean_turns, 2))]
        for row in suite.tiers
    ]
    return Table(
        title="Success per API tier",
        columns=["api", "episodes", "success [95% CI]", "average turns"],
        rows=rows,
        labels=1,
        note="high: every skill; primitive: no compound motions; pixels: no object state either.",
        key="tiers",
    )


def _mode_table(suite: SuiteReport) -> Table:
    rows = [
        [
            Cell(row.model, {"suite": suite.suite_hash, "model": row.model, "mode": row.mode}),
            Cell(row.mode),
            Cell(rate_text(row.success)),
            Cell(number(row.mean_turns, 2)),
        ]
        for row in suite.modes
    ]
    return Table(
        title="Success rate and average turns per action mode",
        columns=["model", "action mode", "success [95% CI]", "average turns"],
        rows=rows,
        labels=2,
        note="The table of the CodeAct paper (Wang et al. 2024), on robot tasks.",
        key="modes",
    )
