"""``codeact-robot run``, ``chat`` and ``skills``: episodes with a model, the expert or a replay."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import imageio.v3 as iio
from rich.console import Console

from codeact_robot.agent import make_backend
from codeact_robot.agent.session import Session
from codeact_robot.agent.trajectory import TurnRecord, read_trajectory, write_trajectory
from codeact_robot.cli.display import ConversationView
from codeact_robot.cli.scene import add_render_options, scene_options
from codeact_robot.config import RunConfig, merge_settings, read_yaml, validated
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import TABLETOP, get_task
from codeact_robot.errors import UsageError
from codeact_robot.skills.library import SkillLibrary

VIDEO_FPS = 10
CHAT_TURNS = 200


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``run``, ``chat`` and ``skills``."""
    run = commands.add_parser("run", help="run one episode and write its trajectory; exit 0 on success, 1 otherwise")
    run.add_argument("--task", help="task name (see `codeact-robot tasks`)")
    run.add_argument("--seed", type=int)
    _add_agent_options(run, with_reference=True)
    run.add_argument("--video", help="write an MP4 of the front camera here")
    run.add_argument("--images", help="folder for the camera images after every turn")
    run.add_argument("--trajectory", help="JSON Lines file to append the episode to (default: runs/...)")
    run.set_defaults(handler=run_command)

    chat = commands.add_parser("chat", help="give the robot instructions interactively")
    where = chat.add_mutually_exclusive_group()
    where.add_argument("--task", help="start from this task's scene")
    where.add_argument("--scene", help='a free scene: a YAML/JSON file or inline JSON ({"blocks": ["red"], ...})')
    chat.add_argument("--seed", type=int)
    _add_agent_options(chat, with_reference=False)
    chat.add_argument("--images", help="folder for the camera image after every turn (default: runs/chat-...)")
    chat.set_defaults(handler=chat_command)

    skills = commands.add_parser("skills", help="list the learned skills of a skill library")
    skills.add_argument("--library", required=True, help="the skill library folder")
    skills.set_defaults(handler=list_skills)


