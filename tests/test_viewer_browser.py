"""The viewer and the HTML report in a real headless Chromium (the OS's), driven by Playwright.

Skipped, with the reason, only where Chromium is not installed (``.ci/run`` installs it
from Debian's packages); Playwright never downloads a browser here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browsing import Console, chromium, expect, new_tab
from stores import HOSTILE, SUITE_HASH, RealStore, real_store, synthetic_store
from test_report import cli, hand_rows, make_store
from test_viewer import serving

from codeact_robot.eval.results.store import ResultsStore

OPEN_LIMIT_S = 2.0  # the limit for opening a 10,000-episode store


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with new_tab(browser, height=900, timeout_ms=20_000) as opened:
        yield opened


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealStore:
    return real_store(tmp_path_factory.mktemp("real") / "eval")


def loaded_image_widths(page: Any, timeout_s: float = 20.0) -> list[int]:
    """The natural widths of the page's images once all have loaded (0 for a broken one).

    Polled from here: the pages' Content-Security-Policy forbids the eval that
    ``wait_for_function`` needs, as it should.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        state = page.locator("img").evaluate_all("images => images.map(i => [i.complete, i.naturalWidth])")
        if all(complete for complete, _ in state) or time.monotonic() > deadline:
            return [width for _, width in state]
        time.sleep(0.05)


def rows(page: Any) -> list[str]:
    page.wait_for_selector("#episodes tbody tr")
    return page.locator("#episodes tbody tr").all_inner_texts()


def test_the_page_loads_without_console_errors(real: RealStore, page: Any) -> None:
    console = Console(page)
    with serving(real.folder) as server:
        page.goto(server.url)
        assert len(rows(page)) == 3
        assert page.locator("#count").inner_text() == "1–3 of 3 episodes"
        page.click("text=Runs")
        page.wait_for_selector("text=Suites")
        assert "real" in page.locator("main").inner_text()
    assert console.errors == []


def test_the_runs_page_fits_the_window_and_a_failure_reads_not_solved(tmp_path: Path, page: Any) -> None:
    folder = synthetic_store(tmp_path / "eval", 40)
    store = ResultsStore(folder)
    settings = {  # what eval records, with a long host name and cache path
        "workers": 16, "max_in_flight": 64, "backend": "local", "address": None, "limit": None,
        "retry_errors": False, "cache": True, "videos": "failures", "video_camera": "both",
        "host": "a-very-long-host-name-" * 4, "version": "0.1.0",
    }  # fmt: skip
    store.finish_run(store.start_run(SUITE_HASH, settings), "finished")
    store.close()
    with serving(folder) as server:
        page.goto(server.url)
        failed = [row for row in rows(page) if "not solved" in row]
        assert failed and all(row.split("\t")[5].startswith("not solved ") for row in failed)
        page.click("text=Runs")
        page.wait_for_selector("td.settings")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1300  # the window's width
        shown = page.locator("td.settings").first.inner_text()
        assert "max_in_flight: 64, retry_errors: false" in shown and shown.endswith("workers: 16")
        lines = (
            "(td) => { const r = document.createRange(); r.selectNodeContents(td); return r.getClientRects().length; }"
        )
        cells = page.locator("td.time")
        assert all(cells.nth(i).evaluate(lines) <= 1 for i in range(cells.count()))  # a date never breaks in the middle


def test_a_filter_narrows_the_list(real: RealStore, page: Any) -> None:
    with serving(real.folder) as server:
        page.goto(server.url)
        assert len(rows(page)) == 3
        page.select_option("select[name=agent]", "expert")
        expect(page.locator("#count")).to_have_text("1–1 of 1 episodes")
        assert "expert" in rows(page)[0]
        assert "agent=expert" in page.url
        page.goto(server.url)  # all agents again, then free text that only one program holds
        page.fill("input[name=q]", "purple")
        page.press("input[name=q]", "Enter")
        expect(page.locator("#count")).to_have_text("1–1 of 1 episodes")
        assert rows(page)[0].split("\t")[0] == str(real.self_debug_id)


