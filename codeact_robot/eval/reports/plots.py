"""The report's plots, drawn with matplotlib (no pyplot: no global state, safe in any thread).

One suite gives five PNG figures: success per task family per agent with 95% Wilson
intervals, success per split, the distribution of turns, failure kinds as stacked bars,
and tokens per success. Agent colours are the Okabe-Ito palette (distinguishable with
the common colour-vision deficiencies); labels are sized to read at 100% zoom.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter, StrMethodFormatter

from codeact_robot.eval.reports.report import AgentReport, Report, SuiteReport, family_order, kind_order, split_order
from codeact_robot.eval.reports.stats import Rate

AGENT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
KIND_COLOURS = {
    "success": "#009E73",
    "wrong_final_state": "#D55E00",
    "gave_up": "#E69F00",
    "turn_limit": "#F0E442",
    "syntax_error": "#CC79A7",
    "api_misuse": "#0072B2",
    "physical_failure": "#56B4E9",
    "limit": "#882255",
    "sandbox_violation": "#332288",
    "worker_crash": "#999999",
    "model_error": "#44AA99",
    "format_error": "#AA4499",
    "reply_cut_off": "#117733",
    "context_overflow": "#661100",
}
OTHER_KIND_COLOUR = "#DDDDDD"
DPI = 110
FONT_SIZE = 10


def suite_plots(suite: SuiteReport) -> dict[str, bytes]:
    """The suite's plots as PNG bytes, by name (see :data:`PLOTS`); plots with no data are left out."""
    drawn = {name: draw(suite.agents) for name, draw in PLOTS.items()}
    return {name: _png(figure) for name, figure in drawn.items() if figure is not None}


def report_plots(report: Report) -> dict[str, dict[str, bytes]]:
    """Every suite's plots (see :func:`suite_plots`) by suite hash, drawn once for all the renderings that show them."""
    return {suite.suite_hash: suite_plots(suite) for suite in report.suites}


