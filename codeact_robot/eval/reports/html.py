"""The report as one self-contained HTML file: tables, plots inlined as PNG, links to the viewer.

Everything from the store is escaped, and the page's own Content-Security-Policy allows
no script and no fetch at all (images only from ``data:`` URLs), so a name or a
message full of markup stays text even if an escape were missed. Each number that
stands for episodes links to them in the episode viewer (``codeact-robot view``).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from codeact_robot.errors import UsageError
from codeact_robot.eval.reports.report import Report, SuiteReport
from codeact_robot.eval.reports.tables import Cell, Table, report_tables

DEFAULT_VIEWER_URL = "http://127.0.0.1:8080"
PLOT_TITLES = {
    "families": "Success per task family, with 95% Wilson intervals",
    "splits": "Success on seen, unseen and feedback tasks",
    "turns": "Distribution of turns per episode",
    "failure_kinds": "Failure kinds as shares of each agent's episodes",
    "tokens": "Tokens spent per successful episode",
}
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; }
table { border-collapse: collapse; margin: 0.5em 0 0.3em; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
th { text-align: left; background: #f4f4f4; } td.n { text-align: right; } tr.total td { font-weight: 600; }
a { color: #0057a0; text-decoration: none; } a:hover { text-decoration: underline; }
.note { color: #666; font-size: 0.9em; margin: 0 0 1.2em; } .scroll { overflow-x: auto; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; } figcaption { color: #666; }
.held { background: #fff3cd; padding: 0 0.4em; border-radius: 3px; font-size: 0.8em; }
.warning { background: #fff3cd; padding: 0.6em 1em; }
"""


def check_viewer_url(viewer_url: str) -> str:
    """``viewer_url`` without a trailing slash, once it is sure to be an http(s) URL.

    Raises:
        UsageError: it is not.
    """
    parts = urlsplit(viewer_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"the viewer URL must be http(s)://HOST[:PORT], not {viewer_url!r}")
    return viewer_url.rstrip("/")


def html_report(
    report: Report,
    viewer_url: str = DEFAULT_VIEWER_URL,
    plots: Mapping[str, Mapping[str, bytes]] | None = None,
) -> str:
    """The whole report as one HTML document (plots embedded as base64 PNG).

    Args:
        report: the report.
        viewer_url: where ``codeact-robot view`` serves this store (links from every row).
        plots: the report's plots (:func:`~codeact_robot.eval.reports.plots.report_plots`), when
            they are drawn already; None draws them.

    Raises:
        UsageError: ``viewer_url`` is not an http(s) URL.
    """
    base = check_viewer_url(viewer_url)
    if plots is None:
        from codeact_robot.eval.reports.plots import (
            report_plots,  # here: matplotlib is slow to import, only plots need it
        )

        plots = report_plots(report)
    title = f"Evaluation report: {report.folder}"
    body = [f"<h1>{_e(title)}</h1>", _intro(report)]
    for suite, tables in report_tables(report):
        body.append(_suite_heading(suite))
        body += [_table(table, base) for table in tables]
        if suite is not None:
            body += _figures(plots[suite.suite_hash])
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _intro(report: Report) -> str:
    lines = [
        f"<p>{report.episodes:,} episodes in {len(report.suites)} suite(s). Links open the matching episodes in "
        f"the episode viewer: run <code>codeact-robot view {_e(report.folder)}</code>.</p>"
    ]
    if report.skipped:
        problems = "".join(f"<li>{_e(line)}</li>" for line in report.skipped[:20])
        lines.append(
            f"<div class='warning'>{len(report.skipped)} row(s) of the store could not be read and are left out"
            f"<ul>{problems}</ul></div>"
        )
    return "\n".join(lines)


def _suite_heading(suite: SuiteReport | None) -> str:
    if suite is None:
        return "<h2>Comparison</h2>"
    held = " <span class='held'>held out</span>" if suite.heldout else ""
    return (
        f"<h2>Suite {_e(suite.name)}{held}</h2>"
        f"<p class='note'><code>{_e(suite.suite_hash[:12])}</code>, {suite.episodes:,} episodes</p>"
    )


def _table(table: Table, base: str) -> str:
    head = "".join(f"<th>{_e(column)}</th>" for column in table.columns)
    rows = []
    for row in table.rows:
        cells = "".join(_cell(cell, base, numeric=index >= table.labels) for index, cell in enumerate(row))
        total = " class='total'" if any(cell.strong for cell in row) else ""
        rows.append(f"<tr{total}>{cells}</tr>")
    note = f"<p class='note'>{_e(table.note)}</p>" if table.note else ""
    return (
        f"<h3>{_e(table.title)}</h3><div class='scroll'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>{note}"
    )


def _cell(cell: Cell, base: str, numeric: bool) -> str:
    text = _e(cell.text)
    if cell.link:
        text = f"<a href='{_e(viewer_link(base, cell.link))}'>{text}</a>"
    return f"<td class='n'>{text}</td>" if numeric else f"<td>{text}</td>"


def viewer_link(base: str, filters: Mapping[str, str]) -> str:
    """The viewer's URL listing the episodes that match ``filters``."""
    return f"{base}/#/episodes?{urlencode(dict(filters))}"


def _figures(plots: Mapping[str, bytes]) -> list[str]:
    figures = []
    for name, png in plots.items():
        data = base64.b64encode(png).decode("ascii")
        caption = _e(PLOT_TITLES.get(name, name))
        image = f"<img src='data:image/png;base64,{data}' alt='{caption}'>"
        figures.append(f"<figure>{image}<figcaption>{caption}</figcaption></figure>")
    return figures


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)
