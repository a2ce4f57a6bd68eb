"""``codeact-robot eval``: run a suite into a results folder, resumable, many episodes at a time."""

from __future__ import annotations

import argparse
import signal
import typing
from pathlib import Path
from types import FrameType

from codeact_robot.cli.display import table_console
from codeact_robot.cli.options import (
    SKIP_MODEL_CHECK_HELP,
    add_api_key_option,
    add_api_option,
    add_command,
    add_video_camera_option,
    positive_int,
)
from codeact_robot.errors import UsageError
from codeact_robot.eval.reports.prices import load_prices
from codeact_robot.eval.running.evaluation import Backend, EvalOptions, run_evaluation
from codeact_robot.eval.running.runner import Retries, VideoRecord, Videos
from codeact_robot.eval.running.suite import load_suite, suite_names

EXAMPLES = [
    "codeact-robot eval --suite smoke --out runs/smoke                  # the expert, every family, offline",
    "codeact-robot eval --suite action-modes --out runs/modes --llm http://gpu-host:8000/v1 --cache  # any server",
    "codeact-robot eval --suite my-suite.yaml --out runs/mine --retry-errors   # resume, re-running errors",
    "codeact-robot eval --suite tabletop --out runs/t --backend ray --address ray://head:10001",
    "codeact-robot eval --suite smoke --out runs/smoke --videos failures --video-camera both",
]
DESCRIPTION = (
    "Every episode of a suite (tasks x seeds x agents) goes into the results store in --out. "
    "Run the same command again to resume: stored episodes are never run twice. "
    "Exit status: 0 every episode finished (success or not), 1 some ended in an infrastructure "
    "error (outcome error), 2 bad input, 130 interrupted."
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``eval``."""
    parser = add_command(
        commands, "eval", "run a suite of episodes into a results folder (resumable)", EXAMPLES, DESCRIPTION
    )
    parser.add_argument(
        "--suite",
        required=True,
        metavar="NAME|FILE",
        help=f"a shipped suite ({', '.join(suite_names())}) or a suite YAML file",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="results folder (results.sqlite); resumes there")
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--llm", metavar="URL", help="point every model-using agent at this OpenAI-compatible endpoint")
    model.add_argument("--engine", choices=["vllm"], help="run every model-using agent on one in-process vLLM engine")
    parser.add_argument("--model", help="the model every model-using agent asks for")
    add_api_key_option(parser)
    parser.add_argument("--skip-model-check", action="store_true", help=SKIP_MODEL_CHECK_HELP)
    parser.add_argument(
        "--workers", type=positive_int, metavar="N", help="worker processes computing at once (default: cores)"
    )
    parser.add_argument(
        "--max-in-flight",
        type=positive_int,
        metavar="M",
        help="episodes in flight (default: 4 x workers with a model, workers for the expert)",
    )
    parser.add_argument(
        "--backend",
        choices=typing.get_args(Backend),
        default=EvalOptions.backend,
        help="where episodes run (default: %(default)s)",
    )
    parser.add_argument("--address", help="Ray cluster: auto or ray://HOST:PORT (default: start a local Ray)")
    parser.add_argument("--limit", type=positive_int, metavar="K", help="run at most K of the episodes still to run")
    parser.add_argument("--retry-errors", action="store_true", help="run episodes stored with outcome error again")
    parser.add_argument("--cache", action="store_true", help="answer repeated model requests from DIR/llm_cache.sqlite")
    fresh = parser.add_mutually_exclusive_group()
    fresh.add_argument(
        "--new", action="store_true", help="DIR holds another suite's results: keep them aside, start a fresh store"
    )
    fresh.add_argument(
        "--force", action="store_true", help="DIR holds another suite's results: add this suite's beside them"
    )
    parser.add_argument(
        "--attempts",
        type=positive_int,
        default=Retries.attempts,
        help="tries per episode on transient failures (default: %(default)s)",
    )
    parser.add_argument(
        "--videos",
        choices=typing.get_args(VideoRecord),
        default=Videos.record,
        help="record videos of no episode, of the failed ones or of all, into DIR/videos (default: %(default)s)",
    )
    add_video_camera_option(parser)
    add_api_option(parser, "each agent's own")
    parser.set_defaults(handler=eval_command)


def eval_command(args: argparse.Namespace) -> int:
    """Validate, check, run, summarise; see :func:`run_evaluation` for the exit status."""
    if args.address and args.backend != "ray":
        raise UsageError("--address names a Ray cluster; add --backend ray")
    if args.video_camera and args.videos == "none":
        raise UsageError("--video-camera chooses what the videos show; give --videos failures or --videos all too")
    suite = load_suite(args.suite, args.api_key_env).with_endpoint(args.llm, args.model, args.engine)
    if args.api:
        suite = suite.with_api(args.api)
    options = EvalOptions(
        workers=args.workers,
        max_in_flight=args.max_in_flight,
        backend=args.backend,
        address=args.address,
        limit=args.limit,
        retry_errors=args.retry_errors,
        cache=args.cache,
        new=args.new,
        force=args.force,
        retries=Retries(attempts=args.attempts),
        videos=Videos(args.videos, args.video_camera),
        skip_model_check=args.skip_model_check,
        prices=load_prices(),  # the user's own table, read before any episode runs
    )
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a cluster's scheduler stops jobs with SIGTERM
    try:
        return run_evaluation(suite, Path(args.out), options, table_console())
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
