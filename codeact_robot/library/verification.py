"""Verification by the physics: a skill is kept where fresh episodes of a task succeed with it.

Each episode is a new scene (a seed the skill was not written on) in an episode worker of
its own settings, with the skill and the library skills it calls (at their pinned
versions) loaded into the sandbox; the verification program runs as the episode's one
code action, and the task's success check decides. Every episode must succeed; the first
that does not is recorded with its seed and error, and the skill is ``rejected``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from codeact_robot.envs.tasks import get_task
from codeact_robot.library.files import (
    Failure,
    LearnedSkill,
    SkillLibrary,
    Verdict,
    VerifyRequest,
    callees,
    load_conflict,
    now,
)
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
        ran: whether episodes ran (False: it stays pending, see ``skill.reason``).
    """

    skill: LearnedSkill
    ran: bool


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
                callee = self._verify(callee).skill
            if callee.status != "verified":
                reason = f"it calls {callee.ref}, which is {callee.status}: {callee.reason}"
                return self._reject(skill, tasks, (), tasks[0], 0, reason)
            sources.append(self.library.source(callee))
        seeds = verification_seeds(skill, skill.meta.verify.seeds)
        for task in tasks:
            for seed in seeds:
                error = self._episode(task, seed, sources, program)
                if error is not None:
                    return self._reject(skill, tasks, seeds, task, seed, error)
        verdict = Verdict(status="verified", source_sha256=skill.sha256, tasks=tasks, seeds=seeds, time=now())
        return Outcome(self.library.update(skill, verdict=verdict), ran=True)

    def _episode(self, task: str, seed: int, sources: list[str], program: str) -> str | None:
        """Run one verification episode; None when the task's check holds, else what went wrong."""
        instance = episode_instance(self.config, get_task(task), seed)
        worker = self._worker = self._worker or WorkerClient(self.config)
        try:
            reply = start_episode(worker, instance, sources)
            if reply.notes:
                return "; ".join(reply.notes)
            reply = worker.execute(program, 1)
        except WorkerCrashed as crash:
            self.close()
            return f"the episode worker crashed: {crash}"
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
        return Outcome(self.library.update(skill, verdict=verdict), ran=True)

    def close(self) -> None:
        """Stop the episode worker; safe to call twice."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None
