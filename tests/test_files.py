"""Files written whole: never through a link someone placed, never half."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from codeact_robot.files import written_whole
from codeact_robot.library.authoring import store_skill
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.skill import Provenance


def test_a_file_is_written_whole_and_never_through_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".report.part.md").symlink_to(victim)  # where an earlier version wrote its hidden file
    (out / "report.md").symlink_to(victim)
    with written_whole(out / "report.md") as part:
        part.write_text("the report")
    assert victim.read_text() == "precious"
    assert not (out / "report.md").is_symlink() and (out / "report.md").read_text() == "the report"
    assert oct((out / "report.md").stat().st_mode & 0o777) == oct(0o644)
    assert sorted(p.name for p in out.iterdir()) == [".report.part.md", "report.md"]


def test_a_failed_write_leaves_the_earlier_file(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text("earlier\n")
    with pytest.raises(RuntimeError), written_whole(path) as part:
        part.write_text("half")
        raise RuntimeError
    assert path.read_text() == "earlier\n" and [p.name for p in tmp_path.iterdir()] == ["export.jsonl"]


def test_the_skill_library_writes_through_no_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "skills"
    (folder / "tidy").mkdir(parents=True)
    (folder / ".gitignore").symlink_to(tmp_path / "created-elsewhere")
    (folder / "tidy" / f".{os.getpid()}.{threading.get_ident()}.py").symlink_to(victim)
    skill = store_skill(SkillLibrary(folder), 'def tidy():\n    """Tidy up."""\n', Provenance())
    assert victim.read_text() == "precious" and not (tmp_path / "created-elsewhere").exists()
    assert SkillLibrary(folder).get("tidy").sha256 == skill.sha256
