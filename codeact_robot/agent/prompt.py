"""The system prompt: a template from ``configs/prompts`` filled with the generated API text."""

from __future__ import annotations

import json

from codeact_robot.config import packaged_config
from codeact_robot.envs.objects import COLOURS
from codeact_robot.envs.tasks import FREE_SCENE, TaskInstance, get_task
from codeact_robot.envs.workspace import TABLE_PLACES, WORKSPACE
from codeact_robot.sandbox.limits import Limits
from codeact_robot.sandbox.modules import build_modules
from codeact_robot.skills.library import LearnedSkill
from codeact_robot.skills.registry import all_skills, api_reference, argument_schema

STOP_SEQUENCES = {"codeact": ["</execute>"], "json": None, "text": None}


def fill(template: str, **values: str) -> str:
    """Replace ``{name}`` for the given names only (templates also hold literal JSON braces)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def action_format(mode: str) -> str:
    """The format section for an action mode (for JSON, with every function's argument schema)."""
    text = packaged_config(f"prompts/format_{mode}.md").strip()
    if mode == "json":
        schemas = "\n".join(f"- {s.name}: {json.dumps(argument_schema(s))}" for s in all_skills())
        text = fill(text, schemas=schemas)
    return text


def system_prompt(
    mode: str, instance: TaskInstance | None, limits: Limits, learned: list[LearnedSkill] | None = None
) -> str:
    """The whole system prompt of an episode.

    Args:
        mode: ``"codeact"``, ``"json"`` or ``"text"``.
        instance: the episode (its task's rules are included), or None.
        limits: the per-action limits, stated to the model.
        learned: learned skills loaded into the sandbox, listed after the built-in API.
    """
    rules = ""
    if instance is not None and instance.task != FREE_SCENE and get_task(instance.task).rules:
        rules = f"- {get_task(instance.task).rules}\n"
    learned_text = ""
    if learned:
        headers = "\n".join(s.header for s in learned)
        learned_text = f"\n### learned skills (saved in earlier episodes)\n{headers}\n"
    return fill(
        packaged_config("prompts/system.md"),
        workspace=WORKSPACE.describe(),
        colours=", ".join(COLOURS),
        places=", ".join(f'"{p}"' for p in TABLE_PLACES),
        api=api_reference(),
        learned_skills=learned_text,
        time_limit=f"{limits.time_limit_s:g} s",
        sim_limit=f"{limits.max_sim_steps / 240:g} s",
        max_output=str(limits.max_output_chars),
        modules=", ".join(sorted(build_modules(0))),
        task_rules=rules,
        format=action_format(mode),
    )
