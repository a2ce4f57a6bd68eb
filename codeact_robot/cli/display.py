"""Showing a conversation as it happens: reasoning, highlighted code, observations, progress."""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from codeact_robot.agent.parser import Turn, parse_turn
from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord


class ConversationView:
    """Prints each turn of an episode to a console.

    Args:
        console: where to print.
        mode: the action mode (to separate reasoning from the action).
        max_turns: the turn budget, for the progress line.
    """

    def __init__(self, console: Console, mode: str, max_turns: int) -> None:
        self.console = console
        self.mode = mode
        self.max_turns = max_turns

    def task(self, text: str) -> None:
        """The first user message."""
        self.console.print(Panel(Text(text), title="task", border_style="cyan"))

    def turn(self, record: TurnRecord) -> None:
        """One model turn and its observation."""
        turn: Turn = parse_turn(record.assistant, self.mode)
        reasoning = record.assistant
        if record.code is not None and self.mode == "codeact":
            reasoning = reasoning.split("<execute>")[0].split("```")[0]
        if reasoning.strip() and (turn.kind != "action" or self.mode == "codeact"):
            self.console.print(Text(reasoning.strip(), style="italic"))
        if record.code is not None:
            self.console.print(
                Panel(
                    Syntax(record.code, "python", theme="ansi_dark", line_numbers=True),
                    title=f"turn {record.turn} · action",
                    border_style="blue",
                )
            )
        if record.observation:
            style = "red" if record.report.error else "green"
            self.console.print(Panel(Text(record.observation), title="observation", border_style=style))
        timings = record.report.timings
        self.console.print(
            f"[dim]turn {record.turn}/{self.max_turns} · model {record.llm_s:.1f} s · code {timings.exec_s:.1f} s · "
            f"simulated {timings.sim_s:.1f} s · prompt {record.prompt_chars} chars"
            + (f" / {record.prompt_tokens} tokens" if record.prompt_tokens else "")
            + (f" · limit: {record.report.limit}" if record.report.limit else "")
            + "[/dim]"
        )

    def verdict(self, record: EpisodeRecord) -> None:
        """The outcome of the episode."""
        totals = record.totals()
        style = "green" if record.success else "red"
        lines = [
            f"outcome: {record.outcome} · success: {record.success}",
            f"check: {record.check}" if record.check else "",
            f"error: {record.error}" if record.error else "",
            f"{totals['turns']} turns · {record.wall_s:.1f} s wall · {totals['sim_s']:.1f} s simulated · "
            f"model {totals['llm_s']:.1f} s",
        ]
        self.console.print(Panel(Text("\n".join(line for line in lines if line)), title="verdict", border_style=style))
