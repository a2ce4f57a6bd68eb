"""Reports and the episode viewer at scale: a 10,000-episode store against a 100-episode one.

Measures, side by side, the report's numbers and renderings, the viewer API's answers
(the overview, the first page of the list, a free-text search, one episode) and, where
Chromium is installed, the time from opening the page to the list being shown. The
synthetic stores are the tests' (``tests/stores.py``): three agents on every task family.

python benchmarks/reports.py [--episodes 10000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from stores import synthetic_store

from codeact_robot.eval.reports.html import html_report
from codeact_robot.eval.reports.markdown import markdown_report
from codeact_robot.eval.reports.report import load_report
from codeact_robot.eval.viewer import ViewerServer

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def median_s(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def get(server: ViewerServer, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=60)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


def api_figures(server: ViewerServer, repeats: int) -> dict[str, float]:
    return {
        "overview": median_s(lambda: get(server, "/api/overview"), repeats),
        "first page (50)": median_s(lambda: get(server, "/api/episodes?limit=50"), repeats),
        "filtered, sorted page": median_s(
            lambda: get(server, "/api/episodes?agent=json&task=StackBlocks&sort=turns&order=asc"), repeats
        ),
        "free-text search": median_s(lambda: get(server, "/api/episodes?q=seed_7%20turn%203"), repeats),
        "one episode": median_s(lambda: get(server, "/api/episodes/1"), repeats),
    }


def browser_open_s(urls: list[str], repeats: int) -> list[float] | None:
    if not CHROMIUM.exists():
        return None
    from playwright.sync_api import expect, sync_playwright

    found = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page()
        for url in urls:
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                page.goto(url)
                expect(page.locator("#count")).to_contain_text("episodes")
                times.append(time.perf_counter() - started)
            found.append(statistics.median(times))
        browser.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        small = synthetic_store(Path(folder) / "small", 100)
        started = time.perf_counter()
        large = synthetic_store(Path(folder) / "large", args.episodes)
        print(f"wrote {args.episodes:,} synthetic episodes in {time.perf_counter() - started:.1f} s")
        size_mb = (large / "results.sqlite").stat().st_size / 2**20
        print(f"store size: {size_mb:.1f} MiB\n")

        report = load_report(large)
        print(f"report of {args.episodes:,} episodes (3 agents, 15 families):")
        print(f"  numbers (load_report):      {median_s(lambda: load_report(large), 3):6.2f} s")
        print(f"  Markdown:                   {median_s(lambda: markdown_report(report), 3):6.3f} s")
        print(f"  HTML with 5 plots:          {median_s(lambda: html_report(report), 3):6.2f} s")
        print(f"  numbers, 100 episodes:      {median_s(lambda: load_report(small), 3):6.2f} s\n")

        servers = [ViewerServer(small, port=0), ViewerServer(large, port=0)]
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            figures = [api_figures(server, args.repeats) for server in servers]
            print(f"viewer API, median of {args.repeats} (ms):   100 episodes   {args.episodes:,} episodes   ratio")
            for name in figures[0]:
                few, many = figures[0][name], figures[1][name]
                print(f"  {name:<24} {1000 * few:12.1f} {1000 * many:16.1f} {many / few:9.1f}")
            page_kb = len(get(servers[1], "/api/episodes?limit=50")) / 1024
            print(f"  a page of 50 summaries: {page_kb:.1f} KiB\n")
            opened = browser_open_s([s.url for s in servers], args.repeats)
            if opened is None:
                print("Chromium is not installed: no browser figures")
            else:
                print(f"page open to list shown, Chromium, median of {args.repeats}:")
                print(f"  100 episodes {1000 * opened[0]:.0f} ms, {args.episodes:,} episodes {1000 * opened[1]:.0f} ms")
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()


if __name__ == "__main__":
    main()
