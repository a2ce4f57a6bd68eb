"""The scripted expert, answering in the CodeAct protocol like a model would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from codeact_robot.envs.tasks import TaskInstance
from codeact_robot.expert.programs import reference_program, solve_call
from codeact_robot.llm.base import Completion, LLMBackend, Message, cut_at_stop
from codeact_robot.skills.registry import DEFAULT_API


class ExpertBackend(LLMBackend):
    """Writes the task's reference program as its first code action, then follows up.

    The program checks the goal itself and calls ``done()`` once it holds. When it has
    not, the next turn runs ``solve(...)`` again (the program defined it and it is
    idempotent); after a worker restart, which loses the namespace, the whole program
    is sent again. The expert learns of restarts from each step's ``info`` (see
    :meth:`observe`), never from the observation's wording.

    Args:
        instance: the episode it solves; only its instruction's parameters are used.
        api: the API tier the program is written against (its prelude defines the rest).

    Raises:
        UsageError: the task has no reference program (the free scene).
    """

    name = "reference"

    def __init__(self, instance: TaskInstance, api: str = DEFAULT_API) -> None:
        self.instance = instance
        self._program = reference_program(instance, api)
        self._call = solve_call(instance)
        self._defined = False

    def observe(self, info: Mapping[str, Any]) -> None:
        """Take in a step's structured facts: a restarted worker lost the program's definitions."""
        if info.get("restarted"):
            self._defined = False

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """The next turn: the whole program first (and after a restart), then ``solve(...)`` again."""
        if not self._defined:
            self._defined = True
            text = (
                "I will write a program that solves the task and checks the result.\n"
                f"<execute>\n{self._program}</execute>"
            )
        else:
            text = f"The task is not finished yet; I will run the program again.\n<execute>\n{self._call}\n</execute>"
        text, finish = cut_at_stop(text, stop)
        return Completion(text=text, finish_reason=finish or "stop")
