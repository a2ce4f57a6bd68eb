"""The documentation: every command a page shows is a valid command line, the offline ones run as shown,
and the robot API page is what the skill registry says."""

from __future__ import annotations

import re
import runpy
import shlex
import shutil
from pathlib import Path

import pytest

from codeact_robot.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Commands run below as a page shows them (in a fresh folder, relative paths and all).
RUN = [
    "codeact-robot run --task StackBlocks --agent reference --video runs/demo.mp4",
    "codeact-robot tasks",
    "codeact-robot scene --task StackBlocks --out runs/scene",
    # --limit 2: two of its 60 episodes (30 families, 2 seeds)
    "codeact-robot eval --suite smoke --out runs/smoke --videos failures",
    "codeact-robot report runs/smoke",
    "codeact-robot export runs/modes --format jsonl --out runs/modes.jsonl",
]
# Commands only parsed here, and why: each part runs in the test named.
PARSED_ONLY = {
    "codeact-robot run --task StackBlocks --agent reference": "the same episode as the first command, without video",
    "codeact-robot eval --suite smoke --out runs/smoke": "--videos failures above runs the same suite",
    "codeact-robot report runs/action-modes": "the same report as of runs/smoke, above",
    "codeact-robot report runs/action-modes --md report.md --html report.html --plots plots/": (
        "test_report.py writes the Markdown, the HTML and the plots"
    ),
    "codeact-robot report runs/action-modes --json": "test_report.py checks the JSON's documented shape",
    "codeact-robot view runs/smoke": "a server until Ctrl-C: test_viewer.py serves and stops it",
    "codeact-robot view runs/action-modes": "a server until Ctrl-C: test_viewer.py serves and stops it",
    "codeact-robot run --task StackBlocks --agent reference --api pixels": "test_tiers.py: the expert at every tier",
    "codeact-robot studio --task StackBlocks": "a server until Ctrl-C: test_studio.py serves and drives it",
    'codeact-robot studio --scene \'{"blocks": ["red", "green"], "bowls": ["blue"]}\'': (
        "a server until Ctrl-C: test_studio.py serves and drives it"
    ),
    "codeact-robot run --task StackBlocks --agent reference --video runs/stack.mp4 --video-camera both": (
        "test_videos.py records the chosen camera"
    ),
    "codeact-robot serve --model xingyaoww/CodeActAgent-Mistral-7b-v0.1 --port 8000": "vLLM: test_cli.py fakes it",
    "codeact-robot skills add my_skills.py --task StackBlocks --call 'stack_blocks()'": (
        "test_skill_library_cli.py adds docs/examples/my_skills.py and verifies it"
    ),
}
# Shown with a model server on a GPU host, a Ray cluster or a placeholder (DIR, M): parsed only.
ELSEWHERE = re.compile(r"gpu-host|localhost:8000|--backend ray|\bDIR\b|--model M\b|team-skills|stack_blocks@2")


def shown_commands() -> list[str]:
    """Every ``codeact-robot`` command in the pages' shell blocks, continuations joined, comments left out."""
    found = []
    for page in PAGES:
        for block in re.findall(r"```(?:bash|sh)\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                for part in re.split(r"\s(?:;|&&|\|)\s", line):
                    words = shlex.split(part.split(" > ")[0], comments=True)
                    if words[:1] == ["codeact-robot"]:
                        found.append(shlex.join(words))
    return found


def test_every_command_shown_is_a_valid_command_line_and_is_run_or_says_where() -> None:
    commands = shown_commands()
    assert len(commands) > 20
    parser = build_parser()
    for command in commands:
        parser.parse_args(shlex.split(command)[1:])  # a usage error raises
    unaccounted = [c for c in commands if c not in RUN and c not in PARSED_ONLY and not ELSEWHERE.search(c)]
    assert unaccounted == []
    assert set(RUN) <= set(commands)


def test_the_offline_commands_run_as_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    statuses = {}
    for command in RUN:
        if command.startswith("codeact-robot export runs/modes") and not Path("runs/modes").exists():
            shutil.copytree("runs/smoke", "runs/modes")
        extra = ["--limit", "2"] if command.startswith("codeact-robot eval") else []
        statuses[command] = main([*shlex.split(command)[1:], *extra])
    assert statuses == dict.fromkeys(RUN, 0)
    out = capsys.readouterr().out
    assert "videos: none kept (no episode failed)" in out
    for written in ["runs/demo.mp4", "runs/scene/front_rgb.png", "runs/modes.jsonl"]:
        assert Path(written).stat().st_size > 0, written
    assert len(Path("runs/modes.jsonl").read_text().splitlines()) == 2


def test_the_robot_api_page_is_what_the_skill_registry_says() -> None:
    generator = runpy.run_path(str(ROOT / "docs" / "gen_robot_api.py"))
    page = (ROOT / "docs" / "robot-api.md").read_text()
    assert page == generator["robot_api_page"](), "run `python docs/gen_robot_api.py` and commit docs/robot-api.md"
    assert all(f"`{name}`" in page for name in ("pick_and_place", "detect_objects", "save_skill"))


def test_the_python_api_example_runs_as_shown() -> None:
    page = (ROOT / "docs" / "getting-started.md").read_text()
    example = re.findall(r"```python\n(.*?)```", page, re.S)[0]
    namespace: dict[str, object] = {}
    exec(compile(example, "getting-started.md", "exec"), namespace)  # the page's own code, as a reader runs it
    try:
        assert namespace["info"]["instruction"] == "put the red block in the blue bowl"
    finally:
        namespace["env"].close()
        namespace["ctrl"].close()
