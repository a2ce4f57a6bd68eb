"""The report in the terminal: rich tables, one group per suite.

:func:`print_store_report` is what ``eval`` calls when it finishes, and ``report`` prints.
"""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from codeact_robot.errors import printable
from codeact_robot.eval.reports.report import Report, load_report
from codeact_robot.eval.reports.tables import Table, report_tables

MAX_PROBLEMS_SHOWN = 5


def print_store_report(folder: str | Path, console: Console | None = None) -> Report:
    """Read the results store in ``folder`` and print its report.

    Args:
        folder: the evaluation folder (``eval --out``).
        console: where to print (default: standard output).

    Returns:
        The report, for callers that want its numbers too.

    Raises:
        UsageError: the folder holds no results store.
    """
    report = load_report(folder)
    print_report(report, console)
    return report


def print_report(report: Report, console: Console | None = None) -> None:
    """Print every suite's tables, then any comparison asked for and any unreadable rows."""
    console = console or Console(highlight=False)
    if not report.suites:
        console.print(Text(printable(f"{report.folder}: no episodes yet")), soft_wrap=True)
    for suite, tables in report_tables(report):
        if suite is not None:
            heading = Text(printable(f"Suite {suite.name}"), style="bold")
            heading.append(
                f"  {suite.suite_hash[:12]}  {suite.episodes:,} episode{'s' if suite.episodes != 1 else ''}",
                style="dim",
            )
            if suite.heldout:
                heading.append("  held out", style="yellow")
            console.print(heading, soft_wrap=True)
        for table in tables:
            console.print(rich_table(table))
    _print_problems(report, console)


def rich_table(table: Table) -> RichTable:
    """A report table as a rich table (numbers right-aligned, totals bold)."""
    # Names in a table come from the store: Text objects (never markup), control characters escaped.
    rendered = RichTable(
        title=Text(printable(table.title)),
        title_justify="left",
        caption=Text(printable(table.note)) if table.note else None,
        caption_justify="left",
        box=box.SIMPLE,
    )
    for index, column in enumerate(table.columns):
        justify = "left" if index < table.labels else "right"
        rendered.add_column(Text(printable(column)), justify=justify, overflow="fold")
    for row in table.rows:
        rendered.add_row(*(Text(printable(cell.text), style="bold" if cell.strong else "") for cell in row))
    return rendered


def _print_problems(report: Report, console: Console) -> None:
    if not report.skipped:
        return
    console.print(
        Text(f"{len(report.skipped)} row(s) of the store could not be read and are left out:", style="yellow")
    )
    for line in report.skipped[:MAX_PROBLEMS_SHOWN]:
        console.print(Text(printable(f"  {line}")), soft_wrap=True)
    if len(report.skipped) > MAX_PROBLEMS_SHOWN:
        console.print(Text(f"  ... and {len(report.skipped) - MAX_PROBLEMS_SHOWN} more"))
