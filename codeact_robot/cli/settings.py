"""The run configuration of ``run`` and ``chat``: a recorded episode, files, then the flags given.

Each layer is checked on its own first, so that an error names the file it is in; a
flag overrides a file or a recording only when the user gives it. A recording is a file
someone may hand you: it cannot raise a limit above the user's own settings (the defaults,
``--config`` and the flags), and it names no places and no secrets.
"""

from __future__ import annotations

import argparse
from typing import Any

from codeact_robot.agent.trajectory import count_episodes, read_trajectory
from codeact_robot.config import RunConfig, merge_settings, read_yaml, validated
from codeact_robot.envs.tasks import get_task
from codeact_robot.errors import UsageError
from codeact_robot.llm import LLMConfig
from codeact_robot.llm.config import key_settings
from codeact_robot.llm.model_server import check_model_servers
from codeact_robot.worker.config import Limits

AGENT_CHOICES = (
    "--agent reference (the scripted expert), --llm URL --model NAME (a model server), "
    "--engine vllm (the model in this process) or --replay FILE (a recorded episode)"
)
MODEL_CHOICES = "--llm URL --model NAME (a model server) or --engine vllm (the model in this process)"


def resolve_config(
    args: argparse.Namespace,
    notes: list[str],
    agents: str = AGENT_CHOICES,
    default_task: str | None = None,
    agent_required: bool = True,
) -> RunConfig:
    """The configuration ``run`` or ``chat`` asks for.

    Args:
        args: the parsed command line.
        notes: where to add remarks for the user (a trajectory holding other episodes).
        agents: the agent options of the command, for the error when none is given.
        default_task: the task when neither a flag nor a file names one (None: one must).
        agent_required: whether an agent must be named (the studio runs without one).

    Raises:
        UsageError: a file that is missing or invalid, a missing task or agent, or
            options that do not go together.
    """
    own: list[tuple[str, dict[str, Any]]] = []  # the user's settings: files they named, then flags
    replay = getattr(args, "replay", None)
    if getattr(args, "episode", None) is not None and not replay:
        raise UsageError("--episode N picks an episode of the trajectory file given with --replay FILE")
    if args.config:
        own.append((args.config, _run_file(args.config)))
    if args.llm_config:
        own.append((args.llm_config, {"llm": _llm_file(args.llm_config)}))
    own.append(("the command line", _flags(args)))
    layers = list(own)
    if replay:
        layers.insert(0, (f"the recording {replay}", _recorded(replay, args.episode, args.skills is not None, notes)))
    merged: dict[str, Any] = {}
    for source, data in layers:
        validated(RunConfig, data, source)
        merged = merge_settings(merged, data)
    if replay:
        merged = _within_own_limits(merged, own, notes)
    files = [(source, data.get("llm", {})) for source, data in own[:-1]]  # the last is the command line
    merged["llm"] = {**merged.get("llm", {}), **key_settings(files, args.api_key_env, args.llm)}
    if "task" not in merged and default_task is not None:
        merged["task"] = default_task
    if "task" not in merged:
        raise UsageError("which task? give --task NAME (see `codeact-robot tasks`) or a --config file that names one")
    if isinstance(merged["task"], str):
        merged["task"] = get_task(merged["task"]).name  # `stackblocks` is StackBlocks, and is shown so
    if agent_required and "backend" not in merged.get("llm", {}):
        raise UsageError(f"which agent? give {agents}")
    config: RunConfig = validated(RunConfig, merged, "the command line")
    if args.model and not config.llm.uses_model:
        raise UsageError(f"--model names the model behind --llm or --engine; {agent_name(config.llm)} has none")
    return config


def check_model_server(config: RunConfig, args: argparse.Namespace) -> None:
    """The pre-flight of ``run`` and ``chat``: the server answers, lists the model (unless
    ``--skip-model-check``) and, when images are sent, takes them.

    Raises:
        UsageError: one line saying what is wrong and what to do.
    """
    check_model_servers(
        [config.llm], with_images=[config.llm] if config.agent.images else [], require_listed=not args.skip_model_check
    )


