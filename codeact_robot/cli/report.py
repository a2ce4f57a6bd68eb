"""``codeact-robot report``: the tables, plots and comparisons of an evaluation folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from codeact_robot.cli.display import table_console
from codeact_robot.cli.options import add_command
from codeact_robot.cli.outputs import writable_file, writable_folder
from codeact_robot.eval.reports.html import DEFAULT_VIEWER_URL, check_viewer_url, html_report
from codeact_robot.eval.reports.markdown import markdown_report
from codeact_robot.eval.reports.prices import default_prices_path, load_prices
from codeact_robot.eval.reports.report import load_report
from codeact_robot.eval.reports.terminal import print_report
from codeact_robot.files import written_whole


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    report = add_command(
        commands,
        "report",
        "success rates with intervals, paired comparisons and plots of an evaluation folder",
        (
            "codeact-robot report runs/smoke",
            "codeact-robot report runs/modes --html report.html --md report.md --plots plots/",
            "codeact-robot report runs/modes --compare codeact json --json > comparison.json",
        ),
        "Per agent: success per task family and split with 95% Wilson intervals, turns, tokens, times and "
        "failure kinds; every pair of agents of a suite compared on their common episodes (paired "
        "bootstrap interval, exact McNemar test).",
    )
    report.add_argument("folder", metavar="DIR", help="the evaluation folder (eval --out)")
    report.add_argument("--json", action="store_true", help="print the numbers as JSON instead of tables")
    report.add_argument("--md", metavar="FILE", help="write the tables as Markdown")
    report.add_argument("--html", metavar="FILE", help="write one self-contained HTML file with tables and plots")
    report.add_argument("--plots", metavar="DIR", help="write the plots as PNG files into this folder")
    report.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="compare two agents (AGENT or SUITE:AGENT) on their common episodes",
    )
    report.add_argument(
        "--prices",
        metavar="FILE",
        help="price table in US dollars per million tokens (like configs/prices.example.yaml) for dollars per "
        f"episode and per success (default: {default_prices_path()}, if it exists)",
    )
    report.add_argument(
        "--viewer-url",
        default=DEFAULT_VIEWER_URL,
        help="where `view` serves this folder, for the HTML report's links (default: %(default)s)",
    )
    report.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    """Print the report (tables, or JSON) and write the files asked for."""
    for path, what in ((args.md, "the Markdown report"), (args.html, "the HTML report")):
        if path:
            writable_file(path, what)
    if args.plots:
        writable_folder(args.plots, "the plots")
    check_viewer_url(args.viewer_url)
    report = load_report(args.folder, args.compare, load_prices(args.prices))
    if args.json:
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_report(report, table_console())
    notes = []
    if args.md:
        _write(Path(args.md), markdown_report(report))
        notes.append(f"Markdown report: {args.md}")
    if args.html or args.plots:
        from codeact_robot.eval.reports.plots import (  # matplotlib: only when plots are asked for
            report_plots,
            write_plots,
        )

        plots = report_plots(report)  # drawn once for both
        if args.html:
            _write(Path(args.html), html_report(report, args.viewer_url, plots))
            notes.append(f"HTML report: {args.html}")
        if args.plots:
            notes.append(f"{len(write_plots(report, plots, args.plots))} plots in {args.plots}")
    for note in notes:
        print(note, file=sys.stderr if args.json else sys.stdout)
    return 0


def _write(path: Path, text: str) -> None:
    with written_whole(path) as part:
        part.write_text(text, encoding="utf-8")
