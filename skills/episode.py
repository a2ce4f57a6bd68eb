"""Episode skills: talking to the user, finishing, saving a reusable skill.

They touch no world, so they run where the program runs (the executor), on an
:class:`EpisodeTalk` of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codeact_robot.skills.registry import skill

MAX_SAID = 100  # say() messages kept per code action
MAX_SAID_CHARS = 2000  # characters kept per message
EPISODE_SKILLS = frozenset({"say", "done", "save_skill"})
"""The skills of this module: they act on an :class:`EpisodeTalk`, not on a world."""

SkillSaver = Callable[[Any], str]
"""Stores a function a program defined (``save_skill``) and says what was done."""


class EpisodeTalk:
    """What one code action said and whether it asked to finish, and how functions are saved.

    Args:
        save_skill: what ``save_skill(f)`` does; None when the episode has no skill library.
    """

    def __init__(self, save_skill: SkillSaver | None = None) -> None:
        self.save_skill = save_skill
        self.said: list[str] = []
        self.done_requested = False

    def say(self, message: str) -> str:
        """Record a message to the user (kept within ``MAX_SAID`` messages of ``MAX_SAID_CHARS``).

        Returns:
            The message as recorded.
        """
        text = message[:MAX_SAID_CHARS]
        if len(self.said) < MAX_SAID:
            self.said.append(text)
        return text

    def start_action(self) -> None:
        """Forget what the previous code action said and whether it asked to finish."""
        self.said.clear()
        self.done_requested = False


@skill("other")
def say(ctx: EpisodeTalk, message: str) -> None:
    """Tell the user something (shown to them, and in the observation).

    Args:
        message: what to say.

    Example:
        say("I stacked the blocks.")
    """
    print(f"[robot says] {ctx.say(str(message))}")


@skill("other")
def done(ctx: EpisodeTalk) -> None:
    """Declare the task finished; the episode ends after this code action.

    Example:
        say("All blocks are stacked."); done()
    """
    ctx.done_requested = True


@skill("other")
def save_skill(ctx: EpisodeTalk, function: Any) -> str:
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
