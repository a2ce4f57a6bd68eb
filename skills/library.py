"""The library of learned skills, kept as plain files a team can review and keep in git.

::

    <library>/
      stack_blocks/          one folder per skill
        1.py                 version 1: the function's source, exactly as it was checked
        1.json               its metadata: provenance, the library skills it calls (with the
                             versions it was verified with), how to verify it, the verdict
        2.py, 2.json         saving a name that exists makes a new version; old ones stay
      .index.json            derived catalog (ignored by git); rebuilt when missing or stale

Learned skills are untrusted code: the host never imports or runs them (they run in the
episode's sandbox), and a library is data another person may hand you. Reading one only
parses: names must be plain identifiers and versions plain numbers, symbolic links and
anything but regular files are refused, sizes are capped, metadata is schema-checked.
A file that fails any of this is named in :attr:`SkillLibrary.problems` and the rest loads.

A skill's status follows from its metadata and source: ``verified`` or ``rejected`` when a
verdict exists for exactly this source (a file edited by hand loses its verdict), else
``pending`` with the reason.
"""

from __future__ import annotations

import ast
import contextlib
import errno
import hashlib
import json
import keyword
import os
import re
import stat
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from codeact_robot.envs.tasks import get_task
from codeact_robot.errors import UnknownNameError, UsageError, unknown_name_error

LIBRARY_FORMAT = 1
INDEX_FILE = ".index.json"
MAX_SOURCE_BYTES = 256 * 2**10  # the sandbox allows 50,000 characters; UTF-8 needs at most four bytes each
MAX_METADATA_BYTES = 1 * 2**20  # a verification program may be 100,000 characters
MAX_INDEX_BYTES = 512 * 2**20
MAX_VERSIONS = 100_000  # files beyond this many versions in one library are not read
MAX_NAME_CHARS = 64
DEFAULT_VERIFY_SEEDS = 3
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
VERSION_FILE = re.compile(r"([1-9][0-9]{0,5})\.(py|json)")
Status = Literal["pending", "verified", "rejected"]


def default_library_folder() -> Path:
    """The user's own library: ``skills`` in the user data folder (``~/.local/share/codeact-robot`` on Linux)."""
    return platformdirs.user_data_path("codeact-robot") / "skills"


def now() -> str:
    """The time, for provenance and verdicts: ISO 8601, UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def check_name(name: str) -> str:
    """A skill name as the library accepts it (a plain identifier that is no keyword).

    Raises:
        UsageError: saying what a name may be.
    """
    if not (isinstance(name, str) and NAME.fullmatch(name) and len(name) <= MAX_NAME_CHARS) or keyword.iskeyword(name):
        raise UsageError(
            f"{name!r} is not a skill name: a name is a Python identifier of at most {MAX_NAME_CHARS} characters "
            "that starts with a letter"
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``NAME`` or ``NAME@VERSION`` -> (name, version or None).

    Raises:
        UsageError: a malformed reference.
    """
    name, _, version = ref.partition("@")
    if version and not re.fullmatch(r"[1-9][0-9]{0,5}", version):
        raise UsageError(f"{ref!r}: a version is a whole number from 1 up, as in {name}@2")
    return check_name(name), int(version) if version else None


# --- metadata -----------------------------------------------------------------------------------


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Data):
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


class VerifyRequest(_Data):
    """How a skill is to be verified.

    Attributes:
        tasks: the tasks whose fresh episodes verify it (none: the task it was written in).
        call: the program each episode runs (a call of the skill, or the program that used it).
        seeds: fresh episodes per task.
    """

    tasks: tuple[str, ...] = Field((), max_length=20)
    call: str | None = Field(None, max_length=100_000)
    seeds: int = Field(DEFAULT_VERIFY_SEEDS, ge=1, le=100)

    @field_validator("tasks")
    @classmethod
    def _checkable(cls, tasks: tuple[str, ...]) -> tuple[str, ...]:
        for task in tasks:
            if not get_task(task).has_check:  # an unknown name raises UsageError, a ValueError
                raise ValueError(f"{get_task(task).name} has no success check to verify a skill with")
        return tuple(get_task(task).name for task in tasks)


