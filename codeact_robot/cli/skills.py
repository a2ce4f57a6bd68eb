"""``codeact-robot skills``: the learned skills of a skill library."""

from __future__ import annotations

import argparse

from codeact_robot.cli.options import add_command
from codeact_robot.skills.library import SkillLibrary


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``skills``."""
    skills = add_command(
        commands,
        "skills",
        "list the learned skills of a skill library",
        ("codeact-robot skills --library runs/skills", "codeact-robot skills --library ~/robot-skills | grep stack"),
    )
    skills.add_argument("--library", required=True, metavar="DIR", help="the skill library folder")
    skills.set_defaults(handler=list_skills)


def list_skills(args: argparse.Namespace) -> int:
    """Print each learned skill's signature and summary."""
    skills = SkillLibrary(args.library).skills()
    if not skills:
        print(f"no learned skills in {args.library}")
    for learned in skills:
        print(learned.header)
    return 0
