"""The report's robustness section on a hand-built store: each agent's drop per perturbation, counted by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stores import SUITE_HASH, episode_row, write_rows

from codeact_robot.eval.reports.markdown import markdown_report
from codeact_robot.eval.reports.report import load_report
from codeact_robot.eval.results.store import ResultsStore

OFF = {"paraphrase": False, "distractors": 0, "unseen_colours": False, "layout_shift": 0.0}


def agent(name: str, mode: str = "codeact", physics: dict | None = None, **perturbation: object) -> dict:
    """An agent as the suite definition stores it: its settings, the environment's among them."""
    env = {"perturbation": OFF | perturbation, "physics": {"grasp_slip": 0.0, "disturbance": 0.0} | (physics or {})}
    return {"name": name, "mode": mode, "llm": {"backend": "model"}, "env": env}


def make_store(folder: Path) -> Path:
    definition = {
        "name": "robustness",
        "tasks": ["PickPlace"],
        "seeds": list(range(10)),
        "agents": [
            agent("plain"),
            agent("plain-paraphrase", paraphrase=True),
            agent("plain-distractors", distractors=3),
            agent("plain-slip", physics={"grasp_slip": 0.1}),
            agent("json", mode="json"),  # no perturbed twin: no row
            agent("json-shift", mode="json", layout_shift=0.05),  # no unperturbed twin ran: no row
        ],
    }
    rows = []
    for seed in range(10):
        rows.append(episode_row("plain", "PickPlace", seed, seed < 8))  # 8/10
        rows.append(episode_row("plain-paraphrase", "PickPlace", seed, seed < 5))  # 5/10, all within plain's
        rows.append(episode_row("plain-distractors", "PickPlace", seed, 1 <= seed <= 8))  # 8/10, seed 0 lost, 8 won
        rows.append(episode_row("json-shift", "PickPlace", seed, True, mode="json"))
        rows.append(episode_row("plain-slip", "PickPlace", seed, seed < 6))  # 6/10
    store = ResultsStore(folder, create=True)
    store.add_suite(SUITE_HASH, "robustness", json.dumps(definition, sort_keys=True), False)
    store.start_run(SUITE_HASH, {})
    write_rows(store, rows)
    store.close()
    return folder


def test_drop_per_perturbation_matches_the_hand_count(tmp_path: Path) -> None:
    report = load_report(make_store(tmp_path / "eval"))
    drops = {row.perturbation: row for row in report.suites[0].robustness}
    assert set(drops) == {"paraphrase", "distractors=3", "physics.grasp_slip=0.1"}
    slip = drops["physics.grasp_slip=0.1"].drop
    assert (slip.a_rate, slip.b_rate, slip.a_only, slip.b_only) == (0.8, 0.6, 2, 0)
    assert slip.difference == pytest.approx(0.2)
    paraphrase = drops["paraphrase"]
    assert (paraphrase.agent, paraphrase.perturbed) == ("plain", "plain-paraphrase")
    assert paraphrase.drop.pairs == 10
    assert (paraphrase.drop.a_rate, paraphrase.drop.b_rate) == (0.8, 0.5)
    assert paraphrase.drop.difference == pytest.approx(0.3)
    assert (paraphrase.drop.a_only, paraphrase.drop.b_only) == (3, 0)
    assert paraphrase.drop.p_value == pytest.approx(0.25)  # McNemar: 2 * 0.5**3
    distractors = drops["distractors=3"]
    assert (distractors.drop.a_rate, distractors.drop.b_rate, distractors.drop.difference) == (0.8, 0.8, 0.0)
    assert (distractors.drop.a_only, distractors.drop.b_only) == (1, 1)
    assert distractors.drop.p_value == pytest.approx(1.0)


def test_the_section_is_rendered_with_its_numbers(tmp_path: Path) -> None:
    text = markdown_report(load_report(make_store(tmp_path / "eval")))
    assert "Robustness: success drop per perturbation" in text
    line = next(line for line in text.splitlines() if "| paraphrase |" in line)
    assert "80.0%" in line and "50.0%" in line and "+30.0" in line