def write_plots(report: Report, plots: Mapping[str, Mapping[str, bytes]], folder: str | Path) -> list[Path]:
    """Write every suite's plots as ``<suite>-<hash>-<plot>.png`` into ``folder``; returns the paths.

    Args:
        report: the report.
        plots: its plots (:func:`report_plots`).
        folder: where to write them (created if missing).

    Suite names come from the store, so only letters, digits, ``-`` and ``_`` of them
    reach a file name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for suite in report.suites:
        stem = f"{re.sub(r'[^A-Za-z0-9_-]+', '_', suite.name)[:60]}-{suite.suite_hash[:8]}"
        for name, png in plots[suite.suite_hash].items():
            path = folder / f"{stem}-{name}.png"
            path.write_bytes(png)
            written.append(path)
    return written


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.tick_params(labelsize=FONT_SIZE)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _colour(index: int) -> str:
    return AGENT_COLOURS[index % len(AGENT_COLOURS)]


def _rate_bars(
    axes: Axes, labels: Sequence[str], agents: Sequence[AgentReport], rates: Sequence[Sequence[Rate | None]]
) -> None:
    """Horizontal grouped bars, one group per label (top to bottom), one bar per agent, with intervals."""
    height = 0.8 / len(agents)
    positions = np.arange(len(labels))
    for index, (agent, agent_rates) in enumerate(zip(agents, rates)):
        values = [r.rate if r and r.rate is not None else np.nan for r in agent_rates]
        low = [v - r.low if r and r.low is not None else 0.0 for v, r in zip(values, agent_rates)]
        high = [r.high - v if r and r.high is not None else 0.0 for v, r in zip(values, agent_rates)]
        offsets = positions - 0.4 + height * (index + 0.5)
        axes.barh(offsets, values, height=height, color=_colour(index), label=agent.name)
        axes.errorbar(
            values, offsets, xerr=[np.nan_to_num(low), np.nan_to_num(high)], fmt="none", ecolor="#333333", capsize=2
        )
    axes.set_yticks(positions, labels, fontsize=FONT_SIZE)
    axes.set_ylim(len(labels) - 0.5, -0.5)  # first label on top, no empty margin
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel("success rate (whiskers: 95% Wilson interval)", fontsize=FONT_SIZE)
    axes.grid(axis="x", color="#DDDDDD", linewidth=0.8)
    axes.set_axisbelow(True)


def _titled(figure: Figure, title: str, legend: bool = True) -> None:
    """The title on the top left and the legend (agents or kinds) right of the plot."""
    figure.suptitle(title, x=0.02, ha="left", fontsize=FONT_SIZE + 2)
    if legend:
        figure.legend(loc="outside right upper", frameon=False, fontsize=FONT_SIZE)


def _families(agents: Sequence[AgentReport]) -> Figure | None:
    families = sorted({f for a in agents for f in a.families}, key=family_order)
    if not families:
        return None
    figure, axes = _figure(8.0, 1.3 + 0.2 * len(families) * max(len(agents), 2))
    _rate_bars(axes, families, agents, [[a.families.get(f) for f in families] for a in agents])
    _titled(figure, "Success per task family")
    return figure


def _splits(agents: Sequence[AgentReport]) -> Figure | None:
    splits = sorted({s for a in agents for s in a.splits}, key=split_order)
    if not splits:
        return None
    labels = [*splits, "all"]
    figure, axes = _figure(8.0, 1.4 + 0.3 * len(labels) * max(len(agents), 2))
    rates = [[*(a.splits.get(s) for s in splits), a.success] for a in agents]
    _rate_bars(axes, labels, agents, rates)
    _titled(figure, "Success on seen, unseen and feedback tasks")
    return figure


def _turns(agents: Sequence[AgentReport]) -> Figure | None:
    turns = sorted({t for a in agents for t in a.turns_histogram})
    if not turns:
        return None
    figure, axes = _figure(8.0, 3.6)
    width = 0.8 / len(agents)
    positions = np.arange(len(turns))
    for index, agent in enumerate(agents):
        total = sum(agent.turns_histogram.values()) or 1
        shares = [agent.turns_histogram.get(t, 0) / total for t in turns]
        offsets = positions - 0.4 + width * (index + 0.5)
        axes.bar(offsets, shares, width=width, color=_colour(index), label=agent.name)
    step = max(1, len(turns) // 20)  # at most about 20 tick labels
    axes.set_xticks(positions[::step], [str(t) for t in turns[::step]])
    axes.set_xlabel("turns in the episode", fontsize=FONT_SIZE)
    axes.set_ylabel("share of episodes", fontsize=FONT_SIZE)
    axes.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))  # whole percents
    axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    axes.set_axisbelow(True)
    _titled(figure, "Turns per episode")
    return figure


def _failure_kinds(agents: Sequence[AgentReport]) -> Figure | None:
    kinds = sorted({k for a in agents for k in a.failure_kinds}, key=kind_order)
    if not kinds:
        return None
    figure, axes = _figure(8.0, 1.6 + 0.45 * len(agents))
    positions = np.arange(len(agents))
    left = np.zeros(len(agents))
    for kind in kinds:
        shares = np.array([a.failure_kinds[kind].share if kind in a.failure_kinds else 0.0 for a in agents])
        colour = KIND_COLOURS.get(kind, OTHER_KIND_COLOUR)
        axes.barh(positions, shares, left=left, height=0.6, color=colour, label=kind, edgecolor="white")
        left += shares
    axes.set_yticks(positions, [a.name for a in agents], fontsize=FONT_SIZE)
    axes.set_ylim(len(agents) - 0.5, -0.5)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel("share of episodes", fontsize=FONT_SIZE)
    _titled(figure, "How episodes ended (failure kinds)")
    return figure


def _tokens(agents: Sequence[AgentReport]) -> Figure | None:
    known = [(i, a) for i, a in enumerate(agents) if a.tokens_per_success is not None]
    if not known:
        return None
    figure, axes = _figure(8.0, 1.4 + 0.45 * len(known))
    values = [a.tokens_per_success or 0.0 for _, a in known]
    positions = np.arange(len(known))
    bars = axes.barh(positions, values, height=0.6, color=[_colour(i) for i, _ in known])
    axes.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=3, fontsize=FONT_SIZE)
    axes.set_yticks(positions, [a.name for _, a in known], fontsize=FONT_SIZE)
    axes.set_ylim(len(known) - 0.5, -0.5)
    axes.set_xlim(0, max(values) * 1.18 or 1)
    axes.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.set_xlabel("prompt + completion tokens spent per successful episode", fontsize=FONT_SIZE)
    _titled(figure, "Tokens per success", legend=False)
    axes.grid(axis="x", color="#DDDDDD", linewidth=0.8)
    axes.set_axisbelow(True)
    return figure


PLOTS: dict[str, Callable[[Sequence[AgentReport]], Figure | None]] = {
    "families": _families,
    "splits": _splits,
    "turns": _turns,
    "failure_kinds": _failure_kinds,
    "tokens": _tokens,
}
"""The plots of a suite, in the order the HTML report shows them."""
