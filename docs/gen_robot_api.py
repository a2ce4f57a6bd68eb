"""Writes docs/robot-api.md from the skill registry, so the page says what the sandbox offers.

The page's prose is here; every table row and reference entry comes from the registry
(``codeact_robot.skills.registry``), the same source as the system prompt's API text.
``tests/test_docs.py`` fails when the committed page differs from what this writes.

    python docs/gen_robot_api.py
"""

from __future__ import annotations

from pathlib import Path

from codeact_robot.skills.registry import GROUPS, all_skills

PAGE = Path(__file__).with_name("robot-api.md")

INTRO = """\
# The robot API

<!-- Written by docs/gen_robot_api.py from the skill registry: edit that, not this page. -->

These are the functions a code action calls. Units are metres and radians. The robot's
base is the origin, x points forward, y to the robot's left, z up; the table top is z = 0.
As seen from the top camera, "top" is the far edge (+x) and "left" the robot's left (+y).
The reachable workspace is x in [0.25, 0.65], y in [-0.30, 0.30], z in [0.01, 0.40].
`np` and `math` are pre-imported; `help(name)` and `dir()` in a program show the same.

Invalid requests raise before anything moves, with a message that says what is valid
(`ValueError: no object named 'purple block' (did you mean 'purple bowl'?); objects are: ...`);
physical failures return `False`. The system prompt includes the reference below, as
`codeact_robot.skills.api_reference()` writes it.

Functions a program saves with `save_skill(f)` go to the episode's skill library; once
verified, they are loaded into later episodes whose instruction they fit and listed in
their system prompt (see [the skill library](skills.md)).
"""


def robot_api_page() -> str:
    """The page: the prose, a table of the skills by group, and each skill's signature and docstring."""
    skills = all_skills()
    table = ["| group | functions |", "|---|---|"]
    reference = ["## Reference"]
    for group in GROUPS:
        members = [s for s in skills if s.group == group]
        if not members:
            continue
        table.append(f"| {group} | {', '.join(f'[`{s.name}`](#{s.name})' for s in members)} |")
        reference.append(f"### {group}")
        for s in members:
            body = "\n".join("    " + line if line else "" for line in s.doc.splitlines())
            tiers = f"Tiers: {', '.join(s.tiers)} (see [API tiers](tasks.md#api-tiers))."
            reference.append(f'<a id="{s.name}"></a>\n\n```python\n{s.header()}\n{body}\n```\n\n{tiers}')
    return "\n\n".join([INTRO.rstrip(), "\n".join(table), *reference]) + "\n"


if __name__ == "__main__":
    PAGE.write_text(robot_api_page())
    print(f"wrote {PAGE}")
