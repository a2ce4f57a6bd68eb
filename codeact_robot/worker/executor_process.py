"""The executor: the untrusted half of an episode slot, where model-written code runs.

The host starts it as ``python -m codeact_robot.worker.executor_process HOST_FD CHANNEL_FD``
for one episode, ahead of time, and sends it the :class:`EnvConfig` as JSON. It imports
everything it will need, caps its memory, confines itself (:mod:`confinement`: an
unprivileged user where that keeps the installed packages readable, no file writes,
reads only of what it loaded, no network, no processes) and says how
(:class:`~codeact_robot.worker.protocol.Hello`) to the host. Then it answers the
simulator over the channel (:mod:`channel`): ``start`` builds the sandbox and loads the
learned skills, each ``run`` runs a program whose skills are stubs
(:mod:`executor_stubs`). It holds no world: a program that escapes the sandbox here can
call skills and nothing more. It ends when the simulator or the host goes away.
"""

from __future__ import annotations

import sys
import types
from multiprocessing.connection import Connection
from typing import Any

from codeact_robot.sandbox.executor import Sandbox
from codeact_robot.sandbox.limits import cap_memory
from codeact_robot.sandbox.output import plain_text
from codeact_robot.sandbox.skill_rule import SkillRejected, check_skill_source
from codeact_robot.skills import all_skills, bind, skills_for
from codeact_robot.skills.episode import EPISODE_SKILLS, EpisodeTalk
from codeact_robot.worker.channel import (
    MAX_ANSWER_BYTES,
    Finished,
    Run,
    Start,
    Started,
    checked,
    receive_message,
    send_model,
)
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.confinement import confine, runtime_paths
from codeact_robot.worker.executor_stubs import SkillChannel, skill_stubs
from codeact_robot.worker.protocol import MAX_ERROR_CHARS, MAX_NAME_CHARS, MAX_SAVED_SKILLS, Hello, SavedSkill


class ExecutorEpisode:
    """One episode's sandbox, whose remote skills are stubs to the simulator.

    Args:
        config: the environment's settings (limits, whether a skill library is used).
        channel: the channel to the simulator.
        seed: seeds the sandbox's ``random``.
    """

    def __init__(self, config: EnvConfig, channel: SkillChannel, seed: int) -> None:
        self.config = config
        every = skills_for(config.api)  # the tier's skills only: the namespace, help() and dir() show those
        self.channel = channel
        self.talk = EpisodeTalk(self.save_skill if config.skills_top_k else None)
        local = bind(self.talk, [s for s in every if s.name in EPISODE_SKILLS])
        skills = {**skill_stubs([s for s in every if s.name not in EPISODE_SKILLS], channel), **local}
        self.sandbox = Sandbox(skills, config.limits, seed)
        self.saved: list[SavedSkill] = []

    def load(self, sources: tuple[str, ...]) -> tuple[str, ...]:
        """Load learned skills (each runs only its ``def``); notes on those that did not load."""
        notes = []
        for source in sources:
            # A library file is untrusted however it got there: the rule is checked again here.
            try:
                skill = check_skill_source(source, self.sandbox.api_names)
            except SkillRejected as rejected:
                notes.append(f"a learned skill was not loaded: {rejected}")
                continue
            loaded = self.sandbox.run_compiled(skill.compiled)
            if loaded.error:
                notes.append(f"learned skill {skill.name} did not load: {loaded.error.splitlines()[-1]}")
        return tuple(notes)

    def run(self, code: str, turn: int) -> Finished:
        """Run one program (turn ``turn``) and say what it did."""
        self.saved.clear()
        self.talk.start_action()
        remote = self.channel.calls
        result = self.sandbox.run(code, f"<action {int(turn)}>")
        return Finished(
            op="finished",
            stdout=result.stdout,
            stdout_cut=result.stdout_cut,
            error=_clip(result.error),
            error_type=result.error_type[:MAX_NAME_CHARS] if result.error_type else None,  # a program's class name
            limit=result.limit,
            origin=result.origin,
            said=tuple(plain_text(message) for message in self.talk.said),
            done=self.talk.done_requested,
            local_calls=result.skill_calls - (self.channel.calls - remote),
            saved_skills=tuple(self.saved),
        )

    def save_skill(self, function: Any) -> str:
        """``save_skill(f)``: hand a function the program defined to the host, which stores it."""
        sandbox = self.sandbox
        if type(function) is not types.FunctionType or function.__globals__ is not sandbox.namespace:
            raise TypeError("save_skill needs a function you defined with def in a code action")
        name = function.__name__
        source = sandbox.functions.get(name)
        if not source:
            raise ValueError(f"save_skill needs a function defined with def at the top level; {name} was not")
        try:
            check_skill_source(source, sandbox.api_names)
        except SkillRejected as rejected:
            raise ValueError(f"save_skill refused {name}: {rejected}") from None
        if len(self.saved) >= MAX_SAVED_SKILLS:
            raise ValueError(f"at most {MAX_SAVED_SKILLS} skills can be saved by one code action")
        self.saved.append(SavedSkill(name=name, source=source))
        return f"saved skill {name}; once it is verified, later episodes can call it"


def _clip(error: str | None) -> str | None:
    """An error text within the protocol's cap: its start and, above all, its end (the exception)."""
    if error is None or len(error) <= MAX_ERROR_CHARS:
        return error
    keep = MAX_ERROR_CHARS // 2 - 20
    return f"{error[:keep]}\n[... {len(error) - 2 * keep} characters cut ...]\n{error[-keep:]}"


def serve(host: Connection, connection: Connection) -> None:
    """Import, confine, greet the host, then answer the simulator until either goes away.

    Args:
        host: this end of the socket pair to the host (the settings come in, the hello goes out).
        connection: this end of the channel to the simulator.
    """
    config = EnvConfig.model_validate_json(host.recv_bytes())
    # Everything a program can reach is imported now, before confining: afterwards this
    # process may be unable to read the installation (nobody, under a private home).
    Sandbox(skill_stubs(all_skills(), SkillChannel(connection)), config.limits).run("help(print)", "<warm-up>")
    cap_memory(config.limits.memory_limit_mb)
    confinement = confine(runtime_paths(), [], strict=config.strict_isolation, drop_user=True)
    host.send_bytes(Hello(confinement=str(confinement), missing=confinement.missing).model_dump_json().encode())
    channel = SkillChannel(connection)
    episode: ExecutorEpisode | None = None
    while True:
        try:
            header, _ = receive_message(connection, MAX_ANSWER_BYTES)
        except (EOFError, OSError):
            return
        message = checked(header, ("start",) if episode is None else ("run",))
        if isinstance(message, Start):
            episode = ExecutorEpisode(config, channel, message.seed)
            send_model(connection, Started(op="started", notes=episode.load(message.skills)))
        elif isinstance(message, Run) and episode is not None:
            send_model(connection, episode.run(message.code, message.turn))


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), Connection(int(sys.argv[2])))
