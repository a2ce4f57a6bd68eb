"""The studio's session: one episode that a person drives, with their own code or through a model.

Everything here is the host's side of the studio, used by its web server
(:mod:`codeact_robot.studio.server`): the conversation (:class:`~codeact_robot.agent.session.Session`),
the live camera frames, Stop, Undo, Reset, saving a skill, and the record to download.
One piece of work (an action, an instruction, an undo, a reset, a skill) runs at a time;
Stop and the reads of the state and the frames may come at any moment from other threads.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, Literal

from codeact_robot.agent.parser import OPEN
from codeact_robot.agent.session import Session
from codeact_robot.agent.trajectory import TurnRecord
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.environments.observation import describe_scene, turns_left_text
from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks.checks import is_in_bowl, is_on_top_of
from codeact_robot.library.skill import VerifyRequest, parse_ref
from codeact_robot.library.verification import Verifier
from codeact_robot.llm.base import Completion, LLMBackend, Message
from codeact_robot.skills.registry import all_skills
from codeact_robot.studio.live import ROBOT_LEFT, VIEWS, LiveFrames, LiveRenderer
from codeact_robot.worker.protocol import LiveView, ScenePose, SceneSummary

LIVE_FPS = 10.0
"""Poses a second (of wall time) the simulator sends while an action runs; the view draws as many
of them as its drawing speed allows (``benchmarks/studio.py``)."""
SKILL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")

Mode = Literal["code", "model"]


class Busy(RuntimeError):
    """Another piece of work is running; only Stop and reads can come now."""


class Refused(ValueError):
    """A request the studio cannot carry out as asked; the message says what would be valid."""


class StopActing(Exception):
    """Ends a model's stretch of acting after the turn a person stopped."""


