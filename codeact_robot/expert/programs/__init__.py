"""Reference programs: the scripted expert, one program per task family and API tier.

Each program is a file of sandbox code, written only against the high tier's skills as
an agent would write it: it defines ``solve(...)`` and is run as the tier's prelude +
``helpers.py`` + the file + a call whose arguments come from the instruction (never from
the answer). A prelude, written only against its tier's skills, defines the high-tier
names the programs use: ``prelude_primitive.py`` the compound motions from ``move_to``
and the gripper; ``prelude_pixels.py`` also the object state, found in the camera images
(with ``prelude_pixels_large.py`` for the objects too large to grasp: mats, boxes, crates, drawers).
Programs are idempotent: run again, they carry on from where the scene is, and they call
``done()`` once their own check of the goal passes.
"""

from __future__ import annotations

import ast
import re
from importlib import resources

from codeact_robot.envs.tasks import TASKS, TaskInstance
from codeact_robot.errors import unknown_name_error
from codeact_robot.skills.registry import DEFAULT_API, TIERS

PRELUDES = {
    "high": (),
    "primitive": ("prelude_primitive.py",),
    "pixels": ("prelude_primitive.py", "prelude_pixels.py", "prelude_pixels_large.py"),
}
"""The files that define, for each API tier, the high-tier names a program uses."""


def program_file(task: str) -> str:
    """File name of a task's program: ``PickPlace`` -> ``pick_place.py``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", task).lower() + ".py"


def _read(file_name: str) -> str:
    text = resources.files(__package__).joinpath(file_name).read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("# ruff:")).strip() + "\n"


def program_source(task: str, api: str = DEFAULT_API) -> str:
    """The tier's prelude, the helpers and the task's ``solve`` definition, as sandbox code."""
    if task not in TASKS:
        raise unknown_name_error("task with a reference program", task, TASKS)
    if api not in PRELUDES:
        raise unknown_name_error("API tier", api, TIERS)
    files = [*PRELUDES[api], "helpers.py", program_file(task)]
    return "\n\n".join(_read(name) for name in files)


def solve_call(instance: TaskInstance) -> str:
    """``solve(...)`` with the instruction's parameters that the program takes."""
    tree = ast.parse(_read(program_file(instance.task)))
    solve = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "solve")
    arguments = [a.arg for a in solve.args.args]
    missing = [a for a in arguments if a not in instance.params]
    if missing:
        raise ValueError(f"{instance.task}: parameters {missing} are not in the instance's params")
    return "solve(" + ", ".join(f"{a}={instance.params[a]!r}" for a in arguments) + ")"


def reference_program(instance: TaskInstance, api: str = DEFAULT_API) -> str:
    """The whole first code action: the tier's prelude, helpers, the task's program and the call."""
    return program_source(instance.task, api) + "\n\n" + solve_call(instance) + "\n"
