"""``codeact-robot export``: an evaluation folder's episodes as data for other tools.

``jsonl`` and ``csv`` write every episode (for pandas); ``sft`` writes the successful ones
as fine-tuning conversations in the CodeActInstruct format, with its own filters.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codeact_robot.cli.options import add_command
from codeact_robot.cli.outputs import writable_file
from codeact_robot.errors import UsageError, printable
from codeact_robot.eval.results.export import FORMATS
from codeact_robot.eval.results.sft import SFTFilters, export_sft
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.files import written_whole

EXAMPLES = (
    "codeact-robot export runs/smoke --format jsonl --out runs/smoke.jsonl",
    "codeact-robot export runs/smoke --format csv > smoke.csv",
    "codeact-robot export runs/tabletop --format sft --out sft.jsonl --self-debug --min-turns 2",
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``export``."""
    parser = add_command(
        commands,
        "export",
        "write an evaluation folder's episodes as JSON Lines, CSV or fine-tuning conversations",
        EXAMPLES,
        "Every episode of a results folder, one per line (jsonl) or row (csv), or the successful ones as "
        'CodeActInstruct conversations (sft). In Python: pandas.read_json("runs/smoke.jsonl", lines=True) '
        'or pandas.read_csv("smoke.csv").',
    )
    parser.add_argument("folder", metavar="DIR", help="a results folder written by `codeact-robot eval`")
    parser.add_argument(
        "--format",
        required=True,
        choices=[*sorted(FORMATS), "sft"],
        help="jsonl: metrics with messages; csv: metrics; sft: successful episodes as conversations",
    )
    parser.add_argument("--out", metavar="FILE", help="write here (default: standard output; sft needs a file)")
    sft = parser.add_argument_group("sft filters")
    sft.add_argument(
        "--agent",
        action="append",
        default=[],
        help="only this agent, repeated or comma-joined (default: all)",
    )
    sft.add_argument(
        "--tasks", action="append", default=[], help="only these task families, comma-separated (default: every task)"
    )
    sft.add_argument(
        "--min-turns",
        type=int,
        default=1,
        help="only episodes of at least this many turns (default: %(default)s)",
    )
    sft.add_argument(
        "--self-debug", action="store_true", help="only episodes where an error observation was followed by success"
    )
    sft.add_argument(
        "--allow-heldout", action="store_true", help="also export the tasks and seeds of suites marked heldout"
    )
    parser.set_defaults(handler=export_command)


def export_command(args: argparse.Namespace) -> int:
    """Write the export; the counts go to standard error. Exit 1 when sft found nothing to write."""
    if args.out:
        writable_file(args.out, "the export")
    store = ResultsStore(args.folder, read_only=True)
    try:
        if args.format == "sft":
            return _export_sft(store, args)
        if args.out:
            with written_whole(Path(args.out)) as part, part.open("w", encoding="utf-8", newline="") as out:
                count = FORMATS[args.format](store, out)
        else:
            count = FORMATS[args.format](store, sys.stdout)
    finally:
        store.close()
    print(f"exported {count} episode(s)" + (f" to {args.out}" if args.out else ""), file=sys.stderr)
    return 0


def _export_sft(store: ResultsStore, args: argparse.Namespace) -> int:
    if not args.out:
        raise UsageError("--format sft writes a file: give --out FILE")
    filters = SFTFilters(
        agents=_names(args.agent),
        tasks=_names(args.tasks),
        min_turns=args.min_turns,
        self_debug=args.self_debug,
        allow_heldout=args.allow_heldout,
    )
    result = export_sft(store, filters, args.out)
    if result.written:
        print(f"{result.written} conversation(s) written to {args.out}", file=sys.stderr)
    else:
        nothing = f"nothing to export: no successful episode passes the filters; {args.out} was not written"
        print(nothing, file=sys.stderr)
    if result.duplicates:
        print(f"{result.duplicates} duplicate conversation(s) written once", file=sys.stderr)
    if result.heldout:
        print(
            f"{result.heldout} episode(s) refused: their task and seed belong to a held-out suite "
            "(--allow-heldout exports them)",
            file=sys.stderr,
        )
    for line in result.unreadable:
        print(f"skipped unreadable {printable(line)}", file=sys.stderr)
    return 0 if result.written else 1


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())
