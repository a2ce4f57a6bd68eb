"""The CodeAct loop: the model writes an action, the environment runs it, the model observes.

The conversation is append-only (earlier turns are never rewritten, so a server's
prefix cache stays warm). A turn is an action, a message to the user, or malformed; a
message ends the stretch of acting, and the user may then give another instruction.
A person may also write an action themselves (:meth:`Session.run_code`, the studio's code
mode): it enters the conversation as an assistant turn, so a model that continues sees
it and a replay runs it again. :meth:`Session.undo` is the one way back: it takes the
last action and everything after it out of the conversation and lays the episode out
again from its seed, running the actions that are kept.
"""

from __future__ import annotations

import base64
import textwrap
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import imageio.v3 as iio
import numpy as np

from codeact_robot.agent.parser import CLOSE, OPEN, Turn, cut_off_turn, parse_turn
from codeact_robot.agent.prompt import STOP_SEQUENCES, system_prompt
from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord
from codeact_robot.configs import DEFAULT_PROMPT
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.imaging import CAMERA_CAPTIONS
from codeact_robot.llm.base import LLMBackend, LLMError, Message, message_text

TurnCallback = Callable[[TurnRecord], None]
Phase = Literal["reset", "model", "code"]
"""What a session is waiting for: the scene being laid out, the model's turn, a code action."""
PhaseCallback = Callable[[Phase], None]


@runtime_checkable
class InfoReader(Protocol):
    """A backend that also reads each step's structured facts (the scripted expert does)."""

    def observe(self, info: Mapping[str, Any]) -> None:
        """Take in the ``info`` of the step that answered the backend's last turn."""