class Failure(_Data):
    """The episode that a rejected skill failed: task, seed and what went wrong."""

    task: str = Field(max_length=100)
    seed: int
    error: str = Field(max_length=5000)


class Verdict(_Data):
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


class SkillMeta(_Data):
    """The metadata file of one version (``NAME/VERSION.json``).

    Attributes:
        format: the library format.
        name, version: which skill version this describes (must match the file's place).
        calls: library skills it calls -> the version it uses (and was verified with).
        provenance: where it came from.
        verify: how to verify it.
        verdict: the latest verification's outcome, or None.
    """

    format: Literal[1] = LIBRARY_FORMAT
    name: str = Field(max_length=MAX_NAME_CHARS)
    version: int = Field(ge=1)
    calls: dict[str, int] = Field(default_factory=dict, max_length=100)
    provenance: Provenance = Field(default_factory=Provenance)
    verify: VerifyRequest = Field(default_factory=VerifyRequest)
    verdict: Verdict | None = None

    @field_validator("calls")
    @classmethod
    def _plain_references(cls, calls: dict[str, int]) -> dict[str, int]:
        for name, version in calls.items():
            if not _is_name(name) or version < 1:
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
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

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
        if not self.verify_tasks and self.meta.provenance.task:
            return f"written in {self.meta.provenance.task}, which has no success check: name the tasks to verify it on"
        if not self.verify_tasks:
            return "no task to verify it on: name one"
        if not self.meta.verify.call:
            return "no program to verify it with yet: give a call of it"
        return "not verified yet"


def skill_of(name: str, version: int, source: str, meta: SkillMeta) -> LearnedSkill:
    """The catalog entry of a source that :func:`function_of` accepts."""
    function = function_of(source, name)
    doc = ast.get_docstring(function) or ""
    first = doc.strip().splitlines()[0] if doc.strip() else ""
    header = f"{name}({ast.unparse(function.args)})" + (f"\n    {first}" if first else "")
    return LearnedSkill(name, version, sha256(source), header, doc, meta)


def function_of(source: str, name: str | None = None) -> ast.FunctionDef:
    """The one function a skill's source defines (a structural check; the sandbox's rule is stricter).

    Raises:
        ValueError: the source does not parse, is not one ``def``, or defines another name.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ValueError(f"it does not parse: {error.msg} (line {error.lineno})") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise ValueError(f"it does not parse: {type(error).__name__}") from None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        raise ValueError("a skill's source must be exactly one def")
    function = tree.body[0]
    if name is not None and function.name != name:
        raise ValueError(f"it defines {function.name}, not {name}")
    return function


def sha256(source: str) -> str:
    """The hex SHA-256 of a source's UTF-8 bytes."""
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


# --- the folder ---------------------------------------------------------------------------------

Signature = tuple[int, int]  # (size, mtime_ns) of a file: what staleness is judged by


@dataclass(frozen=True)
class _Found:
    """A version's files as the folder holds them (paths as text: a scan makes tens of thousands)."""

    source: str
    meta: str | None
    signature: tuple[Signature, Signature | None]


class _Entry(_Data):
    """A version in the derived index: its files' signatures and what was read from them (or the problem)."""

    files: tuple[Signature, Signature | None]
    problem: str | None = None
    sha256: str = ""
    header: str = ""
    doc: str = ""
    meta: SkillMeta | None = None

    def skill(self, key: str) -> LearnedSkill | None:
        """The skill it describes, when it describes the version at ``key`` (``name/version``)."""
        name, version = key.split("/")
        if self.meta is None or (self.meta.name, self.meta.version) != (name, int(version)):
            return None
        return LearnedSkill(name, int(version), self.sha256, self.header, self.doc, self.meta)


class _Index(_Data):
    format: Literal[1]
    entries: dict[str, _Entry]


