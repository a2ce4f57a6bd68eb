"""The system prompt: a template from ``configs/prompts`` filled with the generated API text."""

from __future__ import annotations

import json
from collections.abc import Sequence

from codeact_robot.configs import DEFAULT_PROMPT, SYSTEM_PROMPTS, read_text
from codeact_robot.envs.objects import COLOURS
from codeact_robot.envs.tasks import TaskInstance, get_task
from codeact_robot.envs.workspace import TABLE_PLACES, WORKSPACE
from codeact_robot.sandbox.modules import build_modules
from codeact_robot.skills.registry import (
    DEFAULT_API,
    api_reference,
    api_summary,
    argument_schemas,
    has_object_state,
)
from codeact_robot.worker.config import Limits

END_OF_TURN = "<|im_end|>"
"""Where a ChatML model ends its turn. CodeActAgent-Mistral was fine-tuned on ChatML but its tokenizer's
end-of-sequence token is ``</s>``, and ``<|im_end|>`` is no special token of it: a server stops at the end
of a turn only when the request asks it to (its authors' client sends ``["<|im_end|>", "</execute>"]``)."""
STOP_SEQUENCES = {"codeact": ["</execute>", END_OF_TURN], "json": [END_OF_TURN], "text": [END_OF_TURN]}
"""What a turn stops at in each action mode: the end of the turn, and in codeact the end of the code block."""


def fill(template: str, **values: str) -> str:
    """Replace ``{name}`` for the given names only (templates also hold literal JSON braces)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


TIER_NOTES = {
    "high": "",
    "primitive": "The arm moves only where move_to sends it: approach, grasp height, release and retreat are yours "
    "to compute.\n",
    "pixels": "No function reports objects: find them in the camera images (colour, depth, and the cameras' "
    "calibration from get_camera_info), and the arm moves only where move_to sends it.\n",
}


def action_format(mode: str, api: str = DEFAULT_API) -> str:
    """The format section for an action mode (for JSON, with every function's argument schema in the tier)."""
    text = read_text(f"prompts/format_{mode}.md").strip()
    if mode == "json":
        schemas = "\n".join(f"- {name}: {json.dumps(schema)}" for name, schema in argument_schemas(api).items())
        text = fill(text, schemas=schemas)
    return text


def system_prompt(
    mode: str,
    instance: TaskInstance | None,
    limits: Limits,
    learned: Sequence[str] = (),
    style: str = DEFAULT_PROMPT,
    api: str = DEFAULT_API,
) -> str:
    """The whole system prompt of an episode.

    Args:
        mode: ``"codeact"``, ``"json"`` or ``"text"``.
        instance: the episode (its task's rules are included), or None.
        limits: the per-action limits, stated to the model.
        learned: headers of the learned skills loaded into the sandbox (signature and
            first docstring line each), listed after the built-in API.
        style: ``"full"`` (every function's docstring) or ``"compact"`` (one line per
            function, fewer words: for models with a 4k context).
        api: the API tier whose skills the prompt documents.
    """
    task_rules = get_task(instance.task).rules if instance is not None else ""
    rules = f"- {task_rules}\n" if task_rules else ""
    learned_text = ""
    if learned:
        headers = "\n".join(learned)
        learned_text = f"\n### learned skills (saved in earlier episodes)\n{headers}\n"
    return fill(
        read_text(SYSTEM_PROMPTS[style]),
        workspace=WORKSPACE.describe(),
        colours=", ".join(COLOURS),
        places=", ".join(f'"{p}"' for p in TABLE_PLACES),
        api=api_summary(api) if style == "compact" else api_reference(api),
        tier_note=TIER_NOTES[api],
        scene_note="" if has_object_state(api) else " (objects are not listed at this API tier)",
        learned_skills=learned_text,
        time_limit=f"{limits.time_limit_s:g} s",
        sim_limit=f"{limits.max_sim_s:g} s",
        max_output=str(limits.max_output_chars),
        modules=", ".join(sorted(build_modules(0))),
        task_rules=rules,
        format=action_format(mode, api),
    )
