"""The skill library's files, index, versions, rule, retrieval and transfer (no episodes here).

A library is data another person may hand you: the hostile-folder tests check that reading
one parses and never runs, refuses links, odd files, bad names and huge files with a
reason naming the file, and still reads every other skill.
"""

from __future__ import annotations

import ast
import json
import os
import time
from pathlib import Path

import pytest

from codeact_robot.errors import UsageError
from codeact_robot.library.authoring import add_file, import_library, store_skill
from codeact_robot.library.files import INDEX_FILE, MAX_SOURCE_BYTES, SkillLibrary
from codeact_robot.library.retrieval import BM25Retriever, SkillIndex, library_fingerprint, offerable, words
from codeact_robot.library.rules import RESERVED_NAMES, SkillRejected, program_using
from codeact_robot.library.skill import Failure, Provenance, Verdict, VerifyRequest, parse_ref
from codeact_robot.sandbox.executor import Sandbox
from codeact_robot.skills import SKILLS
from codeact_robot.worker.config import Limits

HERE = Provenance(task="StackBlocks", seed=4, episode="e1", model="fake-model", time="2026-01-01T00:00:00+00:00")


def source(name: str, doc: str, body: str = "return None") -> str:
    return f'def {name}():\n    """{doc}"""\n    {body}\n'


def verified(library: SkillLibrary, name: str, version: int | None = None):
    skill = library.get(name, version)
    return library.update(skill, verdict=Verdict(status="verified", source_sha256=skill.sha256, tasks=("X",)))


# --- files, versions, provenance -------------------------------------------------------------