class SkillLibrary:
    """A folder of learned skills (see the module's description of the layout).

    Args:
        folder: the library's folder; created on the first save.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()
        self._skills: list[LearnedSkill] = []
        self._problems: list[str] = []
        self._loaded = False

    # --- reading ------------------------------------------------------------------------------

    def skills(self) -> list[LearnedSkill]:
        """Every readable version of every skill, by name and version (as of the last :meth:`refresh`)."""
        if not self._loaded:
            self.refresh()
        return list(self._skills)

    @property
    def problems(self) -> list[str]:
        """What could not be read, one line per file, naming it (as of the last :meth:`refresh`)."""
        if not self._loaded:
            self.refresh()
        return list(self._problems)

    def get(self, name: str, version: int | None = None) -> LearnedSkill:
        """A skill's version (None: its latest).

        Raises:
            UsageError: no such skill or version, naming what there is.
        """
        versions = [s for s in self.skills() if s.name == name]
        if not versions:
            raise unknown_name_error("skill", name, sorted({s.name for s in self._skills}))
        if version is None:
            return versions[-1]
        for skill in versions:
            if skill.version == version:
                return skill
        raise UsageError(f"{name} has no version {version}; versions: {', '.join(str(s.version) for s in versions)}")

    def latest_versions(self) -> dict[str, int]:
        """Each skill's newest version (as of the last read)."""
        return {skill.name: skill.version for skill in self.skills()}

    def source(self, skill: LearnedSkill) -> str:
        """The source of a skill version, as the catalog knows it.

        Raises:
            UsageError: the file is gone, unreadable or changed since the catalog was read.
        """
        path = self.folder / skill.name / f"{skill.version}.py"
        try:
            source = read_text(path, MAX_SOURCE_BYTES)
        except (OSError, ValueError) as error:
            raise UsageError(f"{path}: {_reason(error)}") from None
        if sha256(source) != skill.sha256:
            raise UsageError(f"{path} changed while it was being read; read the library again")
        return source

    def refresh(self) -> None:
        """Read the catalog again: through the index where it is current, else from the files."""
        found, problems = self._scan()
        index = self._read_index()
        entries: dict[str, _Entry] = {}
        for key in sorted(found, key=_order):
            files = found[key]
            entry = index.get(key)
            if entry is None or entry.files != files.signature or (entry.problem is None and not entry.skill(key)):
                entry = self._entry(key, files)
            entries[key] = entry
        self._skills = [skill for key, entry in entries.items() if (skill := entry.skill(key)) is not None]
        self._problems = problems + [entry.problem for entry in entries.values() if entry.problem]
        self._loaded = True
        if entries != index:
            self._write_index(entries)

    def _scan(self) -> tuple[dict[str, _Found], list[str]]:
        """Every version's files with their signatures, and what does not belong in a library."""
        found: dict[str, _Found] = {}
        problems: list[str] = []
        try:
            folders = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except FileNotFoundError:
            return found, problems
        except OSError as error:
            raise UsageError(f"the skill library {self.folder} cannot be read: {_reason(error)}") from None
        for folder in folders:
            if folder.name.startswith("."):
                continue  # .index.json, .gitignore, .git
            if folder.is_symlink():
                problems.append(f"{folder.path}: a symbolic link; a library holds only its own files")
            elif folder.is_dir(follow_symlinks=False):
                if not _is_name(folder.name):
                    problems.append(f"{folder.path}: not a skill name (a Python identifier starting with a letter)")
                else:
                    self._scan_skill(folder, found, problems)
            elif folder.name.endswith(".py"):
                problems.append(f"{folder.path}: not in the library's layout, where a skill is NAME/VERSION.py")
            if len(found) >= MAX_VERSIONS:
                problems.append(f"{self.folder}: more than {MAX_VERSIONS:,} versions; the rest were not read")
                break
        return found, problems

    def _scan_skill(self, folder: os.DirEntry[str], found: dict[str, _Found], problems: list[str]) -> None:
        files: dict[tuple[int, str], tuple[str, Signature]] = {}
        try:
            entries = list(os.scandir(folder.path))
        except OSError as error:
            problems.append(f"{folder.path}: {_reason(error)}")
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue  # a save in progress
            match = VERSION_FILE.fullmatch(entry.name)
            if not match:
                problems.append(f"{entry.path}: not a version file (1.py, 1.json, 2.py ...)")
            elif entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                problems.append(f"{entry.path}: not a regular file (a symbolic link or a device); refused")
            else:
                info = entry.stat(follow_symlinks=False)
                files[(int(match[1]), match[2])] = (entry.path, (info.st_size, info.st_mtime_ns))
        for (version, kind), (path, signature) in sorted(files.items()):
            meta = files.get((version, "json"))
            if kind == "py":
                found[f"{folder.name}/{version}"] = _Found(
                    path, meta[0] if meta else None, (signature, meta[1] if meta else None)
                )
            elif (version, "py") not in files:
                problems.append(f"{path}: metadata without its source {version}.py")

    def _entry(self, key: str, files: _Found) -> _Entry:
        """The index entry of one version, read from its files, or the problem that stops it."""
        name, version = key.split("/")[0], int(key.split("/")[1])
        meta = SkillMeta(name=name, version=version)
        try:
            source = read_text(Path(files.source), MAX_SOURCE_BYTES)
            skill = skill_of(name, version, source, meta)
        except (OSError, ValueError) as error:
            return _Entry(files=files.signature, problem=f"{files.source}: {_reason(error)}")
        if files.meta is not None:
            try:
                meta = SkillMeta.model_validate_json(read_text(Path(files.meta), MAX_METADATA_BYTES))
            except (OSError, ValueError) as error:  # pydantic's errors are ValueErrors
                return _Entry(files=files.signature, problem=f"{files.meta}: {_reason(error)}")
            if (meta.name, meta.version) != (name, version):
                return _Entry(files=files.signature, problem=f"{files.meta}: it describes {meta.name}@{meta.version}")
        return _Entry(files=files.signature, sha256=skill.sha256, header=skill.header, doc=skill.doc, meta=meta)

    def _read_index(self) -> dict[str, _Entry]:
        """The derived index; nothing of it when it is missing, unreadable or not of this format."""
        try:
            return _Index.model_validate_json(read_text(self.folder / INDEX_FILE, MAX_INDEX_BYTES)).entries
        except (OSError, ValueError):
            return {}

    def _write_index(self, entries: dict[str, _Entry]) -> None:
        """Keep the derived index; a library that cannot be written to just goes without."""
        if not self.folder.is_dir():
            return
        with contextlib.suppress(OSError):
            _write_atomic(self.folder / INDEX_FILE, _Index(format=LIBRARY_FORMAT, entries=entries).model_dump_json())

    # --- writing ------------------------------------------------------------------------------

    def save(
        self,
        source: str,
        provenance: Provenance,
        calls: dict[str, int] | None = None,
        verify: VerifyRequest | None = None,
    ) -> LearnedSkill:
        """Store a source as the next version of its name (pending until verified).

        Args:
            source: one ``def`` with a docstring (checked against the sandbox's rule by the caller).
            provenance: where it came from.
            calls: library skills it calls -> the version it uses.
            verify: how to verify it.

        Raises:
            UsageError: a source that is not one function or a name the library refuses.
        """
        try:
            name = check_name(function_of(source).name)
        except ValueError as error:
            raise UsageError(f"not a skill: {_reason(error)}") from None
        folder = self._skill_folder(name, create=True)
        version = max((int(m[1]) for p in folder.iterdir() if (m := VERSION_FILE.fullmatch(p.name))), default=0) + 1
        version = _claim(folder, version, source)
        meta = SkillMeta(
            name=name, version=version, calls=dict(calls or {}), provenance=provenance, verify=verify or VerifyRequest()
        )
        self._write_meta(meta)
        self.refresh()
        return self.get(name, version)

    def update(self, skill: LearnedSkill, **changes: Any) -> LearnedSkill:
        """Rewrite a version's metadata with ``changes`` (``verify=``, ``verdict=``, ``calls=``)."""
        meta = SkillMeta.model_validate({**skill.meta.model_dump(), **changes})
        self._write_meta(meta)
        self.refresh()
        return self.get(skill.name, skill.version)

    def remove(self, name: str, version: int | None = None) -> list[str]:
        """Delete a skill's version, or every version.

        Returns:
            The references removed (``name@version``).

        Raises:
            UsageError: no such skill or version.
        """
        targets = [self.get(name, version)] if version is not None else [s for s in self.skills() if s.name == name]
        if not targets:
            self.get(name)  # raises, naming the skills there are
        folder = self._skill_folder(name, create=False)
        for skill in targets:
            for suffix in ("py", "json"):
                (folder / f"{skill.version}.{suffix}").unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
        self.refresh()
        return [skill.ref for skill in targets]

    def export(self, destination: str | Path) -> list[str]:
        """Copy every version's files (not the index) into a new or empty folder, in the same layout.

        Returns:
            The references exported.

        Raises:
            UsageError: the destination holds files already.
        """
        target = Path(destination).expanduser()
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            raise UsageError(f"{target} is not an empty folder; export writes a fresh library")
        exported = []
        for skill in self.skills():
            copy = target / skill.name
            copy.mkdir(parents=True, exist_ok=True)
            (copy / f"{skill.version}.py").write_text(self.source(skill), encoding="utf-8")
            (copy / f"{skill.version}.json").write_text(_meta_text(skill.meta), encoding="utf-8")
            exported.append(skill.ref)
        SkillLibrary(target)._prepare()
        return exported

    def _skill_folder(self, name: str, create: bool) -> Path:
        folder = self.folder / check_name(name)
        if create:
            self._prepare()
            folder.mkdir(exist_ok=True)
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise UsageError(f"{folder} is not a folder of this library (a symbolic link or a file); refused")
        return folder

    def _prepare(self) -> None:
        """Create the folder, with a .gitignore that keeps the derived index out of git."""
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text(f"{INDEX_FILE}\n")

    def _write_meta(self, meta: SkillMeta) -> None:
        folder = self._skill_folder(meta.name, create=True)
        _write_atomic(folder / f"{meta.version}.json", _meta_text(meta))


