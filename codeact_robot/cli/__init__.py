"""The ``codeact-robot`` command line: tasks, scene, run, chat, studio, serve, skills, report, view, export."""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence

from codeact_robot import __version__
from codeact_robot.cli.options import CLOSED_PIPE, INTERRUPTED, USAGE_ERROR, Parser
from codeact_robot.errors import UsageError, printable


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    from codeact_robot.cli import chat, eval, export, report, run, scene, serve, skills, studio, view

    commands_in_order = (
        scene,
        run,
        chat,
        studio,
        serve,
        eval,
        report,
        view,
        export,
        skills,
    )  # each module registers its commands
    parser = Parser(
        prog="codeact-robot",
        description="An LLM agent that controls a simulated robot arm by writing Python.",
        epilog="`codeact-robot COMMAND --help` explains a command's options, with examples.",
    )
    parser.add_argument("--version", action="version", version=f"codeact-robot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in commands_in_order:
        module.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for usage and configuration errors)."""
    for stream in (sys.stdout, sys.stderr):
        # What a program prints may not be encodable here (a lone surrogate, a C locale): show an escape.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(arguments)
        return int(args.handler(args) or 0)
    except UsageError as error:
        message = " ".join(str(error).splitlines())
        print(f"error: {printable(message)}", file=sys.stderr)
        if "--json" in arguments:  # a script that asked for JSON gets JSON, the error and the exit status
            print(json.dumps({"error": message, "exit_status": USAGE_ERROR}))
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, with the status of a Unix tool that SIGPIPE
        # ended, and send what is still buffered nowhere (flushing it at exit would fail again).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return CLOSED_PIPE