def test_saving_a_name_again_makes_a_new_version_and_old_ones_stay_readable(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    first = store_skill(library, source("stack_blocks", "Stack all the blocks."), HERE)
    second = store_skill(library, source("stack_blocks", "Stack all the blocks, faster."), HERE)
    assert (first.ref, second.ref) == ("stack_blocks@1", "stack_blocks@2")
    assert library.get("stack_blocks").version == 2
    assert 'Stack all the blocks."' in library.source(library.get("stack_blocks", 1))
    assert sorted(p.name for p in (tmp_path / "stack_blocks").iterdir()) == ["1.json", "1.py", "2.json", "2.py"]
    assert (tmp_path / "stack_blocks" / "1.py").read_text() == source("stack_blocks", "Stack all the blocks.")
    meta = json.loads((tmp_path / "stack_blocks" / "2.json").read_text())
    assert meta["provenance"] == {
        "task": "StackBlocks",
        "seed": 4,
        "episode": "e1",
        "model": "fake-model",
        "file": None,
        "time": "2026-01-01T00:00:00+00:00",
    }
    assert list(meta) == sorted(meta)  # stable, diff-friendly JSON
    assert (tmp_path / ".gitignore").read_text() == f"{INDEX_FILE}\n"
    assert (second.status, second.reason) == (
        "pending",
        "no program to verify it with yet: give a call of it (skills verify NAME --call CODE)",
    )


def test_a_caller_pins_the_version_of_each_library_skill_it_calls(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    store_skill(library, source("top_of", "The top block of a tower."), HERE)
    store_skill(library, source("top_of", "The top block of a tower, v2."), HERE)
    caller = store_skill(library, source("stack_on_top", "Stack onto the top.", "return top_of()"), HERE)
    assert caller.meta.calls == {"top_of": 2}
    loaded = store_skill(library, source("stack_again", "Again.", "return top_of()"), HERE, loaded={"top_of": 1})
    assert loaded.meta.calls == {"top_of": 1}  # the version its episode had loaded


def test_an_edited_source_loses_its_verdict_and_a_missing_or_stale_index_is_rebuilt(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    store_skill(library, source("stack_blocks", "Stack all the blocks."), HERE)
    assert verified(library, "stack_blocks").status == "verified"
    assert json.loads((tmp_path / INDEX_FILE).read_text())["entries"]["stack_blocks/1"]["meta"]["verdict"]
    (tmp_path / INDEX_FILE).unlink()
    again = SkillLibrary(tmp_path)
    assert [(s.ref, s.status) for s in again.skills()] == [("stack_blocks@1", "verified")]
    assert (tmp_path / INDEX_FILE).exists()
    (tmp_path / "stack_blocks" / "1.py").write_text(source("stack_blocks", "Stack all the blocks (edited by hand)."))
    edited = SkillLibrary(tmp_path).get("stack_blocks")
    assert (edited.status, edited.reason) == ("pending", "the source changed since it was verified; verify it again")
    assert edited.summary == "Stack all the blocks (edited by hand)."


def test_an_index_edited_to_lie_is_not_believed_over_the_files_it_describes(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    store_skill(library, source("stack_blocks", "Stack all the blocks."), HERE)
    index = json.loads((tmp_path / INDEX_FILE).read_text())
    index["entries"]["stack_blocks/1"]["meta"] = {"name": "stack_blocks", "version": 1, "verdict": "yes"}
    (tmp_path / INDEX_FILE).write_text(json.dumps(index))
    assert [(s.ref, s.status) for s in SkillLibrary(tmp_path).skills()] == [("stack_blocks@1", "pending")]


def test_a_corrupt_file_a_syntax_error_and_a_missing_index_name_the_broken_file_and_load_the_rest(
    tmp_path: Path,
) -> None:
    library = SkillLibrary(tmp_path)
    for name in ("good_one", "bad_meta", "bad_source", "good_two"):
        store_skill(library, source(name, f"The {name.replace('_', ' ')} skill."), HERE)
    (tmp_path / "bad_meta" / "1.json").write_text('{"name": "bad_meta", "version": ')
    (tmp_path / "bad_source" / "1.py").write_text('def bad_source(:\n    """Edited."""\n')
    (tmp_path / INDEX_FILE).unlink()
    reread = SkillLibrary(tmp_path)
    assert [s.ref for s in reread.skills()] == ["good_one@1", "good_two@1"]
    assert reread.problems == [
        f"{tmp_path / 'bad_meta' / '1.json'}: not valid JSON: EOF while parsing a value at line 1 column 32",
        f"{tmp_path / 'bad_source' / '1.py'}: it does not compile in the sandbox: "
        "SyntaxError: invalid syntax at line 1: def bad_source(:",
    ]


# --- a library someone hands you --------------------------------------------------------------


def test_hostile_library_files_are_refused_with_a_reason_and_reading_runs_nothing(tmp_path: Path) -> None:
    library_folder, outside = tmp_path / "library", tmp_path / "outside"
    library = SkillLibrary(library_folder)
    store_skill(library, source("kept", "The one good skill."), HERE)
    outside.mkdir()
    (outside / "1.py").write_text(source("secret", "Outside the library."))
    sentinel = tmp_path / "ran"
    runs = f"import os\nos.system('touch {sentinel}')\n" + source("runs", "Runs at import.")
    (library_folder / "linked_folder").symlink_to(outside, target_is_directory=True)
    fills = {  # each in a skill folder of its own
        "linked_file": lambda f: (f / "1.py").symlink_to(outside / "1.py"),
        "huge": lambda f: (f / "1.py").write_text("#" * (MAX_SOURCE_BYTES + 1)),
        "fifo": lambda f: os.mkfifo(f / "1.py"),
        "runs": lambda f: (f / "1.py").write_text(runs),
        "other_name": lambda f: _fine(f) or _meta(f, "kept", 1),
        "typed": lambda f: _fine(f) or _meta(f, "typed", "one"),
        "bad_calls": lambda f: _fine(f) or _meta(f, "bad_calls", 1, calls={"../../etc": 1}),
        "bad_task": lambda f: _fine(f) or _meta(f, "bad_task", 1, verify={"tasks": ["Tabletop"]}),
        "binary": lambda f: (f / "1.py").write_bytes(b"\xff\xfe def"),
    }
    for name, fill in fills.items():
        (library_folder / name).mkdir()
        fill(library_folder / name)
    (library_folder / "..weird").mkdir()  # dot folders are not the library's (like .git)
    (library_folder / "not-a-name").mkdir()
    (library_folder / "flat.py").write_text(source("flat", "An old flat file."))
    (library_folder / "kept" / "../kept" / "notes.txt").write_text("x")
    reread = SkillLibrary(library_folder)
    assert [s.ref for s in reread.skills()] == ["kept@1"]
    problems = "\n".join(reread.problems)
    expected = {
        "linked_folder": "linked_folder: a symbolic link; a library holds only its own files",
        "linked_file": "linked_file/1.py: not a regular file (a symbolic link or a device); refused",
        "huge": f"huge/1.py: {MAX_SOURCE_BYTES + 1:,} bytes; a library file may have at most {MAX_SOURCE_BYTES:,}",
        "fifo": "fifo/1.py: not a regular file (a symbolic link or a device); refused",
        "runs": "runs/1.py: a skill must be exactly one top-level def and nothing else; found: Import, Expr, Function",
        "other_name": "other_name/1.json: it describes kept@1",
        "typed": "typed/1.json: invalid metadata at version: Input should be a valid integer",
        "binary": "binary/1.py: not UTF-8 text",
        "bad_calls": "bad_calls/1.json: invalid metadata at calls: ../../etc@1 is not a skill version",
        "bad_task": "bad_task/1.json: invalid metadata at verify.tasks: Tabletop has no success check",
    }
    for name, message in expected.items():
        assert f"{library_folder}/{message}" in problems, name
    assert f"{library_folder / 'not-a-name'}: not a skill name" in problems
    assert f"{library_folder / 'flat.py'}: not in the library's layout" in problems
    assert f"{library_folder / 'kept' / 'notes.txt'}: not a version file" in problems
    assert not sentinel.exists()


def _fine(folder: Path) -> None:
    (folder / "1.py").write_text(source(folder.name, "Fine source."))


def _meta(folder: Path, claims: str, version: object, **more: object) -> None:
    (folder / "1.json").write_text(json.dumps({"name": claims, "version": version, **more}))


@pytest.mark.parametrize("ref", ["../etc/passwd", "a/b", "x@0", "x@-1", "x@1@2", "", "class", "_private", "é" * 3])
def test_a_skill_reference_that_is_no_plain_name_is_refused(ref: str) -> None:
    with pytest.raises(UsageError, match=r"not a skill name|a version is a whole number"):
        parse_ref(ref)


# --- the rule ------------------------------------------------------------------------------------

REFUSED = {
    "escape": ("def peek():\n    '''Look inside.'''\n    return ().__class__\n", "does not compile in the sandbox"),
    "call-in-default": (
        "def tidy(x=pick_and_place('red block', 'blue bowl')):\n    '''Tidy.'''\n    return x\n",
        "defaults must be literals",
    ),
    "decorator": ("@pick_and_place\ndef tidy():\n    '''Tidy.'''\n", "has a decorator"),
    "no-compile": ("def tidy(:\n    '''Tidy.'''\n", "does not compile in the sandbox"),
    "no-docstring": ("def tidy():\n    return 1\n", "needs a docstring"),
    "shadows": ("def pick_and_place(obj, target):\n    '''Never moves.'''\n    return True\n", "cannot be named"),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_the_host_refuses_what_breaks_the_rule_and_stores_nothing(tmp_path: Path, kind: str) -> None:
    text, reason = REFUSED[kind]
    library = SkillLibrary(tmp_path / "library")
    with pytest.raises(SkillRejected, match=reason):
        store_skill(library, text, HERE)
    (tmp_path / "file.py").write_text(text)
    if kind != "no-compile":  # a file that does not parse is refused whole (below)
        [added] = add_file(library, tmp_path / "file.py", VerifyRequest())
        assert added.skill is None and reason in (added.refused or "")
    assert library.skills() == [] and not (tmp_path / "library").exists()


def test_the_names_a_skill_may_not_take_are_every_name_an_episode_sandbox_defines() -> None:
    sandbox = Sandbox({name: skill.function for name, skill in SKILLS.items()}, Limits())
    try:
        defined = {n for n in [*sandbox.namespace, *sandbox.namespace["__builtins__"]] if not n.startswith("_")}
    finally:
        sandbox.close()
    assert RESERVED_NAMES == frozenset(defined) == sandbox.api_names
    assert {"pick_and_place", "save_skill", "len", "str", "help", "np", "math"} <= RESERVED_NAMES


def test_adding_a_file_stores_each_function_callees_first(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        '"""My skills."""\n\n'
        + source("stack_on_top", "Stack onto the top.", "return top_of()")
        + "\n"
        + source("top_of", "The top block.")
    )
    library = SkillLibrary(tmp_path / "library")
    results = add_file(library, path, VerifyRequest(tasks=("StackBlocks",), call="stack_on_top()"))
    assert [(r.name, r.skill.ref if r.skill else None, r.refused) for r in results] == [
        ("top_of", "top_of@1", None),
        ("stack_on_top", "stack_on_top@1", None),
    ]
    caller = library.get("stack_on_top")
    assert caller.meta.calls == {"top_of": 1} and caller.meta.provenance.file == str(path)
    assert (caller.status, caller.reason) == ("pending", "not verified yet")
    (tmp_path / "broken.py").write_text("def x(:\n")
    with pytest.raises(UsageError, match=r"broken.py is not valid Python: .* \(line 1\)"):
        add_file(library, tmp_path / "broken.py", VerifyRequest())


def test_a_file_with_anything_refused_adds_nothing_and_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        '"""My skills."""\nimport math\nfrom os import path\nLIMIT = 3\nfor i in range(2):\n    pass\n\n'
        + source("top_of", "The top block.")
        + "\n@top_of\n"
        + source("decorated", "Decorated.")
        + "\ndef no_doc():\n    return 1\n"
    )
    library = SkillLibrary(tmp_path / "library")
    results = add_file(library, path, VerifyRequest())
    assert [(r.name, r.skill, r.refused) for r in results] == [
        ("line 2", None, "an import; only functions are added"),
        ("line 3", None, "an import; only functions are added"),
        ("line 4", None, "an assignment; only functions are added"),
        ("line 5", None, "a for loop; only functions are added"),
        ("decorated", None, "skill decorated has a decorator; decorators run when the skill is loaded"),
        ("no_doc", None, "skill no_doc needs a docstring saying what it does"),
    ]
    assert library.skills() == [] and not (tmp_path / "library").exists()


def test_the_program_that_used_a_skill_keeps_everything_but_its_definition_and_saving() -> None:
    action = (
        "blocks = get_object_names()\n" + source("stack_blocks", "Stack.") + "print(save_skill(stack_blocks))\n"
        "if blocks:\n    stack_blocks()  # the use\n"
    )
    assert program_using(action, "stack_blocks") == "blocks = get_object_names()\nif blocks:\n    stack_blocks()"
    assert program_using("print(get_object_names())", "stack_blocks") is None
    assert program_using("def (", "stack_blocks") is None


# --- retrieval -----------------------------------------------------------------------------------


def test_bm25_ranks_by_shared_words_and_offers_nothing_unrelated() -> None:
    retriever = BM25Retriever(["stack the blocks", "sort blocks into bowls", "wave hello", ""])
    assert retriever.top("stack all the blocks on the left", 5) == [0, 1]
    assert retriever.top("put the blocks in the bowls", 1) == [1]
    assert retriever.top("dance", 5) == []
    assert words("stackBlocks put_in_bowl StackOnPlace") == ["stack", "blocks", "put", "bowl", "stack", "place"]


def test_words_are_matched_by_their_stems() -> None:
    assert BM25Retriever(["stack one block on another"]).top("stacking the blocks", 5) == [0]
    assert BM25Retriever(["stack one block on another"], stem=list).top("stacking the blocks", 5) == []


def test_a_skill_added_from_a_file_is_offered_on_the_tasks_it_was_verified_on(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    store_skill(library, source("pile_up", "Pile things on each other."), Provenance(file="mine.py"))
    skill = library.get("pile_up")
    library.update(skill, verdict=Verdict(status="verified", source_sha256=skill.sha256, tasks=("StackBlocks",)))
    index = SkillIndex(library.skills())
    assert [s.ref for s in index.retrieve("stack all the blocks", 5)] == ["pile_up@1"]
    assert index.retrieve("wave hello", 5) == []


def test_only_verified_skills_are_offered_with_the_skills_they_call_at_their_pinned_versions(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    store_skill(library, source("top_of", "The top block of a tower."), HERE)
    verified(library, "top_of", 1)
    store_skill(library, source("stack_blocks", "Stack all blocks into a tower.", "return top_of()"), HERE)
    verified(library, "stack_blocks")
    store_skill(library, source("top_of", "The top block of a tower, newer."), HERE)  # @2, pending
    store_skill(library, source("sort_blocks", "Sort the blocks by colour into bowls."), HERE)  # pending
    store_skill(library, source("line_up", "Line up the blocks."), HERE)
    rejected = library.get("line_up")
    failure = Failure(task="BlocksInLine", seed=9, error="ValueError: no")
    library.update(rejected, verdict=Verdict(status="rejected", source_sha256=rejected.sha256, failure=failure))
    assert library.get("line_up").reason == "failed on BlocksInLine seed 9: ValueError: no"
    index = SkillIndex(library.skills())
    assert [s.ref for s in index.offered] == ["stack_blocks@1", "top_of@1"]
    assert [s.ref for s in index.retrieve("stack the blocks in a tower", 1)] == ["stack_blocks@1", "top_of@1"]
    assert [s.ref for s in index.retrieve("sort the blocks into bowls, then line them up", 5)] == [
        "stack_blocks@1",  # "blocks" (its task's description too); sort_blocks and line_up are not verified
        "top_of@1",
    ]
    assert index.retrieve("wave hello", 5) == []


def test_a_skill_is_not_offered_when_a_skill_it_calls_is_not_verified(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    store_skill(library, source("top_of", "The top block."), HERE)
    store_skill(library, source("stack_blocks", "Stack.", "return top_of()"), HERE)
    verified(library, "stack_blocks")
    assert offerable(library.skills()) == []


def test_the_fingerprint_changes_with_what_is_offered_only(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    empty = library_fingerprint(library)
    store_skill(library, source("stack_blocks", "Stack."), HERE)
    assert library_fingerprint(library) == empty  # pending: not offered
    verified(library, "stack_blocks")
    assert library_fingerprint(library) != empty


# --- export and import ---------------------------------------------------------------------------


def test_export_then_import_copies_every_version_pending_with_calls_repinned(tmp_path: Path) -> None:
    team = SkillLibrary(tmp_path / "team")
    store_skill(team, source("top_of", "Top."), HERE)
    store_skill(team, source("top_of", "Top, v2."), HERE)
    store_skill(team, source("stack_blocks", "Stack.", "return top_of()"), HERE)
    verified(team, "stack_blocks")
    assert team.export(tmp_path / "shared") == ["stack_blocks@1", "top_of@1", "top_of@2"]
    with pytest.raises(UsageError, match="not an empty folder"):
        team.export(tmp_path / "shared")
    mine = SkillLibrary(tmp_path / "mine")
    store_skill(mine, source("top_of", "My own top."), HERE)  # takes top_of@1 here
    results = import_library(mine, SkillLibrary(tmp_path / "shared"))
    assert [(r.name, r.skill.ref if r.skill else None, r.new) for r in results] == [
        ("top_of@1", "top_of@2", True),
        ("top_of@2", "top_of@3", True),
        ("stack_blocks@1", "stack_blocks@1", True),
    ]
    stack = mine.get("stack_blocks")
    assert stack.meta.calls == {"top_of": 3} and stack.status == "pending"
    assert stack.meta.provenance.model == "fake-model"
    again = import_library(mine, SkillLibrary(tmp_path / "shared"))
    assert [r.new for r in again] == [False, False, False]


# --- what reading and writing cost ---------------------------------------------------------------


def _age(*folders: Path, seconds_ago: float) -> None:
    """Date folders back, outside the window in which a change could share their timestamp."""
    stamp = time.time_ns() - int(seconds_ago * 1e9)
    for folder in folders:
        os.utime(folder, ns=(stamp, stamp))


def _listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders read (listed) from now on."""
    listed: list[str] = []
    scandir, listdir = os.scandir, os.listdir

    def counted_scandir(path: str | os.PathLike[str] = ".") -> object:
        listed.append(os.fspath(path))
        return scandir(path)

    def counted_listdir(path: str | os.PathLike[str] = ".") -> list[str]:
        listed.append(os.fspath(path))
        return listdir(path)

    monkeypatch.setattr(os, "scandir", counted_scandir)
    monkeypatch.setattr(os, "listdir", counted_listdir)
    return listed


def test_a_library_rereads_only_the_skill_folders_that_changed_and_its_own_writes_reread_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = SkillLibrary(tmp_path)  # another process writing to the same folder
    for name in ("one", "two", "three"):
        store_skill(other, source(name, f"The {name} skill."), HERE)
    _age(tmp_path, *(tmp_path / name for name in ("one", "two", "three")), seconds_ago=3600)
    reader = SkillLibrary(tmp_path)
    assert [s.ref for s in reader.skills()] == ["one@1", "three@1", "two@1"]
    listed = _listings(monkeypatch)
    reader.refresh()
    assert listed == []  # nothing changed: no folder is listed again, no file read

    store_skill(other, source("two", "The two skill, again."), HERE)
    _age(tmp_path, tmp_path / "two", seconds_ago=3000)
    listed.clear()
    reader.refresh()
    assert listed == [str(tmp_path), str(tmp_path / "two")]  # the library's own folder: the index was rewritten
    assert reader.get("two").summary == "The two skill, again."

    verified(other, "one")
    _age(tmp_path, tmp_path / "one", seconds_ago=2000)
    listed.clear()
    reader.refresh()
    assert listed == [str(tmp_path), str(tmp_path / "one")] and reader.get("one").status == "verified"

    listed.clear()
    saved = store_skill(reader, source("two", "The two skill, third."), HERE)
    assert verified(reader, "two").ref == saved.ref == "two@3"
    assert reader.get("two").status == "verified"  # seen without reading the folder again
    assert listed == [str(tmp_path / "two")]  # the one folder written to, for its next version number
    assert reader.remove("three") == ["three@1"]
    assert [s.ref for s in reader.skills()] == ["one@1", "two@1", "two@2", "two@3"]
    assert listed == [str(tmp_path / "two")]


def test_a_change_within_the_clock_tick_of_a_refresh_is_not_missed(tmp_path: Path) -> None:
    other = SkillLibrary(tmp_path)
    store_skill(other, source("one", "The one skill."), HERE)
    reader = SkillLibrary(tmp_path)
    assert [s.ref for s in reader.skills()] == ["one@1"]
    folder = tmp_path / "one"
    seen = folder.stat().st_mtime_ns
    store_skill(other, source("one", "The one skill, again."), HERE)
    os.utime(folder, ns=(seen, seen))  # as if the save had shared the folder's timestamp with the first read
    reader.refresh()
    assert [s.ref for s in reader.skills()] == ["one@1", "one@2"]


def test_storing_a_skill_parses_its_source_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = source("stack_on_top", "Stack onto the top.", "return top_of()")
    library = SkillLibrary(tmp_path)
    store_skill(library, source("top_of", "The top block."), HERE)
    parse = ast.parse
    parsed: list[str] = []

    def counted(text: str, *args: object, **kwargs: object) -> ast.AST:
        parsed.append(text)
        return parse(text, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counted)
    stored = store_skill(library, text, HERE)
    assert parsed.count(text) == 1
    assert stored.meta.calls == {"top_of": 1} and stored.header == "stack_on_top()\n    Stack onto the top."


# --- orderings -----------------------------------------------------------------------------------


def test_functions_of_a_file_that_call_each_other_are_refused_and_nothing_added(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(
        source("ping", "Ping.", "return pong()")
        + source("pong", "Pong.", "return ping()")
        + source("rally", "Rally.", "return top_of()")
        + source("top_of", "The top block.")
    )
    library = SkillLibrary(tmp_path / "library")
    results = add_file(library, path, VerifyRequest())
    refused = "it calls itself back through the skills it calls: ping -> pong -> ping"
    assert [(r.name, r.skill.ref if r.skill else r.refused) for r in results] == [
        ("ping", refused),
        ("pong", refused.replace("ping -> pong -> ping", "pong -> ping -> pong")),
    ]
    assert library.skills() == []


def test_importing_skills_whose_metadata_makes_them_call_each_other_refuses_those_and_imports_the_rest(
    tmp_path: Path,
) -> None:
    team = SkillLibrary(tmp_path / "team")
    store_skill(team, source("ping", "Ping."), HERE)
    store_skill(team, source("pong", "Pong.", "return ping()"), HERE)
    store_skill(team, source("rally", "Rally.", "return pong()"), HERE)
    ping = team.get("ping")
    team.update(ping, calls={"pong": 1})  # edited by hand: ping@1 -> pong@1 -> ping@1
    results = import_library(SkillLibrary(tmp_path / "mine"), SkillLibrary(tmp_path / "team"))
    assert [(r.name, r.skill.ref if r.skill else r.refused) for r in results] == [
        ("rally@1", "rally@1"),  # pinned to pong@1, which it will not find: never offered
        ("ping@1", "it calls itself back through the skills it calls: ping@1 -> pong@1 -> ping@1"),
        ("pong@1", "it calls itself back through the skills it calls: pong@1 -> ping@1 -> pong@1"),
    ]
