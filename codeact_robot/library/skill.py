"""What a learned skill is: its name and version, its metadata (provenance, calls, verification, verdict).

:mod:`codeact_robot.library.files` keeps them as files; this module holds what a version
says and what follows from it (its status, the versions it calls), and reads no file.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator

from codeact_robot.envs.tasks import get_task
from codeact_robot.errors import UnknownNameError, UsageError
from codeact_robot.sandbox.skill_rule import MAX_SKILL_NAME_CHARS, SKILL_NAME_RULE, is_skill_name

LIBRARY_FORMAT = 1
DEFAULT_VERIFY_SEEDS = 3
VERSION = r"[1-9][0-9]{0,5}"
Status = Literal["pending", "verified", "rejected"]
Key = tuple[str, int]  # (name, version)


def default_library_folder() -> Path:
    """The user's own library: ``skills`` in the user data folder (``~/.local/share/codeact-robot`` on Linux)."""
    return platformdirs.user_data_path("codeact-robot") / "skills"


def now() -> str:
    """The time, for provenance and verdicts: ISO 8601, UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_name(name: str) -> str:
    """A skill name as the library accepts it (:func:`~codeact_robot.sandbox.skill_rule.is_skill_name`).

    Raises:
        UsageError: saying what a name may be.
    """
    if not is_skill_name(name):
        raise UsageError(f"{name!r} is not a skill name: {SKILL_NAME_RULE}")
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME@VERSION`` -> (name, version or None).

    Raises:
        UsageError: a malformed reference.
    """
    name, _, version = ref.partition("@")
    if version and not re.fullmatch(VERSION, version):
        raise UsageError(f"{ref!r}: a version is a whole number from 1 up, as in {name}@2")
    return check_name(name), int(version) if version else None


# --- metadata -----------------------------------------------------------------------------------


class FrozenData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(FrozenData):
    """Where a skill came from.

    Attributes:
        task: the task of the episode it was written in.
        seed: that episode's seed.
        episode: that episode's id (``info["episode_id"]``).
        model: the model that wrote it (None for a person).
        file: the file it was added from (``skills add``) or imported from.
        time: when it was saved (ISO 8601, UTC).
    """

    task: str | None = Field(None, max_length=100)
    seed: int | None = Field(None, ge=0)
    episode: str | None = Field(None, max_length=100)
    model: str | None = Field(None, max_length=300)
    file: str | None = Field(None, max_length=4096)
    time: str | None = Field(None, max_length=40)


class VerifyRequest(FrozenData):
    """How a skill is to be verified.

    Attributes:
        tasks: the tasks whose fresh episodes verify it (none: the task it was written in).
        call: the program each episode runs (a call of the skill, or the program that used it).
        seeds: fresh episodes per task.
        imported_call: the program another library came with: shown, never run (the library's
            author chose it); the user gives a call (``skills verify NAME --call CODE``).
    """

    tasks: tuple[str, ...] = Field((), max_length=20)
    call: str | None = Field(None, max_length=100_000)
    seeds: int = Field(DEFAULT_VERIFY_SEEDS, ge=1, le=100)
    imported_call: str | None = Field(None, max_length=100_000)

    @field_validator("tasks")
    @classmethod
    def _checkable(cls, tasks: tuple[str, ...]) -> tuple[str, ...]:
        for task in tasks:
            if not get_task(task).has_check:  # an unknown name raises UsageError, a ValueError
                raise ValueError(f"{get_task(task).name} has no success check to verify a skill with")
        return tuple(get_task(task).name for task in tasks)


class Failure(FrozenData):
    """The episode that a rejected skill failed: task, seed and what went wrong."""

    task: str = Field(max_length=100)
    seed: int
    error: str = Field(max_length=5000)


class Verdict(FrozenData):
    """The outcome of verifying one exact source.

    Attributes:
        status: ``verified`` (the task's check held in every episode) or ``rejected``.
        source_sha256: the source it holds for; an edited source is pending again.
        tasks: the tasks it ran on.
        seeds: the seeds it ran with.
        failure: the episode that failed (rejected only).
        time: when it was decided.
    """

    status: Literal["verified", "rejected"]
    source_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    tasks: tuple[str, ...] = Field((), max_length=20)
    seeds: tuple[int, ...] = Field((), max_length=100)
    failure: Failure | None = None
    time: str | None = Field(None, max_length=40)


class SkillMeta(FrozenData):
    """The metadata file of one version (``NAME/VERSION.json``).

    Attributes:
        format: the library format.
        name, version: which skill version this describes (must match the file's place).
        calls: library skills it calls -> the version it uses (and was verified with).
        provenance: where it came from.
        verify: how to verify it.
        verdict: the latest verification's outcome, or None.
        interrupted: the episode of the latest verification that could not run (a worker
            crash, a failed reset): no verdict about the skill, which stays pending.
    """

    format: Literal[1] = LIBRARY_FORMAT
    name: str = Field(max_length=MAX_SKILL_NAME_CHARS)
    version: int = Field(ge=1)
    calls: dict[str, int] = Field(default_factory=dict, max_length=100)
    provenance: Provenance = Field(default_factory=Provenance)
    verify: VerifyRequest = Field(default_factory=VerifyRequest)
    verdict: Verdict | None = None
    interrupted: Failure | None = None

    @field_validator("calls")
    @classmethod
    def _plain_references(cls, calls: dict[str, int]) -> dict[str, int]:
        for name, version in calls.items():
            if not is_skill_name(name) or version < 1:
                raise ValueError(f"{name}@{version} is not a skill version")
        return calls


