"""The scripted expert, answering in the CodeAct protocol like a model would."""

from __future__ import annotations

from codeact_robot.envs.errors import UsageError
from codeact_robot.envs.tasks import FREE_SCENE, TaskInstance
from codeact_robot.llm.base import Completion, LLMBackend, Message, cut_at_stop
from codeact_robot.skills.reference import reference_program, solve_call
from codeact_robot.worker.client import RESTARTED


class ReferenceBackend(LLMBackend):
    """Writes the task's reference program as its first code action, then reads observations.

    The program checks the goal itself and calls ``done()`` once it holds. When it has
    not, the next turn runs ``solve(...)`` again (the program defined it and it is
    idempotent); after a worker restart, which loses the namespace, the whole program
    is sent again.
    """

    name = "reference"

    def __init__(self) -> None:
        self.instance: TaskInstance | None = None

    def start_episode(self, instance: TaskInstance, mode: str) -> None:
        """Take the task to solve; the expert writes code, so only the codeact mode works."""
        if mode != "codeact":
            raise UsageError(f"the reference agent writes programs; use the codeact action mode, not {mode}")
        if instance.task == FREE_SCENE:
            raise UsageError("the free scene has no reference program; use --task NAME, or a model")
        self.instance = instance

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """The next turn: the whole program first, then ``solve(...)`` again until done."""
        if self.instance is None:
            raise RuntimeError("start_episode() was not called")
        turns = sum(1 for m in messages if m["role"] == "assistant")
        last = str(messages[-1]["content"]) if messages else ""
        if turns == 0 or RESTARTED in last:
            text = (
                f"I will write a program that solves the task and checks the result.\n<execute>\n"
                f"{reference_program(self.instance)}</execute>"
            )
        else:
            text = (
                f"The task is not finished yet; I will run the program again.\n<execute>\n"
                f"{solve_call(self.instance)}\n</execute>"
            )
        text, finish = cut_at_stop(text, stop)
        return Completion(text=text, finish_reason=finish or "stop")
