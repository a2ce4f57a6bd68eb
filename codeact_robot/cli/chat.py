"""``codeact-robot chat``: a person gives the robot instructions; it acts and answers."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from rich.console import Console

from codeact_robot.agent import make_backend
from codeact_robot.agent.session import Phase, Session
from codeact_robot.agent.trajectory import TurnRecord, write_trajectory
from codeact_robot.cli.display import PHASES, ConversationView, StatusLine, agent_text, make_console, show
from codeact_robot.cli.options import RUN, add_agent_options, add_command, add_model_source_options, add_scene_options
from codeact_robot.cli.outputs import save_images, writable_folder
from codeact_robot.cli.scene import scene_options
from codeact_robot.cli.settings import MODEL_CHOICES, agent_name, check_model_server, resolve_config
from codeact_robot.config import RunConfig
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.environments.observation import number
from codeact_robot.envs.tasks import TABLETOP, TaskInstance
from codeact_robot.errors import UsageError
from codeact_robot.worker.client import WorkerCrashed
from codeact_robot.worker.config import EnvConfig

CHAT_TURNS = 200
QUIT_WORDS = ("", "quit", "exit")
HOW_TO_QUIT = "an empty line, quit, Ctrl-D or Ctrl-C ends the chat and saves the conversation"
EXAMPLES = (
    "codeact-robot chat --llm http://localhost:8000/v1 --model " + RUN.llm.model,
    "codeact-robot chat --task PickPlace --seed 3 --llm http://gpu-host:8000/v1 --model my-model",
    'codeact-robot chat --scene \'{"blocks": ["red", "green"], "bowls": ["blue"]}\' --engine vllm',
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``chat``."""
    chat = add_command(
        commands,
        "chat",
        "give the robot instructions in your own words",
        EXAMPLES,
        "Each instruction starts the robot acting until it answers; follow-ups continue the same conversation. "
        f"Then {HOW_TO_QUIT}.",
    )
    add_scene_options(chat, TABLETOP.name)
    source = chat.add_argument_group("model (give one)").add_mutually_exclusive_group()
    add_model_source_options(source)
    add_agent_options(chat)
    chat.add_argument(
        "--images",
        metavar="DIR",
        help="folder for the camera images after every action and the trajectory (default: runs/chat-<time>)",
    )
    chat.set_defaults(handler=chat_command)


def interactive_env(config: RunConfig, extra: dict[str, Any], what: str) -> EnvConfig:
    """The environment of a conversation with the arm (chat, studio): it goes on after success,
    shows both cameras and allows ``CHAT_TURNS`` turns unless the user set a budget.

    Args:
        config: the resolved run configuration.
        extra: further settings of the command.
        what: names the settings in an error.
    """
    settings = {
        "end_on_success": False,
        "cameras": ("front", "top"),
        "max_turns": config.env.max_turns or CHAT_TURNS,
        **extra,
    }
    return config.env.with_overrides(settings, what)


def chat_command(args: argparse.Namespace) -> int:
    """Read instructions; after each, the agent acts until it replies. The trajectory is always written."""
    config = resolve_config(args, [], MODEL_CHOICES, default_task=TABLETOP.name)
    if not config.llm.uses_model:
        raise UsageError(f"chat needs a language model, not {agent_name(config.llm)}: give {MODEL_CHOICES}")
    options = scene_options(args.scene) if args.scene else {}
    folder = writable_folder(args.images or f"runs/chat-{time.strftime('%Y%m%d-%H%M%S')}", "the chat's images")
    check_model_server(config, args)
    config = config.model_copy(update={"env": interactive_env(config, {}, "the chat's settings")})
    console = make_console()
    status = StatusLine(console)
    env = CodeActEnv(config.task, config.env, model=config.llm.label)
    with closing(env), closing(make_backend(config.llm)) as llm:
        _greet(console, config, env.instance_for(config.seed, options))

        def on_phase(phase: Phase) -> None:
            turn = len(session.record.turns) + 1 if session.record is not None else 1
            status.show(PHASES[phase] if phase == "reset" else f"turn {turn} · {PHASES[phase]}")

        def on_turn(record: TurnRecord) -> None:
            if record.kind == "message":
                return  # the reply is printed once, after the stretch of acting
            view.turn(record)
            if record.code is not None:
                saved = save_images(folder, record.turn, session.info.get("images", {}))
                show(console, f"camera images: {', '.join(str(p) for p in saved)}", "dim")

        session = Session(
            env,
            llm,
            config.agent.mode,
            config.agent.images,
            config.model_dump(mode="json"),
            on_phase,
            config.agent.prompt,
        )
        view = ConversationView(console, config.env.max_turns or CHAT_TURNS)
        try:
            _converse(console, session, status, options, config.seed, on_turn)
        except WorkerCrashed as crash:
            if session.record is None:  # the worker could not start (e.g. --strict-isolation unmet)
                raise UsageError(f"the chat could not start: {crash}") from None
            raise
        except Exception as error:
            if session.record is not None:
                session.record.error = f"{type(error).__name__}: {error}"
                session.finish("error")
            raise
        finally:
            if session.record is not None:
                show(console, f"trajectory: {write_trajectory(session.record, folder / 'trajectory.jsonl')}")
            else:
                show(console, "no instruction was given; nothing to save")
    return 0


def _converse(
    console: Console,
    session: Session,
    status: StatusLine,
    options: dict[str, Any],
    seed: int,
    on_turn: Callable[[TurnRecord], None],
) -> None:
    """Instructions in, actions and answers out, until the user quits or the session ends."""
    while True:
        try:
            instruction = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if instruction.lower() in QUIT_WORDS:
            break
        try:
            with status:
                if session.record is None:
                    session.start(seed, {**options, "instruction": instruction})
                else:
                    session.instruct(f"Task: {instruction}")
                outcome = session.act(on_turn)
        except KeyboardInterrupt:
            if session.record is not None:
                session.finish("interrupted")
            console.print("interrupted")
            break
        reply = session.messages[-1]
        if outcome in ("message", "success") and reply["role"] == "assistant" and isinstance(reply["content"], str):
            show(console, f"robot> {reply['content'].strip()}")
        elif outcome in ("worker_crash", "llm_error", "context_overflow", "turn_limit", "reply_cut_off"):
            error = session.record.error if session.record is not None else None
            show(console, f"the session ended: {outcome}" + (f": {error}" if error else ""), "red")
            break


def _greet(console: Console, config: RunConfig, instance: TaskInstance) -> None:
    """The scene (or the task's instruction), the objects, who answers and how to quit."""
    scene = "a free scene" if instance.task == TABLETOP.name else f"the {instance.task} scene"
    show(console, f"chat: {scene}, seed {instance.seed} · agent: {agent_text(config)}", "bold")
    if instance.task != TABLETOP.name:
        show(console, f"The task: {instance.instruction}")
    objects = "; ".join(f"{p.name} at ({number(p.position[0])}, {number(p.position[1])})" for p in instance.placements)
    show(console, f"On the table: {objects or 'nothing'}.")
    show(console, f"Type an instruction for the robot; {HOW_TO_QUIT}.", "dim")
