"""Episode skills: talking to the user, finishing, saving a reusable skill."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from codeact_robot.skills.registry import skill

if TYPE_CHECKING:
    from codeact_robot.skills.context import SkillContext

MAX_SAID = 100  # say() messages kept per code action
MAX_SAID_CHARS = 2000  # characters kept per message


@skill("other")
def say(ctx: SkillContext, message: str) -> None:
    """Tell the user something (shown to them, and in the observation).

    Args:
        message: what to say.

    Example:
        say("I stacked the blocks.")
    """
    print(f"[robot says] {ctx.say(str(message))}")


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

    The function's source (with its docstring) goes into the skill library. Once it
    has been verified in fresh episodes, later episodes whose task it fits load it
    and list it in their instructions.

    Args:
        function: a function defined with def in an earlier or the same code action.

    Returns:
        A confirmation naming the saved skill.

    Example:
        def lift(height):
            \"\"\"Raise the gripper straight up to height.\"\"\"
            x, y, z = get_gripper_position()
            return move_to([x, y, height])
        save_skill(lift)
    """
    if ctx.save_skill is None:
        raise RuntimeError("this episode has no skill library to save to (skills_top_k is 0)")
    return ctx.save_skill(function)