class Studio:
    """One episode of a :class:`CodeActEnv`, driven from the studio's page.

    Args:
        env: the environment (its worker sends the live poses; ``video_fps`` must be set, so
            that every reply carries the scene's pose as it leaves it).
        llm: the model for instructions; None: code mode only.
        seed: the episode's seed (Reset may choose another).
        options: the scene's reset options (the free scene's layout).
        config: the run configuration, recorded with the trajectory.
    """

    def __init__(
        self,
        env: CodeActEnv,
        llm: LLMBackend | None,
        seed: int,
        options: dict[str, Any],
        config: dict[str, Any],
    ) -> None:
        if env.config.video_fps is None:
            raise ValueError("the studio draws the scene from its poses: the environment needs video_fps")
        self.env = env
        self.llm = llm
        self.seed = seed
        self.options = options
        self.frames = LiveFrames()
        self.renderer = LiveRenderer(env.config, self.frames)
        self.live_poses = 0  # poses received while actions ran
        self.session = Session(env, llm or _NoModel(), "codeact", False, config)
        self.cameras = "front"
        self.live = True
        self.mode: Mode = "model" if llm is not None else "code"
        self.last_verdict: dict[str, Any] | None = None
        self._work = threading.Lock()
        self._stopped = False
        self._writing = False  # the turn running now is one a person wrote
        self._turns: list[dict[str, Any]] = []  # each turn as the page shows it

    # --- work (one at a time) --------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Lay out the scene for the first time."""
        with self._working():
            self._start(self.seed)
        return self.state()

    def run_code(self, code: str) -> dict[str, Any]:
        """Run a program the person wrote as the next turn.

        Raises:
            Refused: an empty program, or one that holds the ``<execute>`` tags.
            Busy: another piece of work is running.
        """
        with self._working():
            try:
                self._run_written(code)
            except ValueError as error:
                raise Refused(str(error)) from None
        return self.state()

    def instruct(self, text: str) -> dict[str, Any]:
        """Give the model an instruction; it acts until it replies, finishes, or a person stops it.

        Raises:
            Refused: no model, or an empty instruction.
            Busy: another piece of work is running.
        """
        if self.llm is None:
            raise Refused("no model was given: start the studio with --llm URL --model NAME or --engine vllm")
        if not text.strip():
            raise Refused("the instruction is empty: type what the robot should do")
        with self._working():
            self._watch()
            self.session.instruct(f"Task: {text.strip()}")
            with suppress(StopActing):
                self.session.act(self._turn_done)
        return self.state()

    def undo(self) -> dict[str, Any]:
        """Take back the last action (see :meth:`Session.undo`).

        Raises:
            Refused: no action to take back.
            Busy: another piece of work is running.
        """
        with self._working():
            self.env.worker.watch(None)  # the kept actions run again unseen
            taken = self.session.undo()
            if taken is None:
                raise Refused("there is no action to undo")
            self._turns = self._turns[: taken.turn - 1]
            self._show_images()
        return self.state()

    def reset(self, new_seed: bool) -> dict[str, Any]:
        """Start the episode again, from the same seed or the next one (a new recording)."""
        with self._working():
            self._start(self.seed + 1 if new_seed else self.seed)
        return self.state()

    def save_skill(self, name: str, call: str, task: str) -> dict[str, Any]:
        """Save a function the session defined as a skill, as ``save_skill`` does, and verify it if asked.

        The program ``save_skill(name)`` runs as a turn of the episode (the worker checks
        the skill's rule, the host stores it as a new ``pending`` version). With a
        verification call and a task that has a success check, it is verified at once, as
        ``codeact-robot skills verify`` would (fresh episodes of the task, each running the
        call); without, it stays pending and the first later action that calls it becomes
        its verification program.

        Returns:
            The verdict: ``skill`` (``name@version``, or None when it was not stored),
            ``status`` and ``reason``.

        Raises:
            Refused: a bad name, no skill library, or a task without a success check.
            Busy: another piece of work is running.
        """
        if not SKILL_NAME.fullmatch(name):
            raise Refused(f"{name[:80]!r} is not a function name: letters, digits and _, starting with a letter")
        library = self.env.library
        if library is None:
            raise Refused("the skill library is off (--skills-top-k 0): start the studio with a library to save to")
        request = None
        if call.strip():
            try:
                request = VerifyRequest(tasks=(task,), call=call) if task else None
            except ValueError as error:
                raise Refused(f"cannot verify on {task!r}: {error}") from None
            if request is None:
                raise Refused("give the task whose fresh episodes verify the skill, or leave the call empty")
        with self._working():
            self._run_written(f"save_skill({name})")
            saved = self.session.info.get("saved_skills") or []
            if not saved:
                error = self.session.info.get("error") or "the function was not saved"
                self.last_verdict = {"skill": None, "status": "refused", "reason": error.strip().splitlines()[-1]}
                return self.state()
            skill = library.get(*parse_ref(saved[0]))
            if request is not None:
                verifier = Verifier(library, self.env.config)
                try:
                    skill = verifier.verify(skill, request).skill
                finally:
                    verifier.close()
            reason = skill.reason or "pending: the first later action that calls it becomes its verification program"
            self.last_verdict = {"skill": skill.ref, "status": skill.status, "reason": reason}
        return self.state()

    # --- at any time -----------------------------------------------------------------------

    def stop(self) -> bool:
        """Stop the action that runs now (and the model's stretch of acting); the session goes on.

        Returns:
            Whether an action was running.
        """
        self._stopped = True
        return self.env.worker.stop()

    def choose_view(self, cameras: str, live: bool) -> dict[str, Any]:
        """Which cameras the page shows (``front``, ``top`` or ``both``) and whether it follows actions live.

        Raises:
            Refused: an unknown camera choice.
        """
        if cameras not in VIEWS:
            raise Refused(f"unknown camera {cameras[:40]!r}; choose one of: {', '.join(VIEWS)}")
        self.cameras, self.live = cameras, live
        self._show_images()
        return self.state()

    def choose_mode(self, mode: str) -> dict[str, Any]:
        """Code mode (the person writes the actions) or model mode (the person gives instructions).

        Raises:
            Refused: an unknown mode, or model mode without a model.
        """
        if mode not in ("code", "model"):
            raise Refused(f"unknown mode {mode[:40]!r}; choose code or model")
        if mode == "model" and self.llm is None:
            raise Refused("no model was given: start the studio with --llm URL --model NAME or --engine vllm")
        self.mode = "code" if mode == "code" else "model"
        return self.state()

    def close(self) -> None:
        """End the camera view's drawing slot and the episode's worker."""
        self.renderer.close()
        self.env.close()

    def state(self) -> dict[str, Any]:
        """What the page shows: the scene, the turns so far, the mode, the view and the last skill verdict."""
        info = self.session.info
        record = self.session.record
        instance = self.env.instance
        return {
            "busy": self._work.locked(),
            "mode": self.mode,
            "has_model": self.llm is not None,
            "task": record.task if record else None,
            "instruction": record.instruction if record else "",
            "seed": record.seed if record else self.seed,
            "turns": list(self._turns),
            "turns_left": max(0, self.env.budget - self.env.turn) if instance is not None else 0,
            "scene": _scene(info) if info else None,
            "cameras": self.cameras,
            "shown": [{"camera": c, "left": ROBOT_LEFT[c]} for c in ("front", "top") if self.cameras in (c, "both")],
            "live": self.live,
            "live_poses": self.live_poses,
            "live_frames": self.frames.live,
            "verdict": self.last_verdict,
            "skills": info.get("skills", []) if info else [],
        }

    def trajectory(self) -> str:
        """The episode so far as one trajectory line (as ``run`` and ``chat`` write), to download.

        Raises:
            Refused: no episode yet.
        """
        record = self.session.record
        if record is None:
            raise Refused("no episode has started")
        with self._working():
            self.session.finish(self.session.info.get("outcome") or "open")
            return json.dumps(record.to_dict()) + "\n"

    # --- helpers -----------------------------------------------------------------------------

    @contextmanager
    def _working(self) -> Iterator[None]:
        if not self._work.acquire(blocking=False):
            raise Busy("the robot is busy: wait for it to finish, or press Stop")
        self._stopped = False
        try:
            yield
        finally:
            self._work.release()

    def _start(self, seed: int) -> None:
        self.seed = seed
        self._turns, self.last_verdict = [], None
        self.session.start(seed, self.options)
        self._show_images()

    def _run_written(self, code: str) -> None:
        """Run a program a person wrote (raises ValueError for one that cannot be a turn)."""
        self._watch()
        self._writing = True
        try:
            self.session.run_code(code, self._turn_done)
        finally:
            self._writing = False

    def _watch(self) -> None:
        """Follow the next actions live, or not when the live view is off."""
        if not self.live:
            self.env.worker.watch(None)
            return
        view, scene, state = self.cameras, self.env.episode_id, self.env.world_state

        def on_pose(pose: ScenePose) -> None:
            self.live_poses += 1
            self.renderer.show(view, scene, state, pose, live=True)

        self.env.worker.watch(LiveView(fps=LIVE_FPS), on_pose)

    def _turn_done(self, record: TurnRecord) -> None:
        self._turns.append(self._turn_view(record))
        self._show_images()
        if self._stopped and record.report.limit == "stopped" and not self._writing:  # a model stretch ends
            raise StopActing

    def _show_images(self) -> None:
        """Draw the scene as the last reply left it."""
        poses = self.session.info.get("poses") or ()
        if poses:
            self.renderer.show(self.cameras, self.env.episode_id, self.env.world_state, poses[-1])

    def _turn_view(self, record: TurnRecord) -> dict[str, Any]:
        """One turn as the page shows it."""
        report, info = record.report, self.session.info
        written = self._writing
        reasoning = record.assistant.split(OPEN)[0].strip() if record.kind != "message" else ""
        return {
            "turn": record.turn,
            "kind": record.kind,
            "by": "you" if written else "model",
            "reasoning": "" if written else reasoning,
            "reply": record.assistant.strip() if record.kind == "message" else "",
            "code": record.code,
            "note": record.note,
            "stdout": report.stdout,
            "stdout_cut": report.stdout_cut,
            "said": list(report.said),
            "error": report.error,
            "stopped": report.limit == "stopped",
            "scene": _scene(info) if record.kind != "message" else None,
            "turns_left": turns_left_text(max(0, self.env.budget - self.env.turn)),
            "success": record.success,
        }


