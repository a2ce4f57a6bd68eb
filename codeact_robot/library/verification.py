"""Verification by the physics: a skill is kept where fresh episodes of a task succeed with it.

Each episode is a new scene (a seed the skill was not written on) in an episode worker of
its own settings, with the skill and the library skills it calls (at their pinned
versions) loaded into the sandbox; the verification program runs as the episode's one
code action, and the task's success check decides. Every episode must succeed; the first
that does not is recorded with its seed and error, and the skill is ``rejected``.

A verdict is about the skill:

- the program runs once more with the skill replaced by a no-op (a function of its name
  that does nothing and returns None); when the check still holds, the program solves the
  task without the skill, which it therefore proves nothing about: ``rejected``, saying so;
- an episode that cannot run (the worker crashed, the scene could not be reset) says
  nothing about the skill: it stays ``pending``, with the error (``SkillMeta.interrupted``);
- a program that came with an imported library is not run: the user gives a call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from codeact_robot.envs.tasks import get_task
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.skill import Failure, LearnedSkill, Verdict, VerifyRequest, callees, load_conflict, now
from codeact_robot.worker.client import WorkerClient, WorkerCrashed
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.task_episode import episode_instance, start_episode, task_check

SEED_RANGE = 1_000_000
MAX_FAILURE_CHARS = 2000


@dataclass(frozen=True)
class Outcome:
    """What verifying one skill came to.

    Attributes:
        skill: the skill as the library now holds it (its status and reason updated).
        ran: whether every episode ran (False: it stays pending, see ``note`` or ``skill.reason``).
        note: why it was not verified now, where the skill's reason does not say (None: it does).
    """

    skill: LearnedSkill
    ran: bool
    note: str | None = None


def verification_seeds(skill: LearnedSkill, count: int) -> tuple[int, ...]:
    """``count`` seeds of its own for a skill version: derived from its source, never the seed it was written on."""
    digest = int(hashlib.sha256(f"{skill.ref}:{skill.sha256}".encode()).hexdigest()[:12], 16)
    seeds: list[int] = []
    candidate = digest % SEED_RANGE
    while len(seeds) < count:
        if candidate != skill.meta.provenance.seed:
            seeds.append(candidate)
        candidate = (candidate + 7919) % SEED_RANGE
    return tuple(seeds)


class _Interrupted(Exception):
    """A verification episode could not run (a worker crash, a failed reset): nothing about the skill."""


def no_op_source(name: str) -> str:
    """A skill of ``name`` that does nothing: what the verification program runs with instead of the skill."""
    return f'def {name}(*args, **kwargs):\n    """Does nothing (the program without the skill)."""\n    return None\n'


class Verifier:
    """Verifies skills of one library, one episode worker serving every episode.

    Args:
        library: the library (verdicts are written back to it).
        config: the episode workers' settings (renderer, perception, limits ...); the
            library itself is switched off in verification episodes.
    """

    def __init__(self, library: SkillLibrary, config: EnvConfig | None = None) -> None:
        self.library = library
        self.config = (config or EnvConfig()).with_overrides({"skills_top_k": 0}, "the verification's settings")
        self._worker: WorkerClient | None = None

    def verify(self, skill: LearnedSkill, request: VerifyRequest | None = None) -> Outcome:
        """Verify one skill version (first the pending skills it calls).

        Args:
            skill: the version to verify.
            request: a new request (tasks, call, seeds) to store and use; None keeps its own.

        Raises:
            UsageError: it calls a version the library does not hold.
        """
        if request is not None:
            skill = self.library.update(skill, verify=request)
        return self._verify(skill)

    def _verify(self, skill: LearnedSkill) -> Outcome:
        tasks, program = skill.verify_tasks, skill.meta.verify.call
        if tasks and not program and skill.meta.verify.imported_call:
            note = (
                "its verification program came with an imported library and is not run: read it "
                f"(skills show {skill.ref}), then give it or your own with --call"
            )
            return Outcome(skill, ran=False, note=note)
        if not tasks or not program:
            return Outcome(skill, ran=False)
        sources = [self.library.source(skill)]
        needed = callees(skill, self.library.versions())
        conflict = load_conflict(skill, needed)
        if conflict is not None:
            return self._reject(skill, tasks, (), tasks[0], 0, conflict)
        for callee in needed:
            callee = self.library.get(callee.name, callee.version)  # verified meanwhile, as another's callee
            if callee.status == "pending":
                verified = self._verify(callee)
                callee = verified.skill
                if callee.status == "pending":
                    note = f"it calls {callee.ref}, which is still pending: {verified.note or callee.reason}"
                    return Outcome(skill, ran=False, note=note)
            if callee.status != "verified":
                reason = f"it calls {callee.ref}, which is {callee.status}: {callee.reason}"
                return self._reject(skill, tasks, (), tasks[0], 0, reason)
            sources.append(self.library.source(callee))
        seeds = verification_seeds(skill, skill.meta.verify.seeds)
        try:
            for task in tasks:
                for seed in seeds:
                    error = self._episode(task, seed, sources, program)
                    if error is not None:
                        return self._reject(skill, tasks, seeds, task, seed, error)
            task, seed = tasks[0], seeds[0]
            if self._episode(task, seed, [no_op_source(skill.name), *sources[1:]], program) is None:
                hollow = (
                    f"the verification program solves the task without the skill too (with {skill.name} replaced "
                    "by a function that does nothing), so it proves nothing about the skill: give a program that "
                    "depends on it (--call)"
                )
                return self._reject(skill, tasks, seeds, task, seed, hollow)
        except _Interrupted as interruption:
            stopped = Failure(task=task, seed=seed, error=str(interruption)[-MAX_FAILURE_CHARS:])
            return Outcome(self.library.update(skill, interrupted=stopped), ran=False)
        verdict = Verdict(status="verified", source_sha256=skill.sha256, tasks=tasks, seeds=seeds, time=now())
        return Outcome(self.library.update(skill, verdict=verdict, interrupted=None), ran=True)

    def _episode(self, task: str, seed: int, sources: list[str], program: str) -> str | None:
        """Run one verification episode; None when the task's check holds, else what went wrong.

        Raises:
            _Interrupted: the episode could not run (the worker crashed, or could not reset the scene).
        """
        instance = episode_instance(self.config, get_task(task), seed)
        worker = self._worker = self._worker or WorkerClient(self.config)
        try:
            reply = start_episode(worker, instance, sources)
            if reply.notes:
                return "; ".join(reply.notes)
            reply = worker.execute(program, 1)
        except WorkerCrashed as crash:
            self.close()
            raise _Interrupted(f"the episode worker crashed: {crash}") from None
        if reply.report.origin == "crash":  # the worker died in the program and was restarted
            raise _Interrupted(reply.report.error or "the episode worker crashed")
        if reply.report.error:
            return reply.report.error[-MAX_FAILURE_CHARS:]
        verdict = task_check(instance, reply)
        return None if verdict else f"the task's check did not hold: {verdict.detail}"

    def _reject(
        self, skill: LearnedSkill, tasks: tuple[str, ...], seeds: tuple[int, ...], task: str, seed: int, error: str
    ) -> Outcome:
        verdict = Verdict(
            status="rejected",
            source_sha256=skill.sha256,
            tasks=tasks,
            seeds=seeds,
            failure=Failure(task=task, seed=seed, error=error[-MAX_FAILURE_CHARS:]),
            time=now(),
        )
        return Outcome(self.library.update(skill, verdict=verdict, interrupted=None), ran=True)

    def close(self) -> None:
        """Stop the episode worker; safe to call twice."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
