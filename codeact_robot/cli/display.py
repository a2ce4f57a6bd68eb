"""Showing a conversation as it happens: reasoning, code, observations, a live status line, the verdict.

On a terminal each part is a panel and a status line says what the episode is waiting
for; into a pipe or a file the same parts are plain text at full width (nothing is cut
at 80 columns) and nothing is animated. Every text passes :func:`~codeact_robot.errors.printable`
on its way out: a model's turn, a program's output and a recording are data, and a terminal
escape in them (a new window title, a clipboard write, a cleared screen, hidden text) is shown
as ``\x1b``, never sent.
"""

from __future__ import annotations

import errno
import sys

from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress, ProgressColumn, SpinnerColumn, Task, TextColumn
from rich.syntax import Syntax
from rich.text import Text

from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord
from codeact_robot.cli.options import size_text
from codeact_robot.config import RunConfig
from codeact_robot.environments.observation import number
from codeact_robot.errors import printable

PHASES = {"reset": "laying out the scene", "model": "the model is thinking", "code": "running the code"}
"""What the status line says while a session waits (see ``Session``'s phases)."""


PIPE_WIDTH = 200  # columns of a table printed into a pipe or a file, where nothing wraps it


class CommandConsole(Console):
    """A console that leaves a closed pipe to the command's entry point, which ends as Unix tools do.

    (rich's own answer is to exit with status 1, which ``eval`` documents as infrastructure errors.)
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "the reader of the output went away")


def make_console() -> Console:
    """The console for a command's output: markup and highlighting off (text is shown as it is)."""
    return CommandConsole(highlight=False, markup=False)


def table_console() -> Console:
    """The console for tables: the terminal's width, or wide enough that no column wraps in a pipe."""
    return CommandConsole(highlight=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)


def show(console: Console, text: str, style: str = "") -> None:
    """One paragraph, sanitised: word-wrapped on a terminal, a single full-width line elsewhere."""
    console.print(Text(printable(text), style=style), soft_wrap=not console.is_terminal)


def plural(count: int, noun: str) -> str:
    """``1 turn``, ``2 turns``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def agent_text(config: RunConfig) -> str:
    """Who writes the turns: the expert, a model and where it runs, or a recording."""
    llm = config.llm
    if llm.backend == "reference":
        return "the scripted expert"
    if llm.backend == "openai":
        return f"{llm.model} at {llm.base_url}"
    if llm.backend == "vllm":
        return f"{llm.model} in the in-process vLLM engine"
    return f"a replay of {llm.replay_path}, episode {llm.replay_episode}"


def header_text(config: RunConfig) -> str:
    """One line: task, seed, agent and model, action mode, perception, camera size."""
    return (
        f"{config.task} · seed {config.seed} · agent: {agent_text(config)} · {config.agent.mode} actions · "
        f"{config.env.perception} perception · camera {size_text(config.env.camera_size)}"
    )


class ConversationView:
    """Prints each turn of an episode to a console.

    Args:
        console: where to print (panels on a terminal, plain full-width text elsewhere).
        max_turns: the turn budget, for the progress line.
    """

    def __init__(self, console: Console, max_turns: int) -> None:
        self.console = console
        self.max_turns = max_turns

    def task(self, text: str) -> None:
        """The first user message."""
        self._section("task", text, "cyan")

    def turn(self, record: TurnRecord) -> None:
        """One model turn and its observation."""
        self.reasoning(record)
        if record.code is not None:
            self._section(f"turn {record.turn} · action", record.code, "blue", code=True)
        if record.observation:
            self._section("observation", record.observation, "red" if record.report.error else "green")
        timings = record.report.timings
        tokens = f" / {record.prompt_tokens} tokens" if record.prompt_tokens else ""
        limit = f" · limit: {record.report.limit}" if record.report.limit else ""
        show(
            self.console,
            f"turn {record.turn}/{self.max_turns} · model {timings_text(record.llm_s)} · "
            f"code {timings_text(timings.exec_s)} · simulated {timings_text(timings.sim_s)} · "
            f"prompt {record.prompt_chars} chars{tokens}{limit}",
            "dim",
        )

    def reasoning(self, record: TurnRecord) -> None:
        """What the model wrote around its action (the whole text of a reply without one)."""
        text = record.assistant
        if record.code is not None:
            text = text.split("<execute>")[0].split("```")[0]
        if text.strip():
            show(self.console, text.strip(), "italic")

    def verdict(self, record: EpisodeRecord) -> None:
        """The outcome of the episode."""
        totals = record.totals()
        lines = [
            f"outcome: {record.outcome} · success: {record.success}",
            f"check: {record.check}" if record.check else "",
            f"error: {record.error}" if record.error else "",
            f"{plural(totals['turns'], 'turn')} · {timings_text(record.wall_s)} wall · "
            f"{timings_text(totals['sim_s'])} simulated · model {timings_text(totals['llm_s'])}",
        ]
        self._section("verdict", "\n".join(line for line in lines if line), "green" if record.success else "red")

    def _section(self, title: str, body: str, style: str, code: bool = False) -> None:
        body = printable(body)
        if self.console.is_terminal:
            content = Syntax(body, "python", theme="ansi_dark", line_numbers=True) if code else Text(body)
            self.console.print(Panel(content, title=title, border_style=style))
            return
        if code:
            width = len(str(body.count("\n") + 1))
            body = "\n".join(f"{n:>{width}}  {line}".rstrip() for n, line in enumerate(body.splitlines(), 1))
        show(self.console, f"--- {title} ---", style)
        show(self.console, body)


def verdict_line(record: EpisodeRecord) -> str:
    """The outcome in one line (``--quiet``)."""
    return (
        f"{record.task} seed {record.seed}: {record.outcome}"
        f" ({plural(len(record.turns), 'turn')}, {timings_text(record.wall_s)})"
    )


def timings_text(seconds: float) -> str:
    """``12.3 s``."""
    return f"{number(seconds, 1)} s"


class _Seconds(ProgressColumn):
    """Seconds since the current phase began."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.elapsed or 0.0:.0f} s", style="dim")


class StatusLine:
    """A spinner, what the episode is waiting for and for how long; shown on a terminal only.

    Use as a context manager around the waiting; :meth:`show` starts a new phase.

    Args:
        console: the console the conversation is printed to (printing goes above the line).
        enabled: show it (when the console is a terminal).
    """

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.enabled = enabled and console.is_terminal
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), _Seconds(), console=console, transient=True
        )
        self._task = self._progress.add_task("", total=None)

    def show(self, text: str) -> None:
        """Say what is happening now; the seconds count from here."""
        self._progress.reset(self._task, description=text)

    def __enter__(self) -> StatusLine:
        if self.enabled:
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self._progress.stop()