# --- skills -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnedSkill:
    """One version of a learned skill, as the catalog describes it (the source is read on demand).

    Attributes:
        name: the function's name.
        version: 1 for the first saved under the name.
        sha256: of the source file.
        header: ``name(args)`` and the first docstring line, for the prompt.
        doc: the whole docstring.
        meta: the metadata.
    """

    name: str
    version: int
    sha256: str
    header: str
    doc: str
    meta: SkillMeta

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def summary(self) -> str:
        """The first line of the docstring."""
        return first_line(self.doc)

    @property
    def verify_tasks(self) -> tuple[str, ...]:
        """The tasks its verification runs: those asked for, else the one it was written in, if checkable."""
        if self.meta.verify.tasks:
            return self.meta.verify.tasks
        task = self.meta.provenance.task
        with contextlib.suppress(UnknownNameError):
            if task and get_task(task).has_check:
                return (get_task(task).name,)
        return ()

    @property
    def status(self) -> Status:
        """``verified``, ``rejected`` or ``pending`` (see :attr:`reason`)."""
        verdict = self.meta.verdict
        return verdict.status if verdict is not None and verdict.source_sha256 == self.sha256 else "pending"

    @property
    def reason(self) -> str:
        """Why the skill has its status, in one line."""
        verdict = self.meta.verdict
        if verdict is not None and verdict.source_sha256 == self.sha256:
            if verdict.failure is not None:
                failure = verdict.failure
                return f"failed on {failure.task} seed {failure.seed}: {failure.error.strip().splitlines()[-1]}"
            return f"the task's check held on {', '.join(verdict.tasks)}, seeds {', '.join(map(str, verdict.seeds))}"
        if verdict is not None:
            return f"the source changed since it was {verdict.status}; verify it again"
        if self.meta.interrupted is not None:
            stopped = self.meta.interrupted
            return (
                f"the verification could not run on {stopped.task} seed {stopped.seed}, which says nothing about "
                f"the skill: {stopped.error.strip().splitlines()[-1]}; verify it again"
            )
        if not self.verify_tasks and self.meta.provenance.task:
            return f"written in {self.meta.provenance.task}, which has no success check: name the tasks to verify it on"
        if not self.verify_tasks:
            return "no task to verify it on: name one (skills verify NAME --task TASK)"
        if not self.meta.verify.call and not self.meta.verify.imported_call:
            return "no program to verify it with yet: give a call of it (skills verify NAME --call CODE)"
        return "not verified yet"


def callees(skill: LearnedSkill, lookup: Mapping[Key, LearnedSkill]) -> list[LearnedSkill]:
    """Every skill version ``skill`` calls, directly or through others, at the versions pinned.

    Each version once, nearest first; ``skill`` itself is among them when its calls lead
    back to it.

    Args:
        skill: the caller.
        lookup: skill versions by (name, version) (:meth:`SkillLibrary.versions`).

    Raises:
        UsageError: a version called is not in ``lookup``, naming it and its caller.
    """
    found: dict[Key, LearnedSkill] = {}
    waiting = deque([skill])
    while waiting:
        caller = waiting.popleft()
        for key in sorted(caller.meta.calls.items()):
            if key in found:
                continue
            callee = lookup.get(key)
            if callee is None:
                raise UsageError(f"{caller.ref} calls {key[0]}@{key[1]}, which is not in the library")
            found[key] = callee
            waiting.append(callee)
    return list(found.values())


def load_conflict(skill: LearnedSkill, needed: Sequence[LearnedSkill]) -> str | None:
    """Why ``skill`` cannot be loaded into one sandbox with what it calls, or None if it can.

    Args:
        skill: the skill.
        needed: the versions it calls (:func:`callees`).

    Returns:
        The reason: its calls lead back to it, or it needs two versions of one name (a
        name holds one function in a sandbox).
    """
    for callee in needed:  # every version reached through calls: a loop back puts ``skill`` among them
        if callee.ref == skill.ref:
            return f"it calls {callee.ref}, which calls it back"
    named: dict[str, LearnedSkill] = {}
    for version in [skill, *needed]:
        first = named.setdefault(version.name, version)
        if first.version != version.version:
            return f"it needs {first.ref} and {version.ref} at once; a name holds one function"
    return None


def sha256(source: str) -> str:
    """The hex SHA-256 of a source's UTF-8 bytes."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


def first_line(doc: str) -> str:
    return doc.strip().splitlines()[0] if doc.strip() else ""
