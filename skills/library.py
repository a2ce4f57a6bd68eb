"""The library of learned skills: functions agents or users saved, one file each.

Learned skills are untrusted code: they are loaded by running their source in the
episode's sandbox, never imported by the host.
"""

from __future__ import annotations

import ast
import keyword
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LearnedSkill:
    """One saved function.

    Attributes:
        name: the function's name.
        source: its ``def`` statement, docstring included.
    """

    name: str
    source: str

    @property
    def header(self) -> str:
        """``name(args)`` and the first docstring line, for the prompt."""
        function = ast.parse(self.source).body[0]
        assert isinstance(function, ast.FunctionDef)
        doc = (ast.get_docstring(function) or "").strip().splitlines()
        summary = f"\n    {doc[0]}" if doc else ""
        return f"{self.name}({ast.unparse(function.args)}){summary}"


class SkillLibrary:
    """A folder of learned skills (``<name>.py``).

    Args:
        folder: where the skills are kept; created on first save.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def save(self, name: str, source: str) -> Path:
        """Store (or replace) a skill.

        Raises:
            ValueError: when ``name`` is not a plain identifier or ``source`` is not one ``def``.
        """
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ValueError(f"{name!r} is not a valid skill name")
        tree = ast.parse(source)
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef) or tree.body[0].name != name:
            raise ValueError(f"the source of skill {name!r} must be a single def {name}(...)")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.py"
        path.write_text(source.rstrip() + "\n")
        return path

    def skills(self) -> list[LearnedSkill]:
        """Every stored skill that parses as a single function, by name."""
        found = []
        for path in sorted(self.folder.glob("*.py")) if self.folder.is_dir() else []:
            source = path.read_text()
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            if len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef) and tree.body[0].name == path.stem:
                found.append(LearnedSkill(path.stem, source))
        return found