def test_an_episode_shows_its_code_output_error_images_and_verdict(real: RealStore, page: Any) -> None:
    console = Console(page)
    with serving(real.folder) as server:
        page.goto(server.url)
        rows(page)
        page.click(f"#episodes tr[data-id='{real.self_debug_id}'] td a >> nth=0")
        page.wait_for_selector("#final")
        first = page.locator("#turn-1")
        assert first.locator(".code pre.lines").inner_text() == "1\n2"
        assert first.locator(".code code").inner_text() == "print(get_object_names())\npick('purple block')"
        assert first.locator(".code code span").count() > 0  # highlighted by the shipped highlighter
        assert "line 2" in first.locator("pre.error").inner_text()  # the traceback's line is the code's line 2
        assert page.locator("#turn-2 pre.output").inner_text() == "placed True"
        assert page.locator("#instruction").inner_text() == "pick up the blue block and place it on the green block"
        assert "blue block" in page.locator("#final table").inner_text()
        assert "blue block is on the green block" in page.locator("#final").inner_text()
        assert loaded_image_widths(page) == [320, 320]
        assert not page.locator("details pre").first.is_visible()  # the system prompt starts collapsed
    assert console.errors == []


def test_hostile_content_stays_text(real: RealStore, page: Any) -> None:
    console = Console(page)
    with serving(real.folder) as server:
        page.goto(server.url)
        assert any(HOSTILE in row for row in rows(page))
        page.goto(f"{server.url}#/episode/{real.hostile_id}")
        page.wait_for_selector("#final")
        page.wait_for_timeout(300)
        assert HOSTILE in page.locator("#instruction").inner_text()
        assert HOSTILE in page.locator("#turn-1 .reasoning").inner_text()
        assert HOSTILE in page.locator("#turn-1 pre.output").inner_text()
        assert repr(HOSTILE) in page.locator("#turn-1 .code code").inner_text()
        assert page.locator("img[src=x]").count() == 0 and page.locator("main script").count() == 0
        assert page.title() == "codeact-robot episodes"
    assert console.dialogs == [] and console.errors == []


def test_ten_thousand_episodes_open_within_the_limit(tmp_path: Path, page: Any) -> None:
    folder = synthetic_store(tmp_path / "eval", 10_000)
    console = Console(page)
    with serving(folder) as server:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            page.goto(server.url)
            expect(page.locator("#count")).to_have_text("1–50 of 10000 episodes")
            times.append(time.perf_counter() - started)
        assert len(rows(page)) == 50
        page.click("text=next →")
        expect(page.locator("#count")).to_have_text("51–100 of 10000 episodes")
    assert min(times) < OPEN_LIMIT_S, times
    # the browser only ever got pages of summaries: no transcript was requested
    assert not [url for url in console.requests if "/api/episodes/" in url]
    assert console.bytes < 4 * 300_000, console.bytes
    assert console.errors == []


def test_reload_shows_episodes_another_process_wrote(tmp_path: Path, page: Any) -> None:
    folder = make_store(tmp_path / "eval", hand_rows()[:3])
    writer = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from stores import SUITE_HASH, hand_result
        from codeact_robot.eval.results.store import ResultsStore
        store = ResultsStore({str(folder)!r})
        for seed in range(20, 22):
            store.write_episode(hand_result("c", "StackBlocks", seed, True), SUITE_HASH, 1)
        store.close()
        """
    )
    with serving(folder) as server:
        page.goto(server.url)
        assert len(rows(page)) == 3
        subprocess.run([sys.executable, "-c", writer], check=True, timeout=120)
        page.reload()
        expect(page.locator("#count")).to_have_text("1–5 of 5 episodes")
        assert [r.split("\t")[1] for r in rows(page)[:2]] == ["c", "c"]


def test_the_html_report_opens_and_its_links_lead_to_the_episodes(tmp_path: Path, page: Any) -> None:
    folder = make_store(tmp_path / "eval", hand_rows())
    report = tmp_path / "report.html"
    console = Console(page)
    with serving(folder) as server:
        viewer = server.url.rstrip("/")
        result = cli("report", str(folder), "--html", str(report), "--viewer-url", viewer)
        assert result.returncode == 0, result.stderr
        page.goto(report.as_uri())
        assert len(loaded_image_widths(page)) == 5
        assert page.locator("h2").first.inner_text() == "Suite pair"
        assert page.locator("tbody tr").count() > 10
        assert page.locator("tbody tr:not(:has(a[href^='" + viewer + "/#/episodes?']))").count() == 0  # every row
        page.locator("table").nth(2).locator("tr:has-text('FindHiddenBlock') a").nth(1).click()  # agent a
        page.wait_for_url(f"{viewer}/#/episodes?*")
        expect(page.locator("#count")).to_have_text("1–10 of 10 episodes")
        assert {tuple(r.split("\t")[1:3]) for r in rows(page)} == {("a", "FindHiddenBlock")}
    assert console.errors == []
    assert json.loads(cli("report", str(folder), "--json").stdout)["episodes"] == 41
