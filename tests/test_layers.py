"""The architecture's one-way layers: every import points down, and no module imports itself back.

The table below is the one in ``codeact_robot/__init__.py``. Imports are read with
``ast`` from the source folders, the way the package installs them (``envs/`` is
``codeact_robot.envs`` and so on); imports under ``if TYPE_CHECKING:`` are not imports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"codeact_robot": "codeact_robot", "envs": "codeact_robot.envs", "skills": "codeact_robot.skills"}

LAYERS: dict[str, float] = {
    "codeact_robot.cli": 9,
    "codeact_robot.eval": 8,  # its folders, top to bottom:
    "codeact_robot.eval.running": 8.3,  # suites, scheduling, one episode, the run (prints the report at its end)
    "codeact_robot.eval.reports": 8.2,  # numbers, tables, plots, renderings
    "codeact_robot.eval.viewer": 8.2,  # beside reports: the two do not import each other
    "codeact_robot.eval.results": 8.1,  # the store, its rows, failure kinds, exports
    "codeact_robot.studio": 8,  # beside eval: the two do not import each other
    "codeact_robot.agent": 7,
    "codeact_robot.config": 7,
    "codeact_robot.expert": 6.5,  # answers like a model: builds on llm's backend interface
    "codeact_robot.llm": 6,
    "codeact_robot.environments": 6,
    "codeact_robot.library": 5.5,  # the skill library, on the host only: verification runs episode workers
    "codeact_robot.worker": 5,  # host side; executor and simulator sides apart: the tests below
    "codeact_robot.sandbox": 4,
    "codeact_robot.skills": 4,
    "codeact_robot.envs": 3,
    "codeact_robot.errors": 1,
    "codeact_robot.files": 1,
    "codeact_robot.localweb": 1,  # what every local web page does to stay local (viewer, studio)
    "codeact_robot.configs": 1,
}
ONLY = {
    "codeact_robot.llm": {"codeact_robot.errors", "codeact_robot.configs"},  # a leaf
    "codeact_robot.sandbox": set(),  # imports nothing of the project
}


def modules() -> dict[str, Path]:
    """Every module of the package, by its installed name."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The ``codeact_robot`` modules a file imports (anywhere but under ``if TYPE_CHECKING``).

    ``from package import module`` imports the module; ``from module import name``, the module.
    """
    tree = ast.parse(path.read_text())
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for child in ast.walk(node)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else node.module)
    return {name for name in found if name.split(".")[0] == "codeact_robot"}


def package_of(module: str) -> str | None:
    """The layer package a module belongs to (None for the root package itself)."""
    matches = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def graph() -> dict[str, set[str]]:
    """Module -> the modules it imports (a package's own parents, imported implicitly, left out)."""
    every = modules()
    return {
        name: {i for i in imports(path, set(every)) if i in every and not name.startswith(i + ".")}
        for name, path in every.items()
    }


def test_every_module_belongs_to_a_layer() -> None:
    roots = {"codeact_robot", "codeact_robot.__main__"}  # registers the envs / runs the CLI
    assert sorted(m for m in modules() if package_of(m) is None and m not in roots) == []


def test_every_import_points_down() -> None:
    wrong = []
    for module, targets in graph().items():
        source = package_of(module)
        if source is None:
            continue
        for target in targets:
            destination = package_of(target)
            if destination is None or destination == source:
                continue
            allowed = destination in ONLY[source] if source in ONLY else LAYERS[destination] < LAYERS[source]
            if not allowed:
                wrong.append(f"{module} -> {target}")
    assert sorted(wrong) == []


def test_the_packages_that_run_next_to_programs_hold_no_host_only_code() -> None:
    # skills/ and the sandbox run in episode workers; the skill library's files, folders and
    # user data (platformdirs) are the host's, in codeact_robot/library/.
    host_only = {"platformdirs"}
    found = []
    for module, path in modules().items():
        if package_of(module) in ("codeact_robot.skills", "codeact_robot.sandbox"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                found += [f"{module} -> {n}" for n in names if n.split(".")[0] in host_only]
    assert found == []


def test_the_host_never_imports_what_runs_programs() -> None:
    # Model-written code runs only in an episode worker; no chain of imports from a host
    # module (the command line, the agent, the environments' host side, the library)
    # reaches a module that runs it, so no host code path can.
    runs_programs = {
        "codeact_robot.worker.executor_process",
        "codeact_robot.worker.executor_stubs",
        "codeact_robot.worker.simulator_process",
        "codeact_robot.worker.simulator_runtime",
        "codeact_robot.sandbox.executor",
        "codeact_robot.skills.context",
    }
    host = [m for m in modules() if LAYERS.get(package_of(m) or "", 0) > LAYERS["codeact_robot.worker"]]
    host += ["codeact_robot.worker.client", "codeact_robot.worker.task_episode"]
    edges = graph()
    reached, trail = set(), {module: module for module in host}
    pending = list(host)
    while pending:
        module = pending.pop()
        for target in edges[module] - reached:
            reached.add(target)
            trail[target] = f"{trail[module]} -> {target}"
            pending.append(target)
    assert sorted(trail[m] for m in runs_programs & reached) == []


def reached_from(start: str) -> dict[str, str]:
    """Every module an import chain from ``start`` reaches, with the chain."""
    edges = graph()
    trail = {start: start}
    pending = [start]
    while pending:
        module = pending.pop()
        for target in edges[module] - set(trail):
            trail[target] = f"{trail[module]} -> {target}"
            pending.append(target)
    return trail


def test_the_executor_side_never_imports_the_world() -> None:
    # Programs run in the executor; what it can reach after an escape is what it imported. No
    # chain of imports from it reaches the simulator, the world, the skill implementations'
    # context or a module that imports PyBullet.
    trail = reached_from("codeact_robot.worker.executor_process")
    simulator = {
        "codeact_robot.worker.simulator_process",
        "codeact_robot.worker.simulator_runtime",
        "codeact_robot.skills.context",
        "codeact_robot.envs.world",
    }
    every = modules()
    bullet = {
        module
        for module in trail
        if any(name.split(".")[0] == "pybullet" for name in third_party_imports(every[module]))
    }
    assert sorted(trail[m] for m in (simulator & set(trail)) | bullet) == []


def test_an_executor_process_holds_no_physics() -> None:
    # The same, at run time: everything the executor imports before it confines itself.
    program = (
        "import sys, codeact_robot.worker.executor_process as e\n"
        "from codeact_robot.sandbox.executor import Sandbox\n"
        "from codeact_robot.worker.config import Limits\n"
        "Sandbox({}, Limits()).run('help(print)', '<warm-up>')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pybullet', 'pybullet_data', 'cv2')"
        " or m in ('codeact_robot.envs.world', 'codeact_robot.skills.context')))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_an_executor_process_starts_without_gymnasium_or_the_tasks() -> None:
    # Started as the host starts it (``python -m``), the executor skips the package's registration
    # of the environments: Gymnasium and the task registry were most of its start-up. It stops at
    # its missing arguments, after every import.
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "codeact_robot.worker.executor_process"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "codeact_robot.worker.executor_stubs" in imported
    unwanted = {"gymnasium", "codeact_robot.environments", "codeact_robot.envs.tasks", "pybullet"}
    assert sorted(imported & unwanted) == []


def test_importing_the_package_elsewhere_registers_the_environments() -> None:
    program = "import gymnasium, codeact_robot\nprint('CodeActRobot/PickPlace-v0' in gymnasium.registry)\n"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "True", done.stderr[-2000:]


def test_the_simulator_never_imports_what_runs_programs() -> None:
    trail = reached_from("codeact_robot.worker.simulator_process")
    runs_programs = {
        "codeact_robot.sandbox.executor",
        "codeact_robot.worker.executor_process",
    }
    assert sorted(trail[m] for m in runs_programs & set(trail)) == []


def third_party_imports(path: Path) -> set[str]:
    """Every module name a file imports, at any place (TYPE_CHECKING blocks included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]) if target in trail else target)
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []
