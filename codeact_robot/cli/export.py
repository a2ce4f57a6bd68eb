"""``codeact-robot export``: a results store's episodes as JSON Lines or CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codeact_robot.eval.export import FORMATS
from codeact_robot.eval.store import ResultsStore

EXAMPLES = """\
examples:
  codeact-robot export runs/smoke --format jsonl --out runs/smoke.jsonl
  codeact-robot export runs/smoke --format csv > smoke.csv

In Python: pandas.read_json("runs/smoke.jsonl", lines=True) or pandas.read_csv("smoke.csv").
"""


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``export``."""
    parser = commands.add_parser(
        "export",
        help="write a results folder's episodes as JSON Lines or CSV",
        description="Write every episode of a results folder, one per line (jsonl) or row (csv).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", metavar="DIR", help="a results folder written by `codeact-robot eval`")
    parser.add_argument("--format", required=True, choices=sorted(FORMATS), help="jsonl: with messages; csv: metrics")
    parser.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
    parser.set_defaults(handler=export_command)


def export_command(args: argparse.Namespace) -> int:
    """Write the episodes; the count goes to standard error."""
    store = ResultsStore(args.folder)
    try:
        if args.out:
            path = Path(args.out)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            with partial.open("w", encoding="utf-8", newline="") as out:
                count = FORMATS[args.format](store, out)
            partial.replace(path)  # a reader never sees half a file
        else:
            count = FORMATS[args.format](store, sys.stdout)
    finally:
        store.close()
    print(f"exported {count} episode(s)" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0
