"""``codeact-robot run``: one episode with a model, the expert or a replay, shown as it happens."""

from __future__ import annotations

import argparse
import json
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from rich.console import Console

from codeact_robot.agent import make_backend
from codeact_robot.agent.session import Phase, Session
from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord, write_trajectory
from codeact_robot.agent.video import VIDEO_FPS, VideoFailed, VideoRecorder
from codeact_robot.cli.display import (
    PHASES,
    ConversationView,
    StatusLine,
    agent_text,
    header_text,
    make_console,
    show,
    verdict_line,
)
from codeact_robot.cli.options import (
    INTERRUPTED,
    RUN,
    add_agent_options,
    add_command,
    add_model_source_options,
    add_video_camera_option,
    non_negative_int,
    seed,
)
from codeact_robot.cli.outputs import save_images, trajectory_file, video_file, writable_folder
from codeact_robot.cli.settings import check_model_server, resolve_config
from codeact_robot.config import RunConfig
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import get_task
from codeact_robot.errors import UsageError, printable
from codeact_robot.worker.client import WorkerCrashed

EXAMPLES = (
    "codeact-robot run --task StackBlocks --agent reference --video runs/demo.mp4",
    "codeact-robot run --task FindHiddenBlock --llm http://localhost:8000/v1 --model "
    f"{RUN.llm.model} --perception vision",
    "codeact-robot run --replay runs/episode.jsonl --episode 2 --quiet",
    "codeact-robot run --config configs/run_reference.yaml --seed 3 --json > result.json",
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``run``."""
    run = add_command(
        commands,
        "run",
        "run one episode and write its trajectory",
        EXAMPLES,
        "Give the task and one agent. Exit code 0 when the task's success check holds at the end, 1 when it "
        "does not, 2 for bad input, 130 when interrupted (the trajectory is written in every case but 2).",
    )
    episode = run.add_argument_group("episode")
    episode.add_argument("--task", help="task name (see `codeact-robot tasks`); required unless a file names it")
    episode.add_argument(
        "--seed", type=seed, help=f"episode seed: the same seed lays out the same scene (default: {RUN.seed})"
    )
    agent = run.add_argument_group("agent (give exactly one)")
    source = agent.add_mutually_exclusive_group()
    source.add_argument("--agent", choices=["reference"], help="the scripted expert: offline, no model")
    add_model_source_options(source)
    source.add_argument(
        "--replay", metavar="FILE", help="a trajectory file: replays its turns with the settings it recorded"
    )
    agent.add_argument(
        "--episode",
        type=non_negative_int,
        metavar="N",
        help="which episode of the --replay file, 0 for the first (default: 0)",
    )
    add_agent_options(run)
    output = run.add_argument_group("output")
    output.add_argument(
        "--video", metavar="FILE", help=f"write an MP4 of the episode ({VIDEO_FPS} fps), its task and turns drawn on"
    )
    add_video_camera_option(output)
    output.add_argument("--images", metavar="DIR", help="write both cameras' images after every turn")
    output.add_argument(
        "--trajectory",
        metavar="FILE",
        help="JSON Lines file to append the episode to (default: runs/<time>-<task>-seed<N>.jsonl)",
    )
    shown = output.add_mutually_exclusive_group()
    shown.add_argument("--quiet", action="store_true", help="print only the verdict, in one line")
    shown.add_argument("--json", action="store_true", help="print only a JSON summary of the episode")
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """One episode shown as it happens; exit 0 when the task's check holds at the end."""
    notes: list[str] = []
    config = resolve_config(args, notes)
    task = get_task(config.task)
    if not task.has_check:
        raise UsageError("`run` needs a task with a success check; use `chat` for the free scene")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    trajectory = trajectory_file(args.trajectory or f"runs/{stamp}-{task.name}-seed{config.seed}.jsonl")
    if args.video_camera and not args.video:
        raise UsageError("--video-camera chooses what the video shows; give --video FILE too")
    video_path = video_file(args.video) if args.video else None
    images = writable_folder(args.images, "the images") if args.images else None
    check_model_server(config, args)
    outputs: dict[str, Any] = {
        "video_fps": VIDEO_FPS if video_path else None,
        "cameras": ("front", "top") if images else ("front",),
    }
    if args.video_camera:
        outputs["video_camera"] = args.video_camera
    config = config.model_copy(update={"env": config.env.with_overrides(outputs, "the output options")})
    for note in notes:
        print(f"note: {printable(note)}", file=sys.stderr)
    console = make_console()
    chatty = not (args.quiet or args.json)
    with closing(CodeActEnv(config.task, config.env, model=config.llm.label)) as env:
        record, interrupted, video = _episode(env, config, console, chatty, video_path is not None, images, trajectory)
        path = write_trajectory(record, trajectory)
        try:
            written = _write_video(video, video_path, StatusLine(console, chatty)) if video and video_path else None
        except KeyboardInterrupt:
            print(f"interrupted while drawing the video; the trajectory is in {path}", file=sys.stderr)
            raise
    frames = video.video.frames if written and video else 0
    if args.json:
        print(json.dumps(_summary(config, record, path, written, frames)))
    elif args.quiet:
        print(verdict_line(record))
    else:
        show(console, f"trajectory: {path}")
        if written:
            show(console, f"video: {written} ({frames} frames)")
    if interrupted:
        return INTERRUPTED
    return 0 if record.success else 1


def _episode(
    env: CodeActEnv,
    config: RunConfig,
    console: Console,
    chatty: bool,
    record_video: bool,
    images: Path | None,
    trajectory: Path,
) -> tuple[EpisodeRecord, bool, VideoRecorder | None]:
    """Run the episode in ``env``, showing it when ``chatty``; Ctrl-C ends it and keeps its record.

    Returns:
        The record, whether the user interrupted the episode, and its video (when ``record_video``).

    Raises:
        KeyboardInterrupt: the user stopped it before the episode began (nothing to keep).
        Exception: an unexpected failure, once the turns so far are written to ``trajectory``.
    """
    status = StatusLine(console, enabled=chatty)
    view: ConversationView | None = None
    with closing(make_backend(config.llm, env.instance_for(config.seed), config.agent.mode, config.env.api)) as llm:

        def on_phase(phase: Phase) -> None:
            turn = f"turn {env.turn + 1}/{env.budget} · " if phase != "reset" else ""
            status.show(turn + PHASES[phase])

        def on_turn(record: TurnRecord) -> None:
            if video is not None:
                video.turn(record)
            if images is not None and record.code is not None:  # a turn that ran code: it moved and was seen
                save_images(images, record.turn, session.info.get("images", {}))
            if view is not None:
                view.turn(record)

        session = Session(
            env,
            llm,
            config.agent.mode,
            config.agent.images,
            config.model_dump(mode="json"),
            on_phase,
            config.agent.prompt,
        )
        video = VideoRecorder(session) if record_video else None
        interrupted = False
        if chatty:
            show(console, header_text(config), "bold")
        try:
            with status:
                first = session.start(config.seed)
                if video is not None:
                    video.start()
                if chatty:
                    view = ConversationView(console, env.budget)
                    view.task(first)
                session.act(on_turn)
        except KeyboardInterrupt:
            if session.record is None:
                raise
            interrupted = True
            session.finish("interrupted")
        except WorkerCrashed as crash:
            if session.record is None:  # the worker could not start (e.g. --strict-isolation unmet)
                raise UsageError(f"the episode could not start: {crash}") from None
            _keep_partial(session, crash, trajectory)
            raise
        except Exception as error:
            if session.record is not None:
                _keep_partial(session, error, trajectory)
            raise
    if view is not None:
        view.verdict(session.record)
    return session.record, interrupted, video


def _keep_partial(session: Session, error: Exception, trajectory: Path) -> None:
    """Write the turns of an episode that an unexpected error stopped, and say where they are."""
    assert session.record is not None
    session.record.error = f"{type(error).__name__}: {error}"
    session.finish("error")
    path = write_trajectory(session.record, trajectory)
    print(f"the episode stopped on an unexpected error; its turns so far are in {path}", file=sys.stderr)


def _write_video(video: VideoRecorder, path: Path, status: StatusLine) -> Path | None:
    """The video, ended with the verdict, or a warning: the episode's trajectory is already safe."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # that it can be written there was checked first
        with status:
            status.show("drawing the video")
            return video.write(path)
    except (VideoFailed, OSError) as failure:
        print(f"warning: the video could not be written to {path}: {printable(str(failure))}", file=sys.stderr)
        return None


def _summary(
    config: RunConfig, record: EpisodeRecord, trajectory: Path, video: Path | None, frames: int
) -> dict[str, Any]:
    """What ``--json`` prints: the verdict, the totals and where the files are."""
    return {
        "task": record.task,
        "seed": record.seed,
        "agent": agent_text(config),
        "backend": config.llm.backend,
        "model": config.llm.label,
        "mode": record.mode,
        "outcome": record.outcome,
        "success": record.success,
        "check": record.check,
        "error": record.error,
        **record.totals(),
        "trajectory": str(trajectory),
        "video": str(video) if video else None,
        "video_frames": frames if video else 0,
    }
