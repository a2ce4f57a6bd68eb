"""The report as Markdown: pipe tables, paste-ready into a paper draft, an issue or a README."""

from __future__ import annotations

from codeact_robot.eval.reports.report import Report
from codeact_robot.eval.reports.tables import Table, report_tables


def markdown_report(report: Report) -> str:
    """Every suite's tables as GitHub-flavoured Markdown.

    Text from the store (agent, task and model names) is escaped so it cannot break a
    table or turn into markup.
    """
    lines = [f"# Evaluation report: {escape(report.folder)}", ""]
    if not report.suites:
        lines += ["No episodes yet.", ""]
    for suite, tables in report_tables(report):
        if suite is not None:
            held = " (held out)" if suite.heldout else ""
            lines += [
                f"## Suite {escape(suite.name)}{held}",
                "",
                f"`{suite.suite_hash[:12]}`, {suite.episodes:,} episodes.",
                "",
            ]
        else:
            lines += ["## Comparison", ""]
        for table in tables:
            lines += markdown_table(table)
    if report.skipped:
        lines += [f"{len(report.skipped)} row(s) of the store could not be read and are left out.", ""]
    return "\n".join(lines)


def markdown_table(table: Table) -> list[str]:
    """One table: a bold title, the pipe table, its note in italics."""
    align = ["---" if i < table.labels else "---:" for i in range(len(table.columns))]
    lines = [f"**{escape(table.title)}**", "", _row(table.columns), "|" + "|".join(align) + "|"]
    for row in table.rows:
        lines.append(_row([f"**{escape(c.text)}**" if c.strong else escape(c.text) for c in row], escaped=True))
    lines.append("")
    if table.note:
        lines += [f"*{escape(table.note)}*", ""]
    return lines


def escape(text: str) -> str:
    """Text that Markdown shows as written, on one line: no HTML, no link, no broken table.

    Our own brackets (``69.1% [62.7, 74.8]``) stay readable: only a bracket that would
    start a link's target is escaped.
    """
    text = " ".join(text.split())
    for character in "\\<>&|":
        text = text.replace(character, "\\" + character)
    return text.replace("](", "]\\(").replace("][", "]\\[")


def _row(cells: list[str], escaped: bool = False) -> str:
    return "| " + " | ".join(cells if escaped else [escape(c) for c in cells]) + " |"