def agent_name(llm: LLMConfig) -> str:
    """``the scripted expert`` or ``a replay``, for messages."""
    return "the scripted expert" if llm.backend == "reference" else f"the {llm.backend} backend"


def _recorded(path: str, episode: int | None, library_given: bool, notes: list[str]) -> dict[str, Any]:
    """The configuration an episode was recorded with (its task and seed included), less its places."""
    record = read_trajectory(path, episode or 0)
    if episode is None and (held := count_episodes(path)) > 1:
        notes.append(f"{path} holds {held} episodes; replaying the first (choose one with --episode 0 to {held - 1})")
    # A trajectory is a file someone may hand you: its settings are taken, the places and secrets
    # it names are not. Its skill library is replaced by the user's own unless --skills names one;
    # its model endpoint and key variable are dropped (a replay asks no model).
    settings = merge_settings(record.config, {"task": record.task, "seed": record.seed})
    env = dict(settings.get("env", {}))
    recorded_library = env.pop("skill_library", None)
    if recorded_library is not None and not library_given:
        notes.append(f"the recording used the skill library {recorded_library!r}; give --skills DIR to replay with it")
    llm = {k: v for k, v in settings.get("llm", {}).items() if k not in ("base_url", "api_key_env")}
    return {**settings, "env": env, "llm": llm}


def _within_own_limits(
    merged: dict[str, Any], own: list[tuple[str, dict[str, Any]]], notes: list[str]
) -> dict[str, Any]:
    """``merged`` with each limit no higher than the user's own settings give it (a recording's may be lower)."""
    own_limits: dict[str, Any] = {}
    for _, data in own:
        own_limits = merge_settings(own_limits, data.get("env", {}).get("limits", {}))
    ceiling = Limits.model_validate(own_limits)
    limits = dict(merged.get("env", {}).get("limits", {}))
    for name, value in limits.items():
        highest = getattr(ceiling, name)
        if value > highest:
            limits[name] = highest
            notes.append(f"the recording asks for {name} {value}; replaying with your own limit, {highest}")
    return {**merged, "env": {**merged.get("env", {}), "limits": limits}}


def _run_file(path: str) -> dict[str, Any]:
    data = read_yaml(path)
    if data and set(data) <= set(LLMConfig.model_fields) and not set(data) & set(RunConfig.model_fields):
        raise UsageError(
            f"{path} holds the settings of a model endpoint ({', '.join(data)}), not a run configuration; "
            "give it with --llm-config"
        )
    return data


def _llm_file(path: str) -> dict[str, Any]:
    data = read_yaml(path)
    if data and set(data) & set(RunConfig.model_fields) - set(LLMConfig.model_fields):
        raise UsageError(
            f"{path} holds a run configuration ({', '.join(data)}), not the settings of a model endpoint; "
            "give it with --config"
        )
    validated(LLMConfig, data, path)
    return data


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the command line gives (None: not given)."""
    llm: dict[str, Any] = {"model": args.model, "api_key_env": args.api_key_env}
    if getattr(args, "agent", None):
        llm["backend"] = "reference"
    if args.llm:
        llm.update(backend="openai", base_url=args.llm)
    if args.engine:
        llm["backend"] = "vllm"
    if getattr(args, "replay", None):
        llm.update(backend="replay", replay_path=args.replay, replay_episode=args.episode or 0)
    flags = {
        "task": args.task,
        "seed": args.seed,
        "env": {
            "api": args.api,
            "perception": args.perception,
            "colours": args.colours,
            "camera_size": args.size,
            "renderer": args.renderer,
            "limits": {"time_limit_s": args.time_limit},
            "skill_library": args.skills,
            "skills_top_k": args.skills_top_k,
            "max_turns": args.max_turns,
            "strict_isolation": args.strict_isolation,
        },
        "agent": {"mode": args.mode, "images": args.send_images, "prompt": args.prompt},
        "llm": llm,
    }
    return merge_settings({}, flags)  # without the options not given
