"""The studio in a real headless Chromium (the OS's), driven by Playwright, on a real worker.

Skipped, with the reason, only where Chromium is not installed; Playwright never
downloads a browser here. The model is the only stand-in (the fake OpenAI server).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from browsing import Console, chromium, expect, new_tab
from fake_openai_server import FakeOpenAIServer
from test_studio import LONG, PLACE, make_studio, serving

from codeact_robot.agent import make_backend
from codeact_robot.llm import LLMConfig
from codeact_robot.studio.server import StudioServer
from codeact_robot.studio.studio import Studio


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    with new_tab(browser, height=1000, timeout_ms=60_000) as opened:
        yield opened


@pytest.fixture(scope="module")
def code_studio() -> Iterator[tuple[Studio, StudioServer]]:
    studio = make_studio()
    with serving(studio) as server:
        yield studio, server
    studio.close()


@pytest.fixture
def opened(code_studio: tuple[Studio, StudioServer], tab: Any) -> Iterator[tuple[Any, Console, Studio]]:
    studio, server = code_studio
    studio.reset(new_seed=False)
    console = Console(tab)
    tab.goto(server.url)
    expect(tab.locator("#view")).to_have_attribute("data-frame", re.compile(r"\d+"))
    yield tab, console, studio
    assert console.errors == [] and console.dialogs == []


def table(page: Any) -> dict[str, tuple[str, str]]:
    """The scene table: object -> (position, where)."""
    rows = page.locator("#objects tbody tr")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    return {name: (position, where) for name, position, where in cells}


def run(page: Any, code: str) -> Any:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Run", exact=True).click()


def test_code_mode_runs_the_typed_action_and_the_camera_shows_it(opened: tuple[Any, Console, Studio]) -> None:
    page, _, _ = opened
    camera = page.get_by_label("Camera", exact=True)
    expect(camera).to_contain_text("Showing the front camera: the robot's left is on the image's left")
    before = page.locator("#view").screenshot()
    frame = page.locator("#view").get_attribute("data-frame")
    run(page, PLACE + "\nprint('placed it')")
    turn = page.locator(".turn").first
    expect(turn.locator(".output")).to_have_text("placed it")
    expect(turn).to_contain_text("Turn 1 · you wrote")
    expect(page.locator("#objects tbody")).to_contain_text("in the blue bowl")
    assert table(page)["red block"][1] == "in the blue bowl"
    expect(page.locator("#view")).not_to_have_attribute("data-frame", frame)
    assert page.locator("#view").screenshot() != before
    assert page.locator(".turn .code code span").count() > 0  # highlighted by the shipped highlighter


def test_an_error_shows_its_traceback_and_the_api_reference_is_searchable(opened: tuple[Any, Console, Studio]) -> None:
    page, _, _ = opened
    run(page, "x = 1\nget_object_position('purple block')")
    error = page.locator(".turn").first.locator("pre.error")
    expect(error).to_contain_text("<action 1>")
    expect(error).to_contain_text("purple block")
    page.get_by_label("Search the API").fill("pick place")
    shown = page.locator("#api article:visible code").all_inner_texts()
    assert any(name.startswith("pick_and_place(") for name in shown)
    assert not any(name.startswith("get_object_names(") for name in shown)  # its docs name neither word
    assert len(shown) < page.locator("#api article").count()


def test_stop_interrupts_a_long_action_and_the_session_goes_on(opened: tuple[Any, Console, Studio]) -> None:
    page, _, studio = opened
    poses = studio.live_poses
    run(page, LONG)
    expect(page.locator("#status")).to_have_text("Running…")
    while studio.live_poses == poses:  # the arm is moving: the simulator sends its poses
        page.wait_for_timeout(50)
    page.get_by_role("button", name="Stop", exact=True).click()
    turn = page.locator(".turn").first
    expect(turn.locator("pre.error")).to_contain_text("stopped by the user")
    run(page, "print('still here', get_gripper_width() >= 0)")
    expect(page.locator(".turn").first.locator(".output")).to_have_text("still here True")
    expect(page.locator(".turn")).to_have_count(2)


def test_undo_brings_back_the_previous_positions(opened: tuple[Any, Console, Studio]) -> None:
    page, _, _ = opened
    start = table(page)
    run(page, PLACE)
    expect(page.locator("#objects tbody")).to_contain_text("in the blue bowl")
    assert table(page) != start
    page.get_by_role("button", name="Undo", exact=True).click()
    expect(page.locator(".turn")).to_have_count(0)
    expect(page.locator("#objects tbody")).not_to_contain_text("in the blue bowl")
    assert table(page) == start


def test_a_request_without_the_token_is_refused(opened: tuple[Any, Console, Studio]) -> None:
    studio_page, _, _ = opened
    origin = studio_page.url.split("/")[2]
    assert studio_page.request.get(f"http://{origin}/").status == 403
    assert studio_page.request.get(f"http://{origin}/api/state").status == 403
    assert studio_page.request.get(studio_page.url + "api/state").status == 200


def test_model_mode_shows_the_models_code_output_and_reply(tab: Any) -> None:
    replies = [
        {"content": "I will put the red block into the bowl.\n<execute>\n" + PLACE + "\nprint('done it')\n</execute>"},
        {"content": "The red block is in the blue bowl now."},
    ]
    with FakeOpenAIServer(replies) as fake:
        llm = make_backend(LLMConfig(backend="openai", base_url=fake.base_url, model="fake-model", max_retries=0))
        studio = make_studio(llm)
        try:
            with serving(studio) as server:
                page = tab
                console = Console(page)
                page.goto(server.url)
                page.get_by_label("Instruction", exact=True).fill("put the red block in the blue bowl")
                page.get_by_role("button", name="Send", exact=True).click()
                turns = page.locator(".turn")
                expect(turns).to_have_count(2)
                action, reply = turns.nth(1), turns.nth(0)  # newest first
                expect(action.locator(".reasoning")).to_have_text("I will put the red block into the bowl.")
                expect(action.locator(".code")).to_have_text(PLACE + "\nprint('done it')")
                expect(action.locator(".output")).to_have_text("done it")
                expect(reply.locator(".reply")).to_have_text("The red block is in the blue bowl now.")
                expect(page.locator("#objects tbody")).to_contain_text("in the blue bowl")
                assert "Task: put the red block in the blue bowl" in str(fake.requests[0]["messages"])
                assert console.errors == []
        finally:
            studio.close()
