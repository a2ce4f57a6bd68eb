"""Other skills: talking to the user, finishing, saving a reusable skill."""

from __future__ import annotations

from typing import Any

from codeact_robot.skills.context import SkillContext
from codeact_robot.skills.registry import skill

MAX_MESSAGE = 2000


@skill("other")
def say(ctx: SkillContext, message: str) -> None:
    """Tell the user something (shown to them, and in the observation).

    Args:
        message: what to say.

    Example:
        say("I stacked the blocks.")
    """
    text = str(message)[:MAX_MESSAGE]
    ctx.said.append(text)
    print(f"[robot says] {text}")


@skill("other")
def done(ctx: SkillContext) -> None:
    """Declare the task finished; the episode ends after this code action.

    Example:
        say("All blocks are stacked."); done()
    """
    ctx.done_requested = True


@skill("other")
def save_skill(ctx: SkillContext, function: Any) -> str:
    """Save a function you defined, so that later episodes can call it.

    The function's source (with its docstring) goes into the skill library; saved
    skills are loaded into every later episode and listed in its instructions.

    Args:
        function: a function defined with def in an earlier or the same code action.

    Returns:
        A confirmation naming the saved skill.

    Example:
        def stack(names):
            \"\"\"Stack the named blocks, first at the bottom.\"\"\"
            for lower, upper in zip(names, names[1:]):
                pick_and_place(upper, lower)
        save_skill(stack)
    """
    if ctx.save_skill_hook is None:
        raise RuntimeError("this episode has no skill library to save to")
    return ctx.save_skill_hook(function)