def api_reference() -> list[dict[str, str]]:
    """The robot API as the page lists it: group, name, signature and docstring of every skill."""
    return [{"group": s.group, "name": s.name, "header": s.header(), "doc": s.doc} for s in all_skills()]


def _scene(info: dict[str, Any]) -> dict[str, Any]:
    """The scene summary: perception's paragraph, and each object's position and where it is."""
    states = {name: ObjectState.from_dict(data) for name, data in info.get("objects", {}).items()}
    held = info["scene"]["gripper"].get("holding")
    objects = []
    for name, state in states.items():
        objects.append(
            {
                "name": name,
                "position": [round(float(v), 3) for v in state.position],
                "where": _where(state, states, held),
            }
        )
    return {"text": describe_scene(SceneSummary.model_validate(info["scene"])), "objects": objects}


def _where(state: ObjectState, states: dict[str, ObjectState], held: str | None) -> str:
    """``in the blue bowl``, ``on the red block``, ``held by the gripper`` or ``on the table``."""
    if state.name == held:
        return "held by the gripper"
    for other in states.values():
        if other.name == state.name:
            continue
        if other.kind == "bowl" and is_in_bowl(state, other):
            return f"in the {other.name}"
        if other.kind == "block" and is_on_top_of(state, other):
            return f"on the {other.name}"
    return "on the table"


class _NoModel(LLMBackend):
    """The backend of a studio without a model: code mode never asks it."""

    name = "none"

    def complete(self, messages: list[Message], stop: list[str] | None = None) -> Completion:
        """Never called: :meth:`Studio.instruct` refuses without a model."""
        raise RuntimeError("the studio has no model")
