"""The ``codeact-robot`` command line: tasks, scene, run, chat, serve, skills."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from codeact_robot.errors import UsageError

USAGE_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from codeact_robot.cli import eval, export, run, scene, serve

    parser = argparse.ArgumentParser(
        prog="codeact-robot", description="An LLM agent that controls a simulated robot arm by writing Python."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    scene.add_commands(commands)
    run.add_commands(commands)
    serve.add_commands(commands)
    eval.add_commands(commands)
    export.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for usage and configuration errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`| head`); say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
