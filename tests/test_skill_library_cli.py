"""``codeact-robot skills`` and learned skills in evaluation suites (the ablation with and without a library)."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from codeact_robot.cli import main
from codeact_robot.eval.reports.report import load_report
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.running.evaluation import EvalOptions, run_evaluation
from codeact_robot.eval.running.suite import load_suite
from codeact_robot.library.authoring import store_skill
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.skill import Provenance, Verdict

SKILLS_FILE = '''"""Skills written by hand."""


def top_of(tower):
    """The block at the top of a tower (a list of block names, bottom first)."""
    return tower[-1]


def stack_blocks():
    """Stack all the blocks into one tower."""
    blocks = [n for n in get_object_names() if n.endswith(' block')]
    for lower, upper in zip(blocks, blocks[1:]):
        pick_and_place(upper, top_of(blocks[: blocks.index(upper)]))


def tidy(x=go_home()):
    """Runs code when loaded."""
'''


def skills(*args: str, library: Path) -> int:
    return main(["skills", *args, "--library", str(library)])


def test_add_list_show_remove_export_and_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    library = tmp_path / "skills"
    assert skills("list", library=library) == 0
    assert capsys.readouterr().err == f"no learned skills in {library} (the folder does not exist yet)\n"
    (tmp_path / "mine.py").write_text(SKILLS_FILE)
    assert (
        skills("add", str(tmp_path / "mine.py"), "--task", "stackblocks", "--call", "stack_blocks()", library=library)
        == 1
    )
    out = capsys.readouterr().out.splitlines()
    assert out == [  # all or nothing: one refused function keeps the others out too
        "refused tidy: skill tidy has the default value 'go_home()'; defaults must be literals "
        "(numbers, strings, None, True/False, or tuples, lists, sets and dicts of those)",
        f"nothing added from {tmp_path / 'mine.py'}: mend what was refused and add the file again",
    ]
    assert SkillLibrary(library).skills() == []
    (tmp_path / "mine.py").write_text(SKILLS_FILE.split("\n\ndef tidy")[0] + "\n")
    assert (
        skills("add", str(tmp_path / "mine.py"), "--task", "stackblocks", "--call", "stack_blocks()", library=library)
        == 0
    )
    assert capsys.readouterr().out.splitlines() == [
        "added top_of@1  pending: not verified yet",
        "added stack_blocks@1  pending: not verified yet",
    ]
    (tmp_path / "v2.py").write_text('def top_of(tower):\n    """The top block, again."""\n    return tower[-1]\n')
    assert skills("add", str(tmp_path / "v2.py"), library=library) == 0
    capsys.readouterr()
    assert skills("list", library=library) == 0
    assert capsys.readouterr().out == (
        "stack_blocks@1  pending  Stack all the blocks into one tower.\ntop_of@2  pending  The top block, again.\n"
    )
    assert skills("list", "--all", library=library) == 0
    assert capsys.readouterr().out.count("top_of@") == 2
    assert skills("show", "stack_blocks", library=library) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("stack_blocks@1  pending: not verified yet\nversions: 1\nprovenance: file ")
    assert (
        "calls: top_of@1\nverified on: StackBlocks, 3 fresh seeds each\nverification program: stack_blocks()\n" in shown
    )
    assert shown.endswith("pick_and_place(upper, top_of(blocks[: blocks.index(upper)]))\n")

    assert skills("export", str(tmp_path / "shared"), library=library) == 0
    assert capsys.readouterr().out == f"exported 3 skill versions to {tmp_path / 'shared'}\n"
    other = tmp_path / "other"
    assert skills("import", str(tmp_path / "shared"), library=other) == 0
    assert capsys.readouterr().out.splitlines() == [
        "imported top_of@1  pending: not verified yet",  # what stack_blocks@1 calls comes first
        "imported stack_blocks@1  pending: not verified yet",
        "imported top_of@2  pending: no task to verify it on: name one (skills verify NAME --task TASK)",
    ]
    assert skills("import", str(tmp_path / "shared"), library=other) == 0
    assert "skipped top_of@2: the same source is top_of@2 here" in capsys.readouterr().out

    assert skills("remove", "top_of@1", library=library) == 0
    removed = "removed top_of@1\nnote: stack_blocks@1 calls top_of@1, which is gone: it will not be offered\n"
    assert capsys.readouterr().out == removed
    assert skills("remove", "top_of", library=library) == 0
    assert capsys.readouterr().out == "removed top_of@2\n"
    assert [s.ref for s in SkillLibrary(library).skills()] == ["stack_blocks@1"]
    assert skills("export", str(tmp_path / "one"), library=library) == 0
    assert capsys.readouterr().out == f"exported 1 skill version to {tmp_path / 'one'}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "../etc/passwd"), "error: '../etc/passwd' is not a skill name"),
        (("show", "stack_block"), "error: no skill named 'stack_block' (did you mean 'stack_blocks'?)"),
        (("show", "stack_blocks@7"), "error: stack_blocks has no version 7; versions: 1"),
        (("remove", "x@0"), "error: 'x@0': a version is a whole number from 1 up"),
        (
            ("verify", "stack_blocks", "--task", "Tabletop"),
            "tasks: Tabletop has no success check to verify",
        ),
        (("verify", "stack_blocks", "--task", "Stack"), "tasks: no task named 'Stack'"),
        (("verify", "stack_blocks", "--seeds", "500"), "seeds: 500 is out of range; it must be at most 100"),
        (("add", "mine.py", "--seeds", "500"), "seeds: 500 is out of range; it must be at most 100"),
        (("export", "."), "is not an empty folder; export writes a fresh library"),
        (("import", "nowhere"), "error: nowhere is not a folder; import reads a skill library's folder"),
        (("import", "."), "error: . holds no skill library: no NAME/VERSION.py skill could be read"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    library = tmp_path / "skills"
    store_skill(SkillLibrary(library), 'def stack_blocks():\n    """Stack."""\n', Provenance())
    capsys.readouterr()
    assert skills(*args, library=library) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error, error


def test_a_broken_file_is_named_on_stderr_and_the_rest_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    library = SkillLibrary(tmp_path)
    for name in ("one", "two"):
        store_skill(library, f'def {name}():\n    """The {name} skill."""\n', Provenance())
    (tmp_path / "two" / "1.py").write_text("def two(:\n")
    assert skills("list", library=tmp_path) == 0
    captured = capsys.readouterr()
    assert captured.out == "one@1  pending  The one skill.\n"
    assert captured.err == (
        f"warning: {tmp_path / 'two' / '1.py'}: it does not compile in the sandbox: "
        "SyntaxError: invalid syntax at line 1: def two(:\n"
    )
    assert skills("show", "two", library=tmp_path) == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert error.startswith(f"error: two cannot be read: {tmp_path / 'two' / '1.py'}: it does not compile")
    assert error.endswith(f"fix that file or delete the folder {tmp_path / 'two'}")


def test_a_suite_compares_an_agent_with_and_without_the_library_and_the_report_shows_both(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path / "skills")
    skill = store_skill(library, 'def stack_blocks():\n    """Stack all the blocks."""\n', Provenance())
    library.update(skill, verdict=Verdict(status="verified", source_sha256=skill.sha256))
    expert = {"llm": {"backend": "reference"}, "renderer": "tiny"}
    suite = {
        "name": "ablation",
        "tasks": ["StackBlocks"],
        "seeds": [0],
        "agents": [{"name": "without", **expert}, {"name": "with-library", **expert, "skills": {"library": "skills"}}],
    }
    path = tmp_path / "ablation.yaml"
    path.write_text(yaml.safe_dump(suite))
    loaded = load_suite(str(path))
    with_library = loaded.agents["with-library"].env_config()
    assert (with_library.skill_library, with_library.skills_top_k) == (str(tmp_path / "skills"), 5)
    assert loaded.agents["without"].env_config().skills_top_k == 0
    out = tmp_path / "out"
    status = run_evaluation(loaded, out, EvalOptions(workers=1), Console(file=io.StringIO()))
    assert status == 0
    store = ResultsStore(out)
    try:
        rows = {r["agent"]: r for r in store.summaries()}
        offered = {agent: store.record(row["id"])["skills"] for agent, row in rows.items()}
    finally:
        store.close()
    assert offered == {"without": [], "with-library": ["stack_blocks@1"]}
    [report] = load_report(out).suites
    assert [(a.name, a.success.successes) for a in report.agents] == [("without", 1), ("with-library", 1)]
    assert [(c.a, c.b) for c in report.comparisons] == [("without", "with-library")]

    store_skill(library, 'def line_up():\n    """Line up the blocks."""\n', Provenance())
    assert load_suite(str(path)).hash == loaded.hash  # a pending skill changes nothing offered
    added = library.get("line_up")
    library.update(added, verdict=Verdict(status="verified", source_sha256=added.sha256))
    assert load_suite(str(path)).hash != loaded.hash  # what the library offers is part of the suite


def test_a_suite_naming_a_missing_library_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite = {"name": "s", "tasks": ["StackBlocks"], "seeds": [0], "agents": [{"name": "a", "skills": {"library": "x"}}]}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(suite))
    assert main(["eval", "--suite", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "agents[0] (a): skills: library x is not a folder" in capsys.readouterr().err


def test_the_documented_skill_example_adds_a_skill_that_verifies(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    page = (Path(__file__).parents[1] / "docs" / "skills.md").read_text()
    [line] = [line for line in page.splitlines() if line.startswith("codeact-robot skills add my_skills.py")]
    command = shlex.split(line, comments=True)
    example = Path(__file__).parents[1] / "docs" / "examples" / command[3]
    assert skills(*command[2:3], str(example), *command[4:], library=tmp_path) == 0
    assert skills("verify", "--renderer", "tiny", library=tmp_path) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("stack_blocks@1  verified: the task's check held on")
