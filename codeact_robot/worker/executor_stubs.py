"""Skill stubs in the executor: each sends its call to the simulator and returns the answer.

A stub is made from the skill registry's metadata alone (name, signature, docstring), so
``help()`` and ``dir()`` read as they would of the skill itself, and nothing here imports
the world. The call travels as plain data over the executor channel (:mod:`channel`); an
exception the skill raised comes back as the same type with the same arguments, and a
limit of the simulator (steps, time) stops the program as a limit of the sandbox would.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection
from typing import Any

from codeact_robot.sandbox.limits import LimitExceeded, interruption_held
from codeact_robot.skills.registry import Skill
from codeact_robot.worker.channel import (
    MAX_ANSWER_BYTES,
    MAX_CALL_BYTES,
    RAISABLE,
    ChannelError,
    decode_value,
    encode_value,
    receive_message,
    send_message,
)


class SimulatorLost(BaseException):
    """The simulator went away or broke the channel mid-call: the program cannot go on.

    A ``BaseException``, so no ``except`` clause a program can write catches it.
    """


class SkillChannel:
    """The executor's end of the channel, for skill calls while a program runs.

    Args:
        connection: the executor's end of the socket pair.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.calls = 0  # calls sent or attempted (the simulator counts the ones it served)

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call skill ``name`` in the simulator and return its answer.

        The wall-clock limit's interruption waits until the answer is in (the simulator stops
        the skill at the same limit), so the channel never falls out of step.

        Raises:
            TypeError, ValueError: an argument that cannot cross (an object of a program's
                class), before anything is sent; or what the skill raised.
            LimitExceeded: the action reached the simulator's step or time limit.
            SimulatorLost: the simulator went away or answered out of the rules.
        """
        self.calls += 1
        buffers: list[memoryview] = []
        header = {
            "op": "call",
            "name": name,
            "args": encode_value(list(args), buffers),
            "kwargs": encode_value(kwargs, buffers),
        }
        size = sum(len(b) for b in buffers)
        if size > MAX_CALL_BYTES:
            raise ValueError(f"the arguments of {name}() are {size} bytes; at most {MAX_CALL_BYTES} can be passed")
        with interruption_held():
            try:
                send_message(self.connection, header, buffers)
                answer, data = receive_message(self.connection, MAX_ANSWER_BYTES)
            except (ChannelError, EOFError, OSError) as error:
                raise SimulatorLost(f"the simulator did not answer {name}(): {error}") from None
        printed = answer.get("printed")
        if type(printed) is str and printed:
            sys.stdout.write(printed)
        try:
            return _outcome(answer, data)
        except ChannelError as error:
            raise SimulatorLost(f"the simulator's answer to {name}() broke the channel: {error}") from None


def _outcome(answer: dict[str, Any], data: Any) -> Any:
    op = answer["op"]
    if op == "answer":
        return decode_value(answer.get("value"), data)
    if op == "raise":
        kind, arguments = answer.get("type"), decode_value(answer.get("args"), data)
        if type(kind) is not str or type(arguments) is not list:
            raise ChannelError("a raise must name a type and carry a list of arguments")
        if kind in RAISABLE:
            raise RAISABLE[kind](*arguments)
        raise RuntimeError(f"{kind[:60]}: {', '.join(map(str, arguments))}")
    if op == "limit" and answer.get("kind") in ("time", "sim_steps", "stopped") and type(answer.get("message")) is str:
        raise LimitExceeded(answer["kind"], answer["message"])
    raise ChannelError(f"an answer of an unknown form ({str(op)[:20]!r})")


def skill_stubs(skills: Iterable[Skill], channel: SkillChannel) -> dict[str, Callable[..., Any]]:
    """A stub per skill, named, documented and signed as the skill (what ``help()`` shows)."""
    return {s.name: _stub(s, channel) for s in skills}


def _stub(s: Skill, channel: SkillChannel) -> Callable[..., Any]:
    name = s.name

    def call(*args: Any, **kwargs: Any) -> Any:
        return channel.call(name, args, kwargs)

    call.__name__ = call.__qualname__ = s.name
    call.__doc__ = s.function.__doc__
    call.__signature__ = s.signature  # type: ignore[attr-defined]
    return call
