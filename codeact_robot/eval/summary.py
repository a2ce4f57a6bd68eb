"""The short per-agent table printed when an evaluation ends (``codeact-robot report`` has the rest)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from codeact_robot.eval.store import ResultsStore


def agent_summaries(store: ResultsStore, suite_hash: str) -> dict[str, dict[str, Any]]:
    """Per agent: episodes, successes, infrastructure errors, mean turns, tokens and wall time.

    Episodes with outcome ``error`` count apart: they are neither successes nor failures.
    """
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in store.summaries("suite_hash = ?", (suite_hash,)):
        rows[row["agent"]].append(row)
    found = {}
    for agent, episodes in rows.items():
        ran = [e for e in episodes if e["outcome"] != "error"]
        tokens = [(e["prompt_tokens"] or 0) + (e["completion_tokens"] or 0) for e in ran]
        found[agent] = {
            "episodes": len(ran),
            "successes": sum(bool(e["success"]) for e in ran),
            "errors": len(episodes) - len(ran),
            "mean_turns": sum(e["turns"] for e in ran) / len(ran) if ran else 0.0,
            "mean_tokens": sum(tokens) / len(ran) if ran else 0.0,
            "mean_wall_s": sum(e["wall_s"] for e in ran) / len(ran) if ran else 0.0,
        }
    return found


def print_summary(console: Console, store: ResultsStore, suite_hash: str) -> None:
    """Print the per-agent table of a suite's stored episodes."""
    table = Table(title="results", title_justify="left")
    for column in ("agent", "success", "rate", "errors", "turns", "tokens", "wall s"):
        table.add_column(column, justify="left" if column == "agent" else "right")
    for agent, s in agent_summaries(store, suite_hash).items():
        rate = f"{s['successes'] / s['episodes']:.0%}" if s["episodes"] else "-"
        table.add_row(
            agent,
            f"{s['successes']}/{s['episodes']}",
            rate,
            str(s["errors"]),
            f"{s['mean_turns']:.1f}",
            f"{s['mean_tokens']:.0f}",
            f"{s['mean_wall_s']:.1f}",
        )
    console.print(table)