def _add_agent_options(parser: argparse.ArgumentParser, with_reference: bool) -> None:
    parser.add_argument("--config", help="YAML run configuration (see configs/); flags override it")
    source = parser.add_mutually_exclusive_group()
    if with_reference:
        source.add_argument("--agent", choices=["reference"], help="the scripted expert (offline)")
        source.add_argument("--replay", help="replay the assistant turns of a trajectory file")
    source.add_argument("--llm", metavar="URL", help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
    source.add_argument("--engine", choices=["vllm"], help="the in-process vLLM engine (GPU host)")
    parser.add_argument("--model", help="model name at the endpoint (or to load in the engine)")
    parser.add_argument("--api-key-env", help="environment variable that holds the API key")
    parser.add_argument("--mode", choices=["codeact", "json", "text"], help="action mode")
    parser.add_argument("--perception", choices=["state", "vision"])
    parser.add_argument("--colours", choices=["seen", "unseen", "all"])
    parser.add_argument("--max-turns", type=int)
    parser.add_argument("--time-limit", type=float, help="wall-clock seconds per code action")
    parser.add_argument("--skill-library", help="folder of learned skills to load and save to")
    parser.add_argument("--send-images", action="store_true", help="attach the camera image to observations")
    add_render_options(parser)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    llm: dict[str, Any] = {"model": args.model, "api_key_env": args.api_key_env}
    if getattr(args, "agent", None):
        llm["backend"] = "reference"
    if args.llm:
        llm.update(backend="openai", base_url=args.llm)
    if args.engine:
        llm["backend"] = "vllm"
    if getattr(args, "replay", None):
        llm.update(backend="replay", replay_path=args.replay)
    return {
        "task": args.task,
        "seed": args.seed,
        "env": {
            "perception": args.perception,
            "colours": args.colours,
            "camera_size": args.size,
            "renderer": args.renderer,
            "limits": {"time_limit_s": args.time_limit},
            "skill_library": args.skill_library,
            "max_turns": args.max_turns,
        },
        "agent": {"mode": args.mode, "images": args.send_images or None},
        "llm": llm,
    }


def resolve_config(args: argparse.Namespace) -> RunConfig:
    """The run configuration: a replayed trajectory's, then the config file, then the flags."""
    base: dict[str, Any] = {}
    if getattr(args, "replay", None):
        recorded = read_trajectory(args.replay)
        base = merge_settings(recorded.config, {"task": recorded.task, "seed": recorded.seed})
    file_data = read_yaml(args.config) if args.config else {}
    merged = merge_settings(merge_settings(base, file_data), _overrides(args))
    return validated(RunConfig, merged, args.config or "the command line")


def run_command(args: argparse.Namespace) -> int:
    """One episode shown as it happens; exit 0 when the task's check holds at the end."""
    config = resolve_config(args)
    if not get_task(config.task).has_check:
        raise UsageError("`run` needs a task with a success check; use `chat` for the free scene")
    console = Console(highlight=False)
    env = CodeActEnv(config.task, config.env, video_fps=VIDEO_FPS if args.video else None, cameras=("front", "top"))
    frames: list[Any] = []
    try:
        llm = make_backend(config.llm, env.instance_for(config.seed), config.agent.mode)
        session = Session(env, llm, config.agent.mode, config.agent.images, config.model_dump(mode="json"))
        first = session.start(config.seed)
        view = ConversationView(console, config.agent.mode, env.budget)
        view.task(first)
        images = Path(args.images) if args.images else None

        def show(record: TurnRecord) -> None:
            view.turn(record)
            frames.extend(session.info.get("frames", []))
            if images is not None:
                _save_images(images, record.turn, session.info.get("images", {}))

        session.act(show)
        record = session.record
        assert record is not None
        llm.close()
    finally:
        env.close()
    view.verdict(record)
    path = Path(args.trajectory or f"runs/{time.strftime('%Y%m%d-%H%M%S')}-{record.task}-seed{record.seed}.jsonl")
    console.print(f"trajectory: {write_trajectory(record, path)}", soft_wrap=True)
    if args.video:
        console.print(f"video: {_write_video(Path(args.video), frames)} ({len(frames)} frames)", soft_wrap=True)
    return 0 if record.success else 1


def chat_command(args: argparse.Namespace) -> int:
    """Read instructions from the user; after each, the agent acts until it replies."""
    config = resolve_config(args)
    if not config.llm.uses_model:
        raise UsageError("chat needs a model: --llm URL --model NAME, or --engine vllm")
    options = scene_options(args.scene) if args.scene else {}
    task = args.task or TABLETOP.name
    console = Console(highlight=False)
    llm = make_backend(config.llm)
    env = CodeActEnv(
        task, config.env, end_on_success=False, max_turns=config.env.max_turns or CHAT_TURNS, cameras=("front", "top")
    )
    images = Path(args.images or f"runs/chat-{time.strftime('%Y%m%d-%H%M%S')}")
    session = Session(env, llm, config.agent.mode, config.agent.images, config.model_dump(mode="json"))
    view: ConversationView | None = None
    try:
        while True:
            try:
                instruction = input("you> ").strip()
            except EOFError:
                break
            if instruction.lower() in ("", "quit", "exit"):
                break
            if view is None:
                first = session.start(config.seed, {**options, "instruction": instruction})
                view = ConversationView(console, config.agent.mode, env.budget)
                view.task(first)
            else:
                session.instruct(f"Task: {instruction}")

            def show(record: TurnRecord, view: ConversationView = view) -> None:
                view.turn(record)
                saved = _save_images(images, record.turn, session.info.get("images", {}))
                console.print(f"[dim]camera images: {', '.join(str(p) for p in saved)}[/dim]", soft_wrap=True)

            outcome = session.act(show)
            reply = session.messages[-1]["content"] if session.messages[-1]["role"] == "assistant" else ""
            if outcome == "message" and isinstance(reply, str):
                console.print(f"robot> {reply.strip()}")
            elif outcome in ("worker_crash", "llm_error", "turn_limit"):
                console.print(f"[red]the session ended: {outcome}[/red] {session.record.error or ''}")
                break
    finally:
        env.close()
        llm.close()
    if session.record is not None:
        path = write_trajectory(session.record, images / "trajectory.jsonl")
        console.print(f"trajectory: {path}", soft_wrap=True)
    return 0


def list_skills(args: argparse.Namespace) -> int:
    """Print each learned skill's signature and summary."""
    skills = SkillLibrary(args.library).skills()
    if not skills:
        print(f"no learned skills in {args.library}")
    for learned in skills:
        print(learned.header)
    return 0


def _save_images(folder: Path, turn: int, images: dict[str, Any]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for camera, rgb in images.items():
        path = folder / f"turn{turn:02d}_{camera}.png"
        iio.imwrite(path, rgb)
        paths.append(path)
    return paths


def _write_video(path: Path, frames: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if frames:
        iio.imwrite(path, frames, fps=VIDEO_FPS, codec="libx264", macro_block_size=1)
    return path
