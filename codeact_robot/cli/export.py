"""``codeact-robot export``: an evaluation folder's episodes as data for other tools."""

from __future__ import annotations

import argparse
import sys

from codeact_robot.eval.sft import SFTFilters, export_sft
from codeact_robot.eval.store import ResultsStore


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``export``."""
    export = commands.add_parser("export", help="write an evaluation folder's episodes as data (sft: fine-tuning)")
    export.add_argument("folder", metavar="DIR", help="the evaluation folder (eval --out)")
    export.add_argument(
        "--format", required=True, choices=["sft"], help="sft: successful episodes as CodeActInstruct conversations"
    )
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write (JSON Lines)")
    sft = export.add_argument_group("sft filters")
    sft.add_argument("--agent", action="append", default=[], help="only this agent (repeat or comma-separate)")
    sft.add_argument("--tasks", action="append", default=[], help="only these task families, comma-separated")
    sft.add_argument("--min-turns", type=int, default=1, help="only episodes of at least this many turns")
    sft.add_argument(
        "--self-debug", action="store_true", help="only episodes where an error observation was followed by success"
    )
    sft.add_argument(
        "--allow-heldout", action="store_true", help="also export the tasks and seeds of suites marked heldout"
    )
    export.set_defaults(handler=export_command)


def export_command(args: argparse.Namespace) -> int:
    """Write the export; exit 1 when no episode qualified."""
    filters = SFTFilters(
        agents=_names(args.agent),
        tasks=_names(args.tasks),
        min_turns=args.min_turns,
        self_debug=args.self_debug,
        allow_heldout=args.allow_heldout,
    )
    store = ResultsStore(args.folder, read_only=True)
    try:
        result = export_sft(store, filters, args.out)
    finally:
        store.close()
    print(f"{result.written} conversation(s) written to {args.out}", file=sys.stderr)
    if result.duplicates:
        print(f"{result.duplicates} duplicate conversation(s) written once", file=sys.stderr)
    if result.heldout:
        print(
            f"{result.heldout} episode(s) refused: their task and seed belong to a held-out suite "
            "(--allow-heldout exports them)",
            file=sys.stderr,
        )
    for line in result.unreadable:
        print(f"skipped unreadable {line}", file=sys.stderr)
    return 0 if result.written else 1


def _names(values: list[str]) -> tuple[str, ...]:
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())
