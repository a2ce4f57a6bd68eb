"""Reference programs: the scripted expert, one program per task family.

Each program is a file of sandbox code, written only against the skill API as an
agent would write it: it defines ``solve(...)`` and is run as ``helpers.py`` + the file
+ a call whose arguments come from the instruction (never from the answer). Programs
are idempotent: run again, they carry on from where the scene is, and they call
``done()`` once their own check of the goal passes.
"""

from __future__ import annotations

import ast
import re
from importlib import resources

from codeact_robot.envs.tasks import TASKS, TaskInstance
from codeact_robot.errors import unknown_name_error


def program_file(task: str) -> str:
    """File name of a task's program: ``PickPlace`` -> ``pick_place.py``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", task).lower() + ".py"


def _read(file_name: str) -> str:
    text = resources.files(__package__).joinpath(file_name).read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("# ruff:")).strip() + "\n"


def program_source(task: str) -> str:
    """The helpers and the task's ``solve`` definition, as sandbox code."""
    if task not in TASKS:
        raise unknown_name_error("task with a reference program", task, TASKS)
    return _read("helpers.py") + "\n\n" + _read(program_file(task))


def solve_call(instance: TaskInstance) -> str:
    """``solve(...)`` with the instruction's parameters that the program takes."""
    tree = ast.parse(_read(program_file(instance.task)))
    solve = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "solve")
    arguments = [a.arg for a in solve.args.args]
    missing = [a for a in arguments if a not in instance.params]
    if missing:
        raise ValueError(f"{instance.task}: parameters {missing} are not in the instance's params")
    return "solve(" + ", ".join(f"{a}={instance.params[a]!r}" for a in arguments) + ")"


def reference_program(instance: TaskInstance) -> str:
    """The whole first code action: helpers, the task's program and the call."""
    return program_source(instance.task) + "\n\n" + solve_call(instance) + "\n"
