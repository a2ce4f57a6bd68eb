"""What an evaluation shows while it runs: live on a terminal, plain periodic lines in a log.

Episodes done of the total, in flight, success so far per agent, episodes per minute,
model tokens per second and the time left. On a terminal (rich ``Live``) the display
refreshes in place; when stdout is not a terminal (CI logs, ``nohup``) a plain line is
printed every ``every_s`` seconds and once at the end. Names and errors come from suites,
models and stores: every line passes :func:`~codeact_robot.errors.printable` and is never read
as markup (:func:`say`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from codeact_robot.agent.trajectory import TurnRecord
from codeact_robot.errors import printable
from codeact_robot.eval.results.rows import EpisodeKey

PLAIN_EVERY_S = 30.0


def say(console: Console, text: str) -> None:
    """Print one line of an evaluation's account: sanitised, and never read as markup."""
    console.print(Text(printable(text)), soft_wrap=True)


class Progress:
    """Counts of an evaluation in progress and their display.

    Args:
        console: where to show them.
        total: episodes this run will run.
        agents: agent names, in the suite's order.
        every_s: seconds between plain lines when the console is not a terminal.
    """

    def __init__(self, console: Console, total: int, agents: list[str], every_s: float = PLAIN_EVERY_S) -> None:
        self.console = console
        self.total = total
        self.agents = agents
        self.every_s = every_s
        self.done = 0
        self.errors = 0
        self.in_flight = 0
        self.runs: Counter[str] = Counter()
        self.successes: Counter[str] = Counter()
        self.tokens = 0
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last_line = self._started
        self._live = Live(console=console, refresh_per_second=2, transient=False) if console.is_terminal else None

    def __enter__(self) -> Progress:
        if self._live is not None:
            self._live.update(self._render())
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
            self._live.stop()
        else:
            say(self.console, self.line())

    def turn(self, job: EpisodeKey, record: TurnRecord) -> None:
        """Count a finished model turn's tokens (called from the episodes' threads)."""
        with self._lock:
            self.tokens += record.completion_tokens or 0

    def finished(self, agent: str, outcome: str, success: bool) -> None:
        """Count a finished episode."""
        with self._lock:
            self.done += 1
            if outcome == "error":
                self.errors += 1
            else:
                self.runs[agent] += 1
                self.successes[agent] += int(success)

    def refresh(self, in_flight: int) -> None:
        """Show the counts now (live), or print a line when one is due (plain)."""
        self.in_flight = in_flight
        if self._live is not None:
            self._live.update(self._render())
        elif time.monotonic() - self._last_line >= self.every_s:
            self._last_line = time.monotonic()
            say(self.console, self.line())

    def line(self) -> str:
        """The counts as one line of text."""
        agents = ", ".join(f"{a} {self.successes[a]}/{self.runs[a]}" for a in self.agents)
        errors = f", {self.errors} error(s)" if self.errors else ""
        return (
            f"{self.done}/{self.total} done, {self.in_flight} in flight{errors}; success: {agents}; "
            f"{self._rate():.1f} episodes/min, {self._tokens_per_s():.0f} tokens/s, ETA {self._eta()}"
        )

    def _render(self) -> Group:
        table = Table(box=None, pad_edge=False)
        table.add_column("agent")
        table.add_column("success", justify="right")
        table.add_column("rate", justify="right")
        for agent in self.agents:
            runs, wins = self.runs[agent], self.successes[agent]
            table.add_row(Text(printable(agent)), f"{wins}/{runs}", f"{wins / runs:.0%}" if runs else "-")
        errors = f"  [red]{self.errors} error(s)[/red]" if self.errors else ""
        head = (
            f"[bold]{self.done}/{self.total}[/bold] done  {self.in_flight} in flight{errors}  "
            f"{self._rate():.1f} episodes/min  {self._tokens_per_s():.0f} tokens/s  ETA {self._eta()}"
        )
        return Group(head, table)

    def _elapsed(self) -> float:
        return max(time.monotonic() - self._started, 1e-9)

    def _rate(self) -> float:
        return 60.0 * self.done / self._elapsed()

    def _tokens_per_s(self) -> float:
        return self.tokens / self._elapsed()

    def _eta(self) -> str:
        if not self.done:
            return "-"
        left = (self.total - self.done) * self._elapsed() / self.done
        return time.strftime("%H:%M:%S", time.gmtime(left))