def _claim(folder: Path, version: int, source: str) -> int:
    """Write ``source`` as the first free version from ``version`` up; a concurrent save takes the next."""
    scratch = folder / f".{os.getpid()}.{threading.get_ident()}.py"
    scratch.write_text(source, encoding="utf-8")
    try:
        while True:
            try:
                os.link(scratch, folder / f"{version}.py")  # atomic and exclusive: the version is ours
                return version
            except FileExistsError:
                version += 1
    finally:
        scratch.unlink(missing_ok=True)


def _meta_text(meta: SkillMeta) -> str:
    """Metadata as stable, diff-friendly JSON."""
    return json.dumps(meta.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    scratch.write_text(text, encoding="utf-8")
    os.replace(scratch, path)


def read_text(path: Path, limit: int) -> str:
    """A regular file's UTF-8 text: never through a symbolic link, never more than ``limit`` bytes.

    Raises:
        OSError: it cannot be opened (missing, a link, not a regular file).
        ValueError: too large, or not UTF-8 text.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{info.st_size:,} bytes; a library file may have at most {limit:,}")
        with os.fdopen(descriptor, "rb", closefd=False) as file:
            data = file.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise ValueError(f"more than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None


def _reason(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            return f"not valid JSON: {first['ctx']['error']}"
        where = ".".join(str(p) for p in first["loc"])
        return f"invalid metadata at {where}: {first['msg']}"
    if isinstance(error, OSError) and error.strerror:
        link = " (a symbolic link?)" if error.errno == errno.ELOOP else ""
        return f"cannot be read: {error.strerror}{link}"
    return str(error)


def _is_name(text: str) -> bool:
    return bool(NAME.fullmatch(text)) and len(text) <= MAX_NAME_CHARS and not keyword.iskeyword(text)


def _order(key: str) -> tuple[str, int]:
    name, version = key.split("/")
    return name, int(version)