class Session:
    """One conversation between a model and one episode of a CodeAct environment.

    Args:
        env: the environment (``gym.make("CodeActRobot/...").unwrapped`` or a ``CodeActEnv``).
        llm: where the assistant's turns come from.
        mode: action mode, ``"codeact"``, ``"json"`` or ``"text"``.
        images: attach the front camera image to every observation (multimodal models).
        config: the run configuration, stored in the episode record.
        on_phase: called as each wait begins (to show what is happening while it lasts).
        prompt: the system prompt's style, ``"full"`` or ``"compact"``.
    """

    def __init__(
        self,
        env: CodeActEnv,
        llm: LLMBackend,
        mode: str = "codeact",
        images: bool = False,
        config: dict[str, Any] | None = None,
        on_phase: PhaseCallback | None = None,
        prompt: str = DEFAULT_PROMPT,
    ) -> None:
        self.env = env
        self.llm = llm
        self.mode = mode
        self.images = images
        self.prompt = prompt
        self.config = config or {}
        self.on_phase = on_phase
        self.messages: list[Message] = []
        self.record: EpisodeRecord | None = None
        self.info: dict[str, Any] = {}
        self._started = 0.0
        self._reset: tuple[int, dict[str, Any] | None] = (0, None)  # the seed and options of start()
        self._turn_starts: list[int] = []  # per turn of the record: messages before its assistant message

    def start(self, seed: int, options: dict[str, Any] | None = None) -> str:
        """Reset the environment and open the conversation.

        Args:
            seed: the episode seed.
            options: reset options: ``instruction`` (the user's own words, as in a chat)
                and, for the free scene, its layout.

        Returns:
            The first user message.
        """
        self._started = time.perf_counter()
        self._reset = (seed, options)
        self._turn_starts = []
        self._phase("reset")
        observation, self.info = self.env.reset(seed=seed, options=options)
        instance = self.env.instance
        assert instance is not None
        text = observation["text"]
        config = self.env.config
        prompt = system_prompt(self.mode, instance, config.limits, self.info["skills"], self.prompt, config.api)
        self.messages = [{"role": "system", "content": prompt}, self._user(text, observation["rgb"])]
        self.record = EpisodeRecord(
            config=self.config,
            task=instance.task,
            seed=instance.seed,
            instruction=instance.instruction,
            mode=self.mode,
            episode_id=self.env.episode_id,
            skills=self.info["skill_refs"],
        )
        return text

    def instruct(self, text: str) -> None:
        """Add a follow-up instruction from the user (chat)."""
        self.messages.append({"role": "user", "content": text})

    def act(self, on_turn: TurnCallback | None = None) -> str:
        """Let the model act until it replies with a message, finishes or runs out of turns.

        A reply cut off at the token limit (finish reason ``length``) runs nothing, even
        when its text looks complete: the model is told so and spends the turn.

        Args:
            on_turn: called with each turn's record as it completes (to display it).

        Returns:
            How the stretch ended: ``"message"``, ``"success"``, ``"done"``, ``"turn_limit"``,
            ``"reply_cut_off"`` (the turn limit, reached by a reply cut off at the token
            limit), ``"worker_crash"``, ``"llm_error"`` or ``"context_overflow"`` (the
            conversation outgrew the model's context window).
        """
        assert self.record is not None, "call start() first"
        while True:
            prompt_chars = sum(len(message_text(m["content"]) or "") for m in self.messages)
            self._phase("model")
            try:
                completion = self.llm.complete(self.messages, stop=STOP_SEQUENCES[self.mode])
            except LLMError as error:
                self.record.error = str(error)
                return self.finish("context_overflow" if error.context_overflow else "llm_error")
            if completion.finish_reason == "length":
                turn = cut_off_turn(completion.text, self.mode, completion.completion_tokens)
            else:
                turn = parse_turn(completion.text, self.mode, self.env.config.api)
            record = self._open_turn(
                turn,
                llm_s=completion.latency_s,
                prompt_chars=prompt_chars,
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                finish_reason=completion.finish_reason,
            )
            if turn.kind == "message":
                if on_turn:
                    on_turn(record)
                return self.finish("success" if self.info.get("success") else "message")
            ended = self._answer(turn, record, on_turn)
            if ended is not None:
                return ended

    def run_code(self, code: str, on_turn: TurnCallback | None = None) -> str | None:
        """Run an action a person wrote, as the next turn of the conversation (``codeact`` mode).

        Args:
            code: the program.
            on_turn: called with the turn's record once it ran.

        Returns:
            How the episode ended (as :meth:`act`), or None while it goes on.

        Raises:
            ValueError: the program is empty or cannot be written as one ``<execute>`` block
                (it holds the tags itself), so its turn could not be replayed.
        """
        assert self.record is not None, "call start() first"
        if self.mode != "codeact":
            raise ValueError(f"a written program is a codeact action; this conversation is in {self.mode} mode")
        turn = parse_turn(f"{OPEN}\n{code}\n{CLOSE}", "codeact")
        if turn.kind != "action" or turn.note or turn.code != textwrap.dedent(code).strip("\n"):
            raise ValueError(
                "the program is empty" if not code.strip() else f"the program may not hold {OPEN} or {CLOSE} itself"
            )
        return self._answer(turn, self._open_turn(turn), on_turn)

    def _open_turn(self, turn: Turn, **measured: Any) -> TurnRecord:
        """Add the assistant's turn to the conversation and the record."""
        assert self.record is not None
        self._turn_starts.append(len(self.messages))
        self.messages.append({"role": "assistant", "content": turn.text})
        record = TurnRecord(
            turn=len(self.record.turns) + 1,
            kind=turn.kind,
            assistant=turn.text,
            code=turn.code,
            note=turn.note,
            success=bool(self.info.get("success")),
            **measured,
        )
        self.record.turns.append(record)
        return record

    def _answer(self, turn: Turn, record: TurnRecord, on_turn: TurnCallback | None) -> str | None:
        """Run the turn's code (or spend a malformed turn) and add the observation to the conversation.

        Returns:
            How the episode ended, or None while it goes on.
        """
        observation, terminated, truncated = self._execute(turn, record)
        self.messages.append(self._user(observation["text"], observation["rgb"]))
        if on_turn:
            on_turn(record)
        if terminated or truncated:
            ended = self.info.get("outcome") or "turn_limit"
            return self.finish("reply_cut_off" if ended == "turn_limit" and turn.kind == "cut_off" else ended)
        return None

    def undo(self) -> TurnRecord | None:
        """Take back the last turn that ran code, and every turn after it.

        The conversation and the record lose those turns. The scene is laid out again
        from the episode's seed, and the kept actions run again in order: physics and the
        sandbox are deterministic, so the scene, the program's variables and the functions
        it defined are exactly as they were before the turn taken back, and the record
        replays exactly. An action that was stopped part way ran to a moment of wall time:
        run again, it runs to its end.

        Returns:
            The turn taken back, or None when no turn ran code.
        """
        assert self.record is not None, "call start() first"
        ran = [i for i, t in enumerate(self.record.turns) if t.kind == "action"]
        if not ran:
            return None
        last = ran[-1]
        taken = self.record.turns[last]
        del self.messages[self._turn_starts[last] :]
        del self.record.turns[last:], self._turn_starts[last:]
        self._phase("reset")
        seed, options = self._reset
        _, self.info = self.env.reset(seed=seed, options=options)
        for kept in self.record.turns:
            if kept.kind == "action":
                self._phase("code")
                _, _, _, _, self.info = self.env.step(kept.code or "")
            elif kept.kind in ("malformed", "cut_off"):
                _, _, _, _, self.info = self.env.step_without_action(kept.note or "")
        return taken

    def _execute(self, turn: Turn, record: TurnRecord) -> tuple[dict[str, Any], bool, bool]:
        if turn.kind in ("malformed", "cut_off"):
            observation, _, terminated, truncated, self.info = self.env.step_without_action(turn.note or "")
        else:
            self._phase("code")
            observation, _, terminated, truncated, self.info = self.env.step(turn.code or "")
            if turn.note:
                observation = {**observation, "text": f"{observation['text']}\n{turn.note}"}
        if isinstance(self.llm, InfoReader):
            self.llm.observe(self.info)
        record.observation = observation["text"]
        record.report = self.info["report"]
        record.success = bool(self.info["success"])
        return observation, terminated, truncated

    def finish(self, outcome: str) -> str:
        """Close the episode's record with ``outcome`` (also when the user stops it midway).

        Returns:
            ``outcome``.
        """
        assert self.record is not None
        self.record.outcome = outcome
        self.record.success = bool(self.info.get("success"))
        self.record.check = self.info.get("check", "")
        self.record.final_objects = self.info.get("objects", {})
        self.record.messages = [_storable(m) for m in self.messages]
        self.record.wall_s = time.perf_counter() - self._started
        return outcome

    def _phase(self, phase: Phase) -> None:
        if self.on_phase is not None:
            self.on_phase(phase)

    def _user(self, text: str, rgb: np.ndarray) -> Message:
        if not self.images:
            return {"role": "user", "content": text}
        return {
            "role": "user",
            "content": [
                {"type": "text", "text": f"{text}\nImage: {CAMERA_CAPTIONS['front']}"},
                {"type": "image_url", "image_url": {"url": _data_url(rgb)}},
            ],
        }


def run_episode(
    env: CodeActEnv,
    llm: LLMBackend,
    seed: int,
    mode: str = "codeact",
    images: bool = False,
    options: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    on_turn: TurnCallback | None = None,
    prompt: str = DEFAULT_PROMPT,
) -> EpisodeRecord:
    """One evaluation episode: act until success, ``done()``, a final message or the turn limit.

    Returns:
        The episode's record (messages, turns, timings, outcome).
    """
    session = Session(env, llm, mode, images, config, prompt=prompt)
    session.start(seed, options)
    session.act(on_turn)
    assert session.record is not None
    return session.record


def _data_url(rgb: np.ndarray) -> str:
    png = iio.imwrite("<bytes>", rgb, extension=".png")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _storable(message: Message) -> Message:
    """The message with images replaced by a marker (trajectories hold text)."""
    if isinstance(message["content"], str):
        return dict(message)
    parts = [p if p.get("type") == "text" else {"type": "image", "camera": "front"} for p in message["content"]]
    return {"role": message["role"], "content": parts}
