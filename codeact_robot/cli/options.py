"""What every command shares: one-line usage errors, help with defaults and examples, typed options."""

from __future__ import annotations

import argparse
import textwrap
import typing
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from codeact_robot.config import AgentConfig, RunConfig
from codeact_robot.errors import UsageError
from codeact_robot.worker.config import MAX_IMAGE_SIDE, MIN_IMAGE_SIDE, EnvConfig

RUN = RunConfig()
"""The defaults of a run, as the help shows them (each is written once, in its model)."""
HELP_WIDTH = 79
USAGE_ERROR = 2
INTERRUPTED = 130
CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool that a closed pipe ended (`yes | head`)
N = TypeVar("N", int, float)


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are :class:`UsageError`: one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def add_command(
    commands: argparse._SubParsersAction, name: str, summary: str, examples: Sequence[str], description: str = ""
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` shows its description, every option and some examples.

    Args:
        commands: the subparsers of the ``codeact-robot`` parser.
        name: the command's name.
        summary: one line for the list of commands (and the start of its help).
        examples: command lines, each shown on its own line under "examples:".
        description: more about the command, after the summary.
    """
    text = f"{summary[0].upper()}{summary[1:]}." + (f" {description}" if description else "")
    return commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(text, HELP_WIDTH),
        epilog="examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _number_type(kind: Callable[[str], N], what: str, accepts: Callable[[N], bool], rule: str) -> Callable[[str], N]:
    """An argparse type: the text as ``kind``, refused with ``rule`` unless ``accepts`` holds."""

    def parse(text: str) -> N:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"{rule}, got {text}")
        return value

    return parse


seed = _number_type(int, "a whole number", lambda v: v >= 0, "a seed is a whole number from 0 up")
positive_int = _number_type(int, "a whole number", lambda v: v >= 1, "must be 1 or more")
non_negative_int = _number_type(int, "a whole number", lambda v: v >= 0, "must be 0 or more")
positive_float = _number_type(float, "a number", lambda v: v > 0, "must be more than 0")
port_number = _number_type(int, "a whole number", lambda v: 0 <= v <= 65535, "a port is a number from 0 to 65535")


def image_size(text: str) -> tuple[int, int]:
    """``320x240`` -> (320, 240), each side within the camera's bounds."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a size looks like 320x240 (WIDTHxHEIGHT), got {text!r}") from None
    if not all(MIN_IMAGE_SIDE <= side <= MAX_IMAGE_SIDE for side in (width, height)):
        raise argparse.ArgumentTypeError(
            f"width and height must be {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} pixels each, got {text}"
        )
    return width, height


def size_text(size: tuple[int, int]) -> str:
    """(320, 240) -> ``320x240``."""
    return f"{size[0]}x{size[1]}"


def add_render_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """``--size`` and ``--renderer``, shared by the commands that render.

    Args:
        parser: the command's parser.
        defaults: give the options their defaults here (``scene``); otherwise they stay
            unset so that a configuration file or a recorded episode decides (``run``).
    """
    env = RUN.env
    parser.add_argument(
        "--size",
        type=image_size,
        default=env.camera_size if defaults else None,
        help=f"camera image size, WIDTHxHEIGHT, each side {MIN_IMAGE_SIDE} to {MAX_IMAGE_SIDE} "
        f"(default: {size_text(env.camera_size)})",
    )
    parser.add_argument(
        "--renderer",
        choices=_choices(EnvConfig, "renderer"),
        default=env.renderer if defaults else None,
        help=f"tiny: TinyRenderer on the CPU (the same images everywhere); egl: the GPU; auto: egl where it "
        f"works (default: {env.renderer})",
    )


def add_video_camera_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--video-camera``, shared by the commands that write videos (unset unless given)."""
    parser.add_argument(
        "--video-camera",
        choices=_choices(EnvConfig, "video_camera"),
        help="what the video shows: front (from behind the robot, so its left is on the left, as in the "
        f"instructions), top (straight down) or both side by side (default: {RUN.env.video_camera})",
    )


SKIP_MODEL_CHECK_HELP = (
    "start even if the server does not list the model (a server that loads models on demand lists only "
    "the loaded ones); the server must still answer"
)


def add_agent_options(parser: argparse.ArgumentParser) -> None:
    """The settings of the environment, the agent and its model, for ``run`` and ``chat``.

    Each option is unset unless given, so that it overrides a configuration file or a
    recorded episode only when the user gives it; the help shows the built-in default.
    """
    env, agent, llm = RUN.env, RUN.agent, RUN.llm
    files = parser.add_argument_group("configuration files")
    files.add_argument(
        "--config",
        metavar="FILE",
        help="YAML run configuration (configs/run_reference.yaml); options given here override it",
    )
    files.add_argument(
        "--llm-config",
        metavar="FILE",
        help="YAML settings of the model endpoint (configs/llm_vllm.yaml): backend, base_url, model, sampling",
    )
    model = parser.add_argument_group("model settings")
    model.add_argument("--model", help=f"model name at the endpoint or to load in the engine (default: {llm.model})")
    add_api_key_option(model)
    model.add_argument("--skip-model-check", action="store_true", help=SKIP_MODEL_CHECK_HELP)
    model.add_argument("--mode", choices=_choices(AgentConfig, "mode"), help=f"action mode (default: {agent.mode})")
    model.add_argument(
        "--prompt",
        choices=_choices(AgentConfig, "prompt"),
        help=f"system prompt: full, or compact (one line per function) for models with a 4k context "
        f"(default: {agent.prompt})",
    )
    model.add_argument(
        "--send-images",
        action="store_true",
        default=None,
        help="attach the front camera image to every observation, for multimodal models (default: off)",
    )
    world = parser.add_argument_group("environment")
    add_api_option(world)
    world.add_argument(
        "--perception",
        choices=_choices(EnvConfig, "perception"),
        help=f"object poses from the simulator's state or estimated from RGB-D images (default: {env.perception})",
    )
    world.add_argument(
        "--colours", choices=_choices(EnvConfig, "colours"), help=f"colour split of the scene (default: {env.colours})"
    )
    world.add_argument("--max-turns", type=positive_int, metavar="N", help="turn budget (default: the task's own)")
    world.add_argument(
        "--time-limit",
        type=positive_float,
        metavar="SECONDS",
        help=f"wall-clock seconds per code action (default: {env.limits.time_limit_s:g})",
    )
    world.add_argument(
        "--skills",
        metavar="DIR",
        help="the skill library to load verified skills from and save new ones to (default: your own, "
        "in the user data folder; see `codeact-robot skills list`)",
    )
    world.add_argument(
        "--skills-top-k",
        type=non_negative_int,
        metavar="K",
        help=f"learned skills offered to the episode, the most relevant to its instruction; 0 turns the library "
        f"off (default: {env.skills_top_k})",
    )
    world.add_argument(
        "--strict-isolation",
        action="store_true",
        default=None,
        help="refuse to run code unless the worker can confine itself (Landlock, seccomp) (default: off)",
    )
    add_render_options(world, defaults=False)


def add_scene_options(parser: argparse.ArgumentParser, default_task: str) -> None:
    """``--task`` or ``--scene``, and ``--seed``: the scene an interactive command starts from.

    Args:
        parser: the command's parser.
        default_task: the task named in the help when neither is given (a free scene).
    """
    scene = parser.add_argument_group("scene")
    where = scene.add_mutually_exclusive_group()
    where.add_argument("--task", help=f"start from this task's scene (default: {default_task}, a free scene)")
    where.add_argument(
        "--scene", metavar="LAYOUT", help='a free scene: a YAML/JSON file or inline JSON, {"blocks": ["red"], ...}'
    )
    scene.add_argument("--seed", type=seed, help=f"scene seed; the same seed, the same scene (default: {RUN.seed})")


def add_model_source_options(group: argparse._MutuallyExclusiveGroup) -> None:
    """``--llm URL`` or ``--engine vllm``: where a command's model answers (one of them)."""
    group.add_argument("--llm", metavar="URL", help="an OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    group.add_argument("--engine", choices=["vllm"], help="the model in this process with vLLM (GPU host)")


def add_api_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, default: str | None = None) -> None:
    """``--api TIER``: the skills programs see.

    Args:
        parser: where to add it.
        default: the default to state in the help (None: the environment's).
    """
    parser.add_argument(
        "--api",
        choices=_choices(EnvConfig, "api"),
        help="the API tier programs see: high (every skill), primitive (no pick/place/push/go_home), "
        f"pixels (primitive without object state) (default: {default or EnvConfig().api})",
    )


def _choices(model: type[Any], field: str) -> list[str]:
    """The values a ``Literal`` field allows."""
    return list(typing.get_args(model.model_fields[field].annotation))


def add_api_key_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--api-key-env``: the only way to choose which variable's value is sent as the API key."""
    parser.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="environment variable that holds the endpoint's API key, never logged (default: "
        f"{RUN.llm.api_key_env} for a URL given on the command line, none for a URL a file gives; "
        "a file that names a variable needs this option naming the same)",
    )
