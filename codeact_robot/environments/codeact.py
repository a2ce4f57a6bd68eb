"""``CodeActRobot/<Task>-v0``: the action is a Python program, the observation what it did."""

from __future__ import annotations

import string
import uuid
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from codeact_robot.environments.observation import MAX_TEXT_CHARS, format_observation, task_message
from codeact_robot.envs.tasks import TABLETOP, TaskInstance, get_task
from codeact_robot.errors import UsageError
from codeact_robot.library.authoring import store_skill
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.retrieval import skill_index
from codeact_robot.library.rules import SkillRejected, program_using
from codeact_robot.library.skill import LearnedSkill, Provenance, default_library_folder, now
from codeact_robot.skills.registry import has_object_state
from codeact_robot.worker.client import WorkerClient, WorkerCrashed
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import MAX_ERROR_CHARS, ActionReport, ScenePose, WorkerReply
from codeact_robot.worker.task_episode import episode_instance, start_episode, task_check

MAX_CODE_CHARS = 100_000


class AnyText(spaces.Text):
    """A text space that contains every string up to ``max_length`` (samples printable ASCII)."""

    def __init__(self, max_length: int) -> None:
        super().__init__(max_length=max_length, min_length=0, charset=string.printable)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length


class CodeActEnv(gym.Env[dict[str, Any], str]):
    """A tabletop task whose actions are Python programs, run in a sandboxed worker process.

    Each step runs one program (a *code action*) in a RestrictedPython sandbox whose
    variables persist across the steps of an episode; the program calls the robot API
    (``pick_and_place``, ``get_object_position`` ...), and the observation says what it
    printed, what went wrong and what the scene looks like now.

    ## Action Space
    ``Text(max_length=100000)``: the program's source. A longer program is refused with
    an error observation (the turn is spent, nothing runs).

    ## Observation Space
    ``Dict`` of ``text`` (what the agent sees: the task and scene after a reset, then
    ``Observation:`` with printed output, the error cut to the program's own lines, the
    scene and the turns left; at most ``MAX_TEXT_CHARS``) and ``rgb`` (the front
    camera's image, ``uint8`` of shape (height, width, 3)).

    ## Rewards
    1.0 on a step after which the task's success check holds, else 0.0.

    ## Episode End
    ``terminated`` on success (when ``end_on_success``), when the program calls
    ``done()``, or when the worker cannot be recovered; ``truncated`` when the turn
    budget is spent. ``info["outcome"]`` then says which (``success``, ``done``,
    ``turn_limit``, ``worker_crash``).

    ``info`` holds ``instruction``, ``task``, ``seed``, ``turn``, ``max_turns``,
    ``success``, ``check`` (the verdict's reason), the action's report (``stdout``,
    ``stdout_cut``, ``error``, ``error_type``, ``limit``, ``said``, ``done``,
    ``restarted``, and ``timings``), ``objects`` (true object states), ``scene`` (what
    perception reports), ``images`` (camera -> RGB), ``poses`` (with ``video_fps``: the
    scene's poses during the action, the last one as it ends; :meth:`render_video` draws
    them), ``skills`` (the headers of the learned skills loaded, for the prompt), ``skill_refs``
    (the same as ``name@version``), ``saved_skills`` (``name@version`` of the skills this
    step saved), ``skill_problems`` (library files that could not be read, each named) and
    ``outcome``. ``env.episode_id`` names the episode (a new id at every reset).

    ## Skill library
    At reset the ``skills_top_k`` verified skills of the library most relevant to the
    instruction are loaded into the sandbox (with the library skills they call). A skill
    a program saves is stored as a new, ``pending`` version, with its provenance (task,
    seed, episode id, model, time); the first later action of the episode that calls it
    becomes the program that verifies it (``codeact-robot skills verify``).

    ## Arguments
    - ``task``: task name (``codeact-robot tasks``); ``"Tabletop"`` (the default) is the
      free scene that ``reset(options=...)`` lays out.
    - ``config``: an :class:`EnvConfig` (perception, colours, camera size, renderer,
      limits, turn budget, cameras, video, skill library, isolation).
    - ``render_mode``: None or ``"rgb_array"`` (the front camera's latest image).
    - ``worker``: the episode worker to run in (one made for the same ``config``, which
      an evaluation hands from one episode to the next); default: a new one.
    - ``model``: the model writing the actions, recorded with the skills they save.
    - ``**overrides``: fields of ``EnvConfig`` (limit fields such as ``time_limit_s``
      at the top level), applied on top of ``config``.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        task: str = TABLETOP.name,
        config: EnvConfig | None = None,
        render_mode: str | None = None,
        worker: WorkerClient | None = None,
        model: str | None = None,
        **overrides: Any,
    ) -> None:
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise UsageError(f"unknown render_mode {render_mode!r}; render modes are: None, rgb_array")
        self.config = (config or EnvConfig()).with_overrides(overrides)
        self.task = get_task(task)
        self._object_state = has_object_state(self.config.api)  # observations name objects only where the API does
        episode_instance(self.config, self.task, 0)  # fail now on a colour split the task cannot use
        self.render_mode = render_mode
        self.model = model
        self.library = (
            SkillLibrary(self.config.skill_library or default_library_folder()) if self.config.skills_top_k else None
        )
        if worker is not None and worker.config != self.config:
            raise UsageError("the worker was made for other settings than this environment's")
        self.worker = worker or WorkerClient(self.config)
        width, height = self.config.camera_size
        self.action_space = AnyText(MAX_CODE_CHARS)
        self.observation_space = spaces.Dict(
            {"text": AnyText(MAX_TEXT_CHARS), "rgb": spaces.Box(0, 255, (height, width, 3), dtype=np.uint8)}
        )
        self.instance: TaskInstance | None = None
        self.turn = 0
        self.budget = 0
        self._last: WorkerReply | None = None
        self._offered: list[LearnedSkill] = []
        self._problems: list[str] = []
        self._unused: dict[str, LearnedSkill] = {}  # saved in this episode, no action has called them yet
        self._saved: list[str] = []
        self.episode_id = ""

    def instance_for(self, seed: int, options: dict[str, Any] | None = None) -> TaskInstance:
        """The episode :meth:`reset` lays out for ``seed`` and ``options`` (without laying it out)."""
        return episode_instance(self.config, self.task, seed, options)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Lay out the episode's scene and start a fresh sandbox.

        Args:
            seed: the episode seed (same seed, same scene).
            options: the task's reset options: ``instruction`` (the user's own words) and
                ``colours`` for tasks; the layout for the free scene (``blocks``, ``bowls``,
                ``cups``, ``positions``, ``instruction``, ``max_turns``).
        """
        super().reset(seed=seed)
        episode_seed = int(self.np_random.integers(2**31 - 1)) if seed is None else int(seed)
        self.instance = self.instance_for(episode_seed, options)
        self.turn = 0
        self.budget = self.config.max_turns or self.instance.max_turns
        self.episode_id = uuid.uuid4().hex
        self._unused, self._saved = {}, []
        self._offered, sources = self._retrieve(self.instance.instruction)
        reply = start_episode(self.worker, self.instance, sources)
        self._last = reply
        text = task_message(self.instance.instruction, reply.scene, self.budget, reply.notes, self._object_state)
        return self._observation(text, reply), self._info(reply)

    def step(self, action: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Run one code action in the sandbox and observe the result."""
        _, last = self._check_episode()
        if not isinstance(action, str):
            raise TypeError(f"the action must be a Python program as a str, got {type(action).__name__}")
        if len(action) > MAX_CODE_CHARS:
            return self.step_without_action(
                f"The program was not run: it has {len(action):,} characters; at most {MAX_CODE_CHARS:,} are allowed."
            )
        self.turn += 1
        try:
            reply = self.worker.execute(action, self.turn)
        except WorkerCrashed as crash:
            report = ActionReport(
                error=str(crash)[:MAX_ERROR_CHARS], error_type="WorkerCrash", limit="crash", origin="crash"
            )
            info = {**self._info(last, report), "outcome": "worker_crash"}
            self.instance = None  # the episode is over: a step now asks for a reset
            text = f"Observation:\nThe episode ended: {crash}"
            return self._observation(text, last), 0.0, True, False, info
        self._last = reply
        refused = self._store_skills(reply, action)
        info = self._info(reply)
        success = bool(info["success"])
        terminated = (success and self.config.end_on_success) or reply.report.done
        truncated = not terminated and self.turn >= self.budget
        info["outcome"] = _outcome(success, reply.report.done) if terminated or truncated else None
        notes = [*reply.notes, *refused] + (
            [f"The episode ends: {info['outcome'].replace('_', ' ')}."] if terminated or truncated else []
        )
        text = format_observation(reply.report, reply.scene, self.budget - self.turn, notes, self._object_state)
        return self._observation(text, reply), float(success), terminated, truncated, info

    def step_without_action(self, note: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Spend a turn that ran no code (the model's reply held no valid action).

        Args:
            note: what the observation tells the model (the expected format, say).
        """
        _, last = self._check_episode()
        self.turn += 1
        truncated = self.turn >= self.budget
        info = self._info(last, ActionReport())
        info["outcome"] = "turn_limit" if truncated else None
        notes = [note] + (["The episode ends: turn limit."] if truncated else [])
        text = format_observation(None, last.scene, self.budget - self.turn, notes, self._object_state)
        return self._observation(text, last), float(info["success"]), False, truncated, info

    def render_video(self, poses: Sequence[ScenePose]) -> list[np.ndarray]:
        """Video frames (``EnvConfig.video_camera``) of poses from this episode's ``info["poses"]``.

        Poses are recorded while actions run and drawn only when asked, so an episode
        whose video is not kept costs no rendering, and rendering never counts against an
        action's time limit. Drawing moves the world: the episode ends here.

        Args:
            poses: at most ``MAX_RENDER_POSES`` poses.

        Returns:
            One (height, width, 3) uint8 frame per pose; ``config.video_size`` gives the size.

        Raises:
            UsageError: the environment records no video (``video_fps`` is not set).
            ValueError: more than ``MAX_RENDER_POSES`` poses.
            WorkerCrashed: the worker could not draw them.
        """
        if self.config.video_fps is None:
            raise UsageError("this environment records no video; set video_fps (10 is the videos' rate)")
        self.instance = None  # a step now asks for a reset
        return self.worker.render(poses)

    def render(self) -> np.ndarray | None:
        """The front camera's latest image when ``render_mode == "rgb_array"``."""
        if self.render_mode == "rgb_array" and self._last is not None:
            return self._last.images["front"]
        return None

    def close(self) -> None:
        """Stop the worker process; safe to call twice. A later :meth:`reset` starts a new one."""
        self.worker.close()
        self.instance = self._last = None

    @property
    def world_state(self) -> dict[str, Any]:
        """The latest plain-data world state (exact), e.g. to compare or restore later."""
        return self._last.state.model_dump() if self._last is not None else {}

    def _check_episode(self) -> tuple[TaskInstance, WorkerReply]:
        if self.instance is None or self._last is None:
            raise RuntimeError("no episode is running (the env is new, closed or its worker crashed); call reset()")
        return self.instance, self._last

    def _retrieve(self, instruction: str) -> tuple[list[LearnedSkill], list[str]]:
        """The learned skills this episode is offered, and their sources (read afresh from the library)."""
        if self.library is None:
            return [], []
        self.library.refresh()
        self._problems = self.library.problems
        offered, sources = [], []
        for skill in skill_index(self.library.skills()).retrieve(instruction, self.config.skills_top_k):
            try:
                sources.append(self.library.source(skill))
            except UsageError:  # changed or removed since it was read: left out, like any unverified skill
                continue
            offered.append(skill)
        return offered, sources

    def _store_skills(self, reply: WorkerReply, action: str) -> list[str]:
        """Store what the action saved; make it the verification program of saved skills it calls.

        Returns:
            Notes for the observation: skills the host refused to store.
        """
        self._saved = []
        if self.library is None:
            return []
        assert self.instance is not None
        for name, skill in list(self._unused.items()):
            if self._verify_with(skill, action):
                del self._unused[name]
        refused = []
        provenance = Provenance(
            task=self.instance.task, seed=self.instance.seed, episode=self.episode_id, model=self.model, time=now()
        )
        loaded = {skill.name: skill.version for skill in self._offered}
        for saved in reply.saved_skills:
            try:
                skill = store_skill(self.library, saved.source, provenance, loaded=loaded)
            except (SkillRejected, UsageError) as error:  # the worker checked it: only a broken worker gets here
                refused.append(f"The skill {saved.name} was not stored: {error}")
                continue
            self._saved.append(skill.ref)
            if not self._verify_with(skill, action):
                self._unused[skill.name] = skill
        return refused

    def _verify_with(self, skill: LearnedSkill, action: str) -> bool:
        """Keep ``action``'s other statements as the program that verifies ``skill``, if they call it."""
        assert self.library is not None
        program = program_using(action, skill.name)
        if program is not None:
            self.library.update(skill, verify=skill.meta.verify.model_copy(update={"call": program}))
        return program is not None

    def _observation(self, text: str, reply: WorkerReply) -> dict[str, Any]:
        return {"text": text, "rgb": reply.images["front"]}

    def _info(self, reply: WorkerReply, report: ActionReport | None = None) -> dict[str, Any]:
        assert self.instance is not None
        report = report or reply.report
        objects = {o.name: o.model_dump() for o in reply.state.objects}
        verdict = task_check(self.instance, reply)
        return {
            "instruction": self.instance.instruction,
            "task": self.instance.task,
            "seed": self.instance.seed,
            "turn": self.turn,
            "max_turns": self.budget,
            "success": bool(verdict),
            "check": verdict.detail,
            **report.model_dump(exclude={"timings"}),
            "timings": report.timings,
            "report": report,
            "objects": objects,
            "scene": reply.scene.model_dump(),
            "poses": reply.poses if report is reply.report else (),
            "images": reply.images,
            "skills": [skill.header for skill in self._offered],
            "skill_refs": [skill.ref for skill in self._offered],
            "saved_skills": list(self._saved) if report is reply.report else [],
            "skill_problems": list(self._problems),
        }


def _outcome(success: bool, done: bool) -> str:
    if success:
        return "success"
    return "done" if done else "turn_limit"
