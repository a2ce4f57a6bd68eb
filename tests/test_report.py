"""``codeact-robot report`` on stores whose numbers are known by hand, and on hostile stores.

The hand-made store: agents ``a`` (codeact) and ``b`` (json) on PickPlace (seen) and
FindHiddenBlock (feedback), seeds 0-9 each, plus one infrastructure error of ``a``.

    PickPlace        a: 10/10 (1 turn)            b: 3/10 (seeds 0-2; the rest gave_up, 2 turns)
    FindHiddenBlock  a: 3/10 (seeds 0-2; 3-6 wrong_final_state, 7-9 turn_limit, 3 turns)
                     b: 5/10 (seeds 0-4; the rest api_misuse, 2 turns)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest
from rich.console import Console
from stores import SUITE_HASH, episode_row, suite_definition, write_rows
from test_report_stats import wilson_by_hand

from codeact_robot.cli import main
from codeact_robot.eval.reports.prices import load_prices
from codeact_robot.eval.reports.report import load_report
from codeact_robot.eval.reports.stats import paired_difference
from codeact_robot.eval.reports.terminal import print_store_report
from codeact_robot.eval.results.store import ResultsStore

CLI = [sys.executable, "-m", "codeact_robot.cli"]
HOSTILE_AGENT = "<img src=x onerror=alert(1)>|[x](javascript:alert(1))"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=300, cwd=Path(__file__).parent)


def hand_rows() -> list:
    rows = []
    for seed in range(10):
        rows.append(episode_row("a", "PickPlace", seed, True, turns=1))
        rows.append(
            episode_row("b", "PickPlace", seed, seed < 3, None if seed < 3 else "gave_up", 1 if seed < 3 else 2, "json")
        )
        kind = None if seed < 3 else "wrong_final_state" if seed < 7 else "turn_limit"
        rows.append(episode_row("a", "FindHiddenBlock", seed, seed < 3, kind, 1 if seed < 3 else 3))
        rows.append(
            episode_row(
                "b", "FindHiddenBlock", seed, seed < 5, None if seed < 5 else "api_misuse", 1 if seed < 5 else 2, "json"
            )
        )
    rows.append(episode_row("a", "PickPlace", 10, False, "error", turns=0))
    return rows


def make_store(folder: Path, rows: list, name: str = "pair", heldout: bool = False) -> Path:
    store = ResultsStore(folder, create=True)
    store.add_suite(
        SUITE_HASH, name, suite_definition(name, ["PickPlace", "FindHiddenBlock"], range(10), ["a", "b"]), heldout
    )
    store.start_run(SUITE_HASH, {})
    write_rows(store, rows)
    store.close()
    return folder


def insert_corrupt_row(folder: Path, **values: object) -> None:
    """A row as a careless or hostile writer could leave it: SQLite does not check column types."""
    store = ResultsStore(folder)
    good = episode_row("a", "PickPlace", 99, True)
    row = good | values
    with store.transaction() as db:
        db.execute(f"INSERT INTO episodes ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    store.close()


@pytest.fixture
def hand_store(tmp_path: Path) -> Path:
    return make_store(tmp_path / "eval", hand_rows())


def test_per_agent_numbers_match_the_hand_count(hand_store: Path) -> None:
    report = load_report(hand_store)
    (suite,) = report.suites
    a, b = suite.agents
    assert (a.name, a.mode, b.name, b.mode) == ("a", "codeact", "b", "json")
    assert (a.episodes, a.infrastructure_errors, b.episodes, b.infrastructure_errors) == (20, 1, 20, 0)
    assert (a.success.successes, a.success.episodes) == (13, 20)
    assert (a.success.low, a.success.high) == pytest.approx(wilson_by_hand(13, 20))
    assert a.families["PickPlace"].rate == 1.0
    assert a.families["PickPlace"].low == pytest.approx(10 / (10 + 1.959963984540054**2))
    assert (a.families["FindHiddenBlock"].successes, a.families["FindHiddenBlock"].episodes) == (3, 10)
    assert list(a.families) == ["PickPlace", "FindHiddenBlock"]  # the task table's order
    assert {s: (r.successes, r.episodes) for s, r in a.splits.items()} == {"seen": (10, 10), "feedback": (3, 10)}
    assert a.mean_turns == pytest.approx(34 / 20) and b.mean_turns == pytest.approx(32 / 20)
    assert a.mean_prompt_tokens == pytest.approx(100 * 34 / 20)
    assert a.tokens_per_success == pytest.approx(110 * 34 / 13)
    assert {k: (c.count, c.share) for k, c in a.failure_kinds.items()} == {
        "success": (13, 0.65),
        "wrong_final_state": (4, 0.2),
        "turn_limit": (3, 0.15),
    }
    assert a.turns_histogram == {1: 13, 3: 7}
    assert (a.mean_llm_s, a.mean_sim_s, a.mean_wall_s) == (1.0, 1.0, 1.0)


def test_paired_comparison_per_family_and_overall(hand_store: Path) -> None:
    (suite,) = load_report(hand_store).suites
    (comparison,) = suite.comparisons
    assert (comparison.a, comparison.b) == ("a", "b")
    pick, hidden = comparison.families["PickPlace"], comparison.families["FindHiddenBlock"]
    assert (pick.pairs, pick.a_only, pick.b_only, pick.difference) == (10, 7, 0, pytest.approx(0.7))
    assert pick.p_value == pytest.approx(2 * 0.5**7)
    assert (hidden.a_only, hidden.b_only, hidden.difference, hidden.p_value) == (0, 2, pytest.approx(-0.2), 0.5)
    overall = comparison.overall
    assert (overall.pairs, overall.a_only, overall.b_only) == (20, 7, 2)  # a's infrastructure error is unpaired
    assert overall.difference == pytest.approx(0.25)
    assert overall.p_value == pytest.approx(2 * (1 + 9 + 36) / 2**9)
    a = [True] * 10 + [True] * 3 + [False] * 7
    b = [True] * 3 + [False] * 7 + [True] * 5 + [False] * 5
    expected = paired_difference(a, b)  # the same pairs in the same order: the same fixed-seed resamples
    assert (overall.low, overall.high) == (expected.low, expected.high)
    assert overall.low < 0.25 < overall.high


def test_action_modes_table_has_success_and_turns_per_mode(hand_store: Path) -> None:
    (suite,) = load_report(hand_store).suites
    assert [(m.model, m.mode, m.success.successes, m.success.episodes, m.mean_turns) for m in suite.modes] == [
        ("model-x", "codeact", 13, 20, pytest.approx(1.7)),
        ("model-x", "json", 8, 20, pytest.approx(1.6)),
    ]


def test_corrupt_rows_are_reported_and_left_out(hand_store: Path) -> None:
    insert_corrupt_row(hand_store, turns="many", seed=98)
    insert_corrupt_row(hand_store, wall_s=-4.0, seed=97)
    insert_corrupt_row(hand_store, success=b"\x00\x01", seed=96)
    report = load_report(hand_store)
    assert report.episodes == 41
    assert len(report.skipped) == 3
    assert any(re.fullmatch(r"episode \d+: turns: .*integer.*", line) for line in report.skipped)
    assert any("wall_s" in line and "greater than or equal to 0" in line for line in report.skipped)
    assert report.suites[0].agents[0].success.successes == 13  # unchanged by the bad rows


def test_terminal_report_is_what_eval_prints(hand_store: Path) -> None:
    console = Console(record=True, width=200)
    report = print_store_report(hand_store, console)
    out = console.export_text()
    assert report.suites[0].name == "pair"
    assert "Suite pair" in out
    assert "65.0% [43.3, 81.9] 13/20" in out  # a's success, Wilson interval by hand: 43.29 .. 81.88
    assert "Paired comparison: a − b" in out and "+25.0 pp" in out
    assert "Success rate and average turns per action mode" in out


def test_json_output_has_the_documented_shape(hand_store: Path) -> None:
    result = cli("report", str(hand_store), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"folder", "episodes", "skipped", "suites", "compared"}
    suite = data["suites"][0]
    assert set(suite) == {
        "name", "suite_hash", "heldout", "episodes", "agents", "comparisons", "modes", "tiers", "robustness",
    }  # fmt: skip
    assert suite["tiers"][0]["api"] == "high"
    assert suite["robustness"] == []  # no agent here runs under a perturbation
    agent = suite["agents"][0]
    assert agent["success"] == {
        "successes": 13,
        "episodes": 20,
        "rate": 0.65,
        "low": pytest.approx(wilson_by_hand(13, 20)[0]),
        "high": pytest.approx(wilson_by_hand(13, 20)[1]),
    }
    assert agent["families"]["PickPlace"]["successes"] == 10
    assert agent["failure_kinds"]["turn_limit"] == {"count": 3, "share": 0.15}
    assert agent["turns_histogram"] == {"1": 13, "3": 7}
    comparison = suite["comparisons"][0]
    assert set(comparison) == {"a", "b", "overall", "families"}
    assert set(comparison["overall"]) == {
        "pairs", "a_rate", "b_rate", "difference", "low", "high", "a_only", "b_only", "p_value",
    }  # fmt: skip
    assert data["compared"] is None


def test_compare_names_two_agents(hand_store: Path) -> None:
    result = cli("report", str(hand_store), "--json", "--compare", "b", "pair:a")
    assert result.returncode == 0, result.stderr
    compared = json.loads(result.stdout)["compared"]
    assert (compared["a"], compared["b"]) == ("b", "pair:a")
    assert compared["overall"]["difference"] == pytest.approx(-0.25)
    assert (compared["overall"]["a_only"], compared["overall"]["b_only"]) == (2, 7)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--compare", "a", "zz"], ["no agent named 'zz'", "agents are: a, b, pair:a, pair:b"]),
        (["--compare", "a", "bb"], ["did you mean 'b'?"]),
        (["--compare", "a", "a"], ["--compare needs two different agents, got 'a' twice"]),
        (["--viewer-url", "javascript:alert(1)", "--html", "r.html"], ["viewer URL must be http(s)"]),
        (["--md", "/proc/report.md"], ["cannot write the Markdown report to /proc/report.md"]),
        (["--plots", "/proc/version"], ["cannot write the plots to /proc/version", "is a file, not a folder"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(hand_store: Path, args: list[str], fragments: list[str]) -> None:
    result = cli("report", str(hand_store), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert all(f in lines[0] for f in fragments)


def test_a_folder_without_a_store_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("report", str(tmp_path))
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: {tmp_path} holds no results store (results.sqlite); run `codeact-robot eval` first"
    )


def test_markdown_and_html_files_and_plots(hand_store: Path, tmp_path: Path) -> None:
    md, page, plots = tmp_path / "r.md", tmp_path / "out" / "r.html", tmp_path / "plots"
    result = cli("report", str(hand_store), "--md", str(md), "--html", str(page), "--plots", str(plots))
    assert result.returncode == 0, result.stderr
    markdown = md.read_text()
    assert (
        "| a | codeact | high | model-x | 20 | 65.0% [43.3, 81.9] 13/20 | 100.0% [72.2, 100.0] | "
        "30.0% [10.8, 60.3] | 1 |" in markdown
    )
    assert "|---|---|---|---|---:|" in markdown
    html = page.read_text()
    assert html.count("<img src='data:image/png;base64,") == 5
    assert "<script" not in html and not re.search(r"src=['\"](?!data:)", html)  # self-contained
    assert "href='http://127.0.0.1:8080/#/episodes?suite=" + SUITE_HASH + "&amp;agent=a&amp;task=PickPlace'" in html
    written = sorted(p.name for p in plots.iterdir())
    assert written == [
        f"pair-{SUITE_HASH[:8]}-{n}.png" for n in ("failure_kinds", "families", "splits", "tokens", "turns")
    ]
    for path in plots.iterdir():
        image = iio.imread(path)
        assert image.shape[1] == 880 and image.shape[0] >= 200  # 8 inches at 110 dpi, readable at 100%


def test_hostile_names_stay_text_in_every_rendering(tmp_path: Path) -> None:
    rows = [episode_row(HOSTILE_AGENT, "PickPlace", s, s % 2 == 0, model="<b>m</b>") for s in range(4)]
    folder = make_store(tmp_path / "eval", rows, name="<script>alert(1)</script>")
    html_file, md_file = tmp_path / "r.html", tmp_path / "r.md"
    result = cli("report", str(folder), "--html", str(html_file), "--md", str(md_file))
    assert result.returncode == 0, result.stderr
    html = html_file.read_text()
    assert "<img src=x" not in html and "<script>alert" not in html and "<b>m</b>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    markdown = md_file.read_text()
    assert "\\<img src=x onerror=alert(1)\\>\\|[x]\\(javascript:alert(1))" in markdown
    assert "<" not in markdown.replace("\\<", "")


def test_terminal_escapes_and_markup_from_a_store_are_printed_as_text(tmp_path: Path) -> None:
    agent = "evil\x1b]0;TITLE\x07\x1b[2J[bold]x[/bold]"
    rows = [episode_row(agent, "PickPlace", s, s % 2 == 0) for s in range(2)]
    folder = make_store(tmp_path / "eval", rows, name="suite\x1b[31m")
    result = cli("report", str(folder))
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "evil\\x1b]0;TITLE\\x07\\x1b[2J[bold]x[/bold]" in result.stdout.replace("\n", "").replace(" ", "")
    assert "Suite suite\\x1b[31m" in result.stdout


def test_report_of_an_empty_store(tmp_path: Path) -> None:
    ResultsStore(tmp_path / "eval", create=True).close()
    result = cli("report", str(tmp_path / "eval"))
    assert result.returncode == 0, result.stderr
    assert "no episodes yet" in result.stdout


def test_report_never_writes_to_the_store(hand_store: Path) -> None:
    database = hand_store / "results.sqlite"
    before = (database.stat().st_mtime_ns, database.read_bytes())
    os.chmod(database, 0o444)
    try:
        assert cli("report", str(hand_store), "--json").returncode == 0
    finally:
        os.chmod(database, 0o644)
    assert (database.stat().st_mtime_ns, database.read_bytes()) == before


def test_dollars_per_episode_and_per_success_from_the_users_price_table(
    hand_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no price table of the user's own
    (a, _) = load_report(hand_store).suites[0].agents
    assert a.mean_cost_usd is None and a.cost_per_success_usd is None  # no price: no dollars
    assert main(["report", str(hand_store)]) == 0 and "$ per" not in capsys.readouterr().out
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  model-x: {prompt: 2.0, completion: 10.0}\n")
    (a, _) = load_report(hand_store, prices=load_prices(prices)).suites[0].agents
    # agent a: 34 scored turns of 100 prompt and 10 completion tokens each, 13 successes in 20 episodes
    spent = (3400 * 2.0 + 340 * 10.0) / 1e6
    assert a.mean_cost_usd == pytest.approx(spent / 20) and a.cost_per_success_usd == pytest.approx(spent / 13)
    assert main(["report", str(hand_store), "--prices", str(prices)]) == 0
    assert re.search(r"a\s+1\.70\s+170\s+17\s+288\s+\$0\.0005\s+\$0\.0008", capsys.readouterr().out)
    (tmp_path / "config" / "codeact-robot").mkdir(parents=True)
    (tmp_path / "config" / "codeact-robot" / "prices.yaml").write_text(prices.read_text())
    assert main(["report", str(hand_store)]) == 0 and "$0.0008" in capsys.readouterr().out  # the user's own table
    prices.write_text("models:\n  model-x: {prompt: -1, completion: 10.0}\n")
    assert main(["report", str(hand_store), "--prices", str(prices)]) == 2
    assert "prompt" in capsys.readouterr().err
