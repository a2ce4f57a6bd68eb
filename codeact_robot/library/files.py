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
episode's sandbox), and a library is data another person may hand you. Reading one parses
each source and checks it against the sandbox's rule (:mod:`codeact_robot.library.rules`),
and runs nothing: names must be skill names and versions plain numbers, symbolic links and
anything but regular files are refused, sizes are capped, metadata is schema-checked. A
file that fails any of this is named in :attr:`SkillLibrary.problems` and the rest loads.

A skill's status follows from its metadata and source: ``verified`` or ``rejected`` when a
verdict exists for exactly this source (a file edited by hand loses its verdict), else
``pending`` with the reason.

A :class:`SkillLibrary` reads the whole catalog once (through the index where it is
current). After that, :meth:`SkillLibrary.refresh` lists again only the folders whose
modification time changed, and the library's own writes update its catalog as they go.
A file rewritten in place leaves its folder's time alone: the next library object to read
the folder sees the change, and a source read for an episode is refused if it changed
(:meth:`SkillLibrary.source`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from codeact_robot.errors import UsageError, problem_text, unknown_name_error
from codeact_robot.library.rules import CheckedSkill, check_skill
from codeact_robot.library.skill import (
    LIBRARY_FORMAT,
    VERSION,
    FrozenData,
    Key,
    LearnedSkill,
    Provenance,
    SkillMeta,
    VerifyRequest,
    check_name,
    first_line,
    sha256,
)
from codeact_robot.sandbox.skill_rule import SKILL_NAME_RULE, is_skill_name

INDEX_FILE = ".index.json"
MAX_SOURCE_BYTES = 256 * 2**10  # the sandbox allows 50,000 characters; UTF-8 needs at most four bytes each
MAX_METADATA_BYTES = 1 * 2**20  # a verification program may be 100,000 characters
MAX_INDEX_BYTES = 512 * 2**20
MAX_VERSIONS = 100_000  # files beyond this many versions in one library are not read
VERSION_FILE = re.compile(rf"({VERSION})\.(py|json)")
# A folder's modification time is trusted to reveal the next change only once it is older
# than this at the listing: a change within the same clock tick keeps the time (FAT: 2 s).
UNSETTLED_NS = 2 * 10**9


# --- the folder ---------------------------------------------------------------------------------

Signature = tuple[int, int]  # (size, mtime_ns) of a file: what staleness is judged by


@dataclass(frozen=True)
class _Found:
    """A version's files as the folder holds them (paths as text: a scan makes tens of thousands)."""

    source: str
    meta: str | None
    signature: tuple[Signature, Signature | None]


class _Entry(FrozenData):
    """A version in the derived index: its files' signatures and what was read from them (or the problem)."""

    files: tuple[Signature, Signature | None]
    problem: str | None = None
    sha256: str = ""
    header: str = ""
    doc: str = ""
    meta: SkillMeta | None = None

    def skill(self, key: str) -> LearnedSkill | None:
        """The skill it describes, when it describes the version at ``key`` (``name/version``)."""
        name, version = _split(key)
        if self.meta is None or (self.meta.name, self.meta.version) != (name, version):
            return None
        return LearnedSkill(name, version, self.sha256, self.header, self.doc, self.meta)


class _Index(FrozenData):
    format: Literal[1]
    entries: dict[str, _Entry]


@dataclass
class _Listing:
    """What listing a folder found, and its modification time then (None: too recent to trust)."""

    mtime: int | None
    names: set[str] = field(default_factory=set)  # the library's skill folders, or a skill folder's versions' keys
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Catalog:
    """The readable versions in order, by name, and the problems: derived from the entries when asked."""

    skills: list[LearnedSkill]
    by_name: dict[str, list[LearnedSkill]]
    problems: list[str]


class SkillLibrary:
    """A folder of learned skills (see the module's description of the layout).

    Args:
        folder: the library's folder; created on the first save.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()
        self._entries: dict[str, _Entry] = {}  # "name/version" -> what was read of it, or its problem
        self._skills: dict[Key, LearnedSkill] = {}  # the readable versions among the entries
        self._root: _Listing | None = None  # None until the first read
        self._folders: dict[str, _Listing] = {}  # skill folder -> its last listing
        self._capped = False  # whether the last refresh stopped at MAX_VERSIONS
        self._catalog: _Catalog | None = None

    # --- reading ------------------------------------------------------------------------------

    def skills(self) -> list[LearnedSkill]:
        """Every readable version of every skill, by name and version (as of the last :meth:`refresh`)."""
        return list(self._read().skills)

    def versions(self) -> dict[Key, LearnedSkill]:
        """Every readable version by (name, version) (as of the last :meth:`refresh`)."""
        self._read()
        return dict(self._skills)

    @property
    def problems(self) -> list[str]:
        """What could not be read, one line per file, naming it (as of the last :meth:`refresh`)."""
        return list(self._read().problems)

    def get(self, name: str, version: int | None = None) -> LearnedSkill:
        """A skill's version (None: its latest).

        Raises:
            UsageError: no such skill or version, naming what there is.
        """
        versions = self._read().by_name.get(name)
        if not versions:
            unreadable = [p for p in self.problems if p.startswith(f"{self.folder / name}{os.sep}")]
            if unreadable:
                raise UsageError(
                    f"{name} cannot be read: {unreadable[0]}; fix that file or delete the folder {self.folder / name}"
                )
            raise unknown_name_error("skill", name, sorted(self._read().by_name))
        if version is None:
            return versions[-1]
        if (name, version) in self._skills:
            return self._skills[(name, version)]
        raise UsageError(f"{name} has no version {version}; versions: {', '.join(str(s.version) for s in versions)}")

    def latest_versions(self) -> dict[str, int]:
        """Each skill's newest version (as of the last read)."""
        return {name: versions[-1].version for name, versions in self._read().by_name.items()}

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
        """Bring the catalog up to date with the folder.

        The first time, every file is listed and each version is read through the index
        where the index is current for its files; after that, only folders whose
        modification time changed since they were listed are listed again, and only files
        that changed are read. The index is rewritten when a version had to be read (and
        by every write: a save, an update, a removal).
        """
        first = self._root is None
        index = self._read_index() if first else {}
        started = time.time_ns()
        try:
            mtime = os.stat(self.folder).st_mtime_ns
        except FileNotFoundError:
            self._forget(set(self._folders))
            self._root = _Listing(None)
            return
        except OSError as error:
            raise UsageError(f"the skill library {self.folder} cannot be read: {_reason(error)}") from None
        if self._root is None or self._root.mtime is None or self._root.mtime != mtime:
            self._root = self._list_root(mtime, started)
        read = self._capped = False
        versions = 0
        listed = set()
        for name in sorted(self._root.names):
            if versions >= MAX_VERSIONS:
                self._capped = True
                break
            listing = self._folders.get(name)
            mtime = _mtime(self.folder / name)
            if listing is None or listing.mtime is None or listing.mtime != mtime:
                self._folders[name], read_here = self._list_skill(name, mtime, started, index)
                read = read or read_here
            versions += len(self._folders[name].names)
            listed.add(name)
        self._forget(set(self._folders) - listed)
        if read or (first and index.keys() != self._entries.keys()):
            self._write_index()

    def _read(self) -> _Catalog:
        """The catalog, reading the folder first if it was never read."""
        if self._root is None:
            self.refresh()
        assert self._root is not None
        if self._catalog is None:
            skills = sorted(self._skills.values(), key=lambda s: (s.name, s.version))
            by_name: dict[str, list[LearnedSkill]] = {}
            for skill in skills:
                by_name.setdefault(skill.name, []).append(skill)
            problems = list(self._root.problems)
            if self._capped:
                problems.append(f"{self.folder}: more than {MAX_VERSIONS:,} versions; the rest were not read")
            problems += [p for name in sorted(self._folders) for p in self._folders[name].problems]
            problems += [e.problem for _, e in sorted(self._entries.items(), key=lambda i: _split(i[0])) if e.problem]
            self._catalog = _Catalog(skills, by_name, problems)
        return self._catalog

    def _list_root(self, mtime: int, started: int) -> _Listing:
        """The library folder's skill folders, and what does not belong in a library."""
        listing = _Listing(_settled(mtime, started))
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except OSError as error:
            raise UsageError(f"the skill library {self.folder} cannot be read: {_reason(error)}") from None
        for entry in entries:
            if entry.name.startswith("."):
                continue  # .index.json, .gitignore, .git
            if entry.is_symlink():
                listing.problems.append(f"{entry.path}: a symbolic link; a library holds only its own files")
            elif entry.is_dir(follow_symlinks=False):
                if is_skill_name(entry.name):
                    listing.names.add(entry.name)
                else:
                    listing.problems.append(f"{entry.path}: not a skill name ({SKILL_NAME_RULE})")
            elif entry.name.endswith(".py"):
                listing.problems.append(f"{entry.path}: not in the library's layout, where a skill is NAME/VERSION.py")
        self._catalog = None
        return listing

    def _list_skill(
        self, name: str, mtime: int | None, started: int, index: Mapping[str, _Entry]
    ) -> tuple[_Listing, bool]:
        """List a skill folder again and bring its versions' entries up to date.

        Returns:
            The listing, and whether a version had to be read from its files.
        """
        path = self.folder / name
        listing = _Listing(_settled(mtime, started) if mtime is not None else None)
        files: dict[tuple[int, str], tuple[str, Signature]] = {}
        try:
            entries = list(os.scandir(path))
        except OSError as error:
            listing.problems.append(f"{path}: {_reason(error)}")
            entries = []
        for entry in entries:
            if entry.name.startswith("."):
                continue  # a save in progress
            match = VERSION_FILE.fullmatch(entry.name)
            if not match:
                listing.problems.append(f"{entry.path}: not a version file (1.py, 1.json, 2.py ...)")
            elif entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                listing.problems.append(f"{entry.path}: not a regular file (a symbolic link or a device); refused")
            else:
                info = entry.stat(follow_symlinks=False)
                files[(int(match[1]), match[2])] = (entry.path, (info.st_size, info.st_mtime_ns))
        read = False
        for (version, kind), (file, signature) in sorted(files.items()):
            meta = files.get((version, "json"))
            if kind == "json":
                if (version, "py") not in files:
                    listing.problems.append(f"{file}: metadata without its source {version}.py")
                continue
            key = f"{name}/{version}"
            found = _Found(file, meta[0] if meta else None, (signature, meta[1] if meta else None))
            entry = self._entries.get(key) or index.get(key)
            if entry is None or entry.files != found.signature or (entry.problem is None and not entry.skill(key)):
                entry, read = _read_entry(key, found), True
            self._set(key, entry)
            listing.names.add(key)
        known = self._folders.get(name)
        for key in (known.names if known else set()) - listing.names:
            self._drop(key)
        self._catalog = None
        return listing, read

    def _read_index(self) -> dict[str, _Entry]:
        """The derived index; nothing of it when it is missing, unreadable or not of this format."""
        try:
            return _Index.model_validate_json(read_text(self.folder / INDEX_FILE, MAX_INDEX_BYTES)).entries
        except (OSError, ValueError):
            return {}

    def _write_index(self) -> None:
        """Keep the derived index; a library that cannot be written to just goes without."""
        if not self.folder.is_dir():
            return
        entries = dict(sorted(self._entries.items(), key=lambda item: _split(item[0])))
        with contextlib.suppress(OSError):
            _write_atomic(self.folder / INDEX_FILE, _Index(format=LIBRARY_FORMAT, entries=entries).model_dump_json())

    def _set(self, key: str, entry: _Entry) -> None:
        """Put a version's entry in the catalog."""
        self._entries[key] = entry
        skill = entry.skill(key)
        if skill is not None:
            self._skills[(skill.name, skill.version)] = skill
        else:
            self._skills.pop(_split(key), None)
        self._catalog = None

    def _drop(self, key: str) -> None:
        """Take a version out of the catalog."""
        self._entries.pop(key, None)
        self._skills.pop(_split(key), None)
        self._catalog = None

    def _forget(self, folders: set[str]) -> None:
        """Take skill folders (gone from the library) out of the catalog."""
        for name in folders:
            for key in list(self._folders.pop(name).names):
                self._drop(key)
        self._catalog = None

    # --- writing ------------------------------------------------------------------------------

    def save(
        self,
        skill: CheckedSkill,
        provenance: Provenance,
        calls: dict[str, int] | None = None,
        verify: VerifyRequest | None = None,
    ) -> LearnedSkill:
        """Store a checked source as the next version of its name (pending until verified).

        Args:
            skill: a source the rule accepts (:func:`~codeact_robot.library.rules.check_skill`).
            provenance: where it came from.
            calls: library skills it calls -> the version it uses.
            verify: how to verify it.
        """
        self._read()  # the index written below holds every version
        folder = self._skill_folder(skill.name, create=True)
        taken = (int(m[1]) for file in os.listdir(folder) if (m := VERSION_FILE.fullmatch(file)))
        version, source_signature = _claim(folder, max(taken, default=0) + 1, skill.source)
        meta = SkillMeta(
            name=skill.name,
            version=version,
            calls=dict(calls or {}),
            provenance=provenance,
            verify=verify or VerifyRequest(),
        )
        files = (source_signature, self._write_meta(meta))
        key = f"{skill.name}/{version}"
        self._set(key, _entry_of(skill, meta, files))
        # The folder's listing is stale now; a new one is listed at the next refresh.
        self._folders.setdefault(skill.name, _Listing(None)).names.add(key)
        self._write_index()
        return self._skills[(skill.name, version)]

    def update(self, skill: LearnedSkill, **changes: Any) -> LearnedSkill:
        """Rewrite a version's metadata with ``changes`` (``verify=``, ``verdict=``, ``calls=``).

        Raises:
            UsageError: the library holds no such version.
        """
        current = self.get(skill.name, skill.version)
        key = f"{skill.name}/{skill.version}"
        meta = SkillMeta.model_validate({**current.meta.model_dump(), **changes})
        files = (self._entries[key].files[0], self._write_meta(meta))
        entry = _Entry(files=files, sha256=current.sha256, header=current.header, doc=current.doc, meta=meta)
        self._set(key, entry)
        self._write_index()
        return self._skills[(skill.name, skill.version)]

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
        listing = self._folders.get(name, _Listing(None))
        for skill in targets:
            for suffix in ("py", "json"):
                (folder / f"{skill.version}.{suffix}").unlink(missing_ok=True)
            self._drop(f"{skill.name}/{skill.version}")
            listing.names.discard(f"{skill.name}/{skill.version}")
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
        self._write_index()
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
        if not ignore.exists() and not ignore.is_symlink():  # never written through a link
            _write(ignore, f"{INDEX_FILE}\n")

    def _write_meta(self, meta: SkillMeta) -> Signature:
        folder = self._skill_folder(meta.name, create=True)
        return _write_atomic(folder / f"{meta.version}.json", _meta_text(meta))


def _read_entry(key: str, files: _Found) -> _Entry:
    """The index entry of one version, read from its files, or the problem that stops it."""
    name, version = _split(key)
    meta = SkillMeta(name=name, version=version)
    try:
        skill = check_skill(read_text(Path(files.source), MAX_SOURCE_BYTES))
    except (OSError, ValueError) as error:  # SkillRejected is a ValueError
        return _Entry(files=files.signature, problem=f"{files.source}: {_reason(error)}")
    if skill.name != name:
        return _Entry(files=files.signature, problem=f"{files.source}: it defines {skill.name}, not {name}")
    if files.meta is not None:
        try:
            meta = SkillMeta.model_validate_json(read_text(Path(files.meta), MAX_METADATA_BYTES))
        except (OSError, ValueError) as error:  # pydantic's errors are ValueErrors
            return _Entry(files=files.signature, problem=f"{files.meta}: {_reason(error)}")
        if (meta.name, meta.version) != (name, version):
            return _Entry(files=files.signature, problem=f"{files.meta}: it describes {meta.name}@{meta.version}")
    return _entry_of(skill, meta, files.signature)


def _entry_of(skill: CheckedSkill, meta: SkillMeta, files: tuple[Signature, Signature | None]) -> _Entry:
    """The index entry of a checked source and its metadata: the prompt's header is its signature and first line."""
    first = first_line(skill.doc)
    header = skill.signature + (f"\n    {first}" if first else "")
    return _Entry(files=files, sha256=sha256(skill.source), header=header, doc=skill.doc, meta=meta)


def _claim(folder: Path, version: int, source: str) -> tuple[int, Signature]:
    """Write ``source`` as the first free version from ``version`` up; a concurrent save takes the next.

    Returns:
        The version, and the file's signature.
    """
    scratch = folder / f".{os.getpid()}.{threading.get_ident()}.py"
    signature = _write(scratch, source)
    try:
        while True:
            try:
                os.link(scratch, folder / f"{version}.py")  # atomic and exclusive: the version is ours
                return version, signature
            except FileExistsError:
                version += 1
    finally:
        scratch.unlink(missing_ok=True)


def _meta_text(meta: SkillMeta) -> str:
    """Metadata as stable, diff-friendly JSON."""
    return json.dumps(meta.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _write_atomic(path: Path, text: str) -> Signature:
    """Replace a file's text at once; returns the new file's signature."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    signature = _write(scratch, text)
    os.replace(scratch, path)
    return signature


def _write(path: Path, text: str) -> Signature:
    """Write a new file; its signature as written (a rename or a link keeps it).

    Whatever is at ``path`` (a file left by a crash, a link someone placed) is removed
    first, and the file is created exclusively, never through a link.
    """
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with open(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        info = os.fstat(file.fileno())
    return info.st_size, info.st_mtime_ns


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
        return f"invalid metadata at {problem_text(first)}"
    if isinstance(error, OSError) and error.strerror:
        link = " (a symbolic link?)" if error.errno == errno.ELOOP else ""
        return f"cannot be read: {error.strerror}{link}"
    return str(error)


def _mtime(path: Path) -> int | None:
    """A folder's modification time (None when it cannot be read: listing it says why)."""
    try:
        return os.stat(path, follow_symlinks=False).st_mtime_ns
    except OSError:
        return None


def _settled(mtime: int, started: int) -> int | None:
    """A listing's modification time, if old enough at the listing to reveal the next change."""
    return mtime if mtime < started - UNSETTLED_NS else None


def _split(key: str) -> Key:
    name, version = key.split("/")
    return name, int(version)
