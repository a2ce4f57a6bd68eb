"""Failure kinds from structured facts: one scripted episode per kind, through the real loop."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_openai_server import FakeOpenAIServer

from codeact_robot.agent import make_backend
from codeact_robot.agent.session import run_episode
from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import get_task
from codeact_robot.eval.results.failures import FAILURE_KINDS, failure_kind, turn_problem
from codeact_robot.llm import LLMConfig
from codeact_robot.worker.protocol import ActionReport

SEED = 1
PARAMS = get_task("PickPlace").sample(SEED).params
SOLVE = f"<execute>pick_and_place('{PARAMS['object']}', '{PARAMS['target']}')</execute>"
CLEAN = "<execute>print('looking')</execute>"


@pytest.fixture(scope="module")
def env() -> Iterator[CodeActEnv]:
    # 5 s: the endless loop meets the limit soon, and a solving action on a loaded machine does not
    env = CodeActEnv(task="PickPlace", renderer="tiny", time_limit_s=5.0, max_turns=2)
    yield env
    env.close()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def episode(env: CodeActEnv, server: FakeOpenAIServer, replies: list[dict]) -> EpisodeRecord:
    server.replies = list(replies)
    llm = make_backend(LLMConfig(backend="openai", base_url=server.base_url, model="fake-model", max_retries=0))
    return run_episode(env, llm, seed=SEED)


@pytest.mark.parametrize(
    ("replies", "kind", "outcome"),
    [
        ([SOLVE], "success", "success"),
        (["<execute>done()</execute>"], "wrong_final_state", "done"),
        ([CLEAN, "The blocks are where you asked."], "wrong_final_state", "message"),
        (["<execute>pick('purple blok')</execute>", "I cannot find that block."], "gave_up", "message"),
        (["I would rather not."], "gave_up", "message"),
        ([CLEAN, CLEAN], "turn_limit", "turn_limit"),
        (["<execute>x = (</execute>", CLEAN], "turn_limit", "turn_limit"),  # only the last turn counts
        ([CLEAN, ""], "format_error", "turn_limit"),
        ([CLEAN, "<execute>x = (</execute>"], "syntax_error", "turn_limit"),
        ([CLEAN, "<execute>print(().__class__)</execute>"], "sandbox_violation", "turn_limit"),
        ([CLEAN, "<execute>while True:\n    pass</execute>"], "limit", "turn_limit"),
        ([CLEAN, "<execute>pick('purple blok')</execute>"], "api_misuse", "turn_limit"),
        ([CLEAN, "<execute>print(1 / 0)</execute>"], "program_error", "turn_limit"),
        ([CLEAN, "<execute>print(place([0.5, 0.0]))</execute>"], "physical_failure", "turn_limit"),
        ([{"status": 400, "body": {"error": {"message": "prompt too long"}}}], "model_error", "llm_error"),
    ],
)
def test_each_failure_kind_from_a_scripted_episode(
    env: CodeActEnv, server: FakeOpenAIServer, replies: list, kind: str, outcome: str
) -> None:
    record = episode(env, server, [r if isinstance(r, dict) else {"content": r} for r in replies])
    assert record.outcome == outcome
    assert failure_kind(record, record.outcome) == kind


def test_the_facts_behind_the_kinds_are_kept_per_turn(env: CodeActEnv, server: FakeOpenAIServer) -> None:
    record = episode(env, server, [{"content": "<execute>print(place([0.5, 0.0]))</execute>"}, {"content": ""}])
    action, malformed = record.turns
    assert action.report.skill_calls == 1 and action.report.skill_false == 1 and action.report.origin is None
    assert turn_problem(action) == "physical_failure" and turn_problem(malformed) == "format_error"


def test_a_worker_that_stays_down_and_an_episode_that_could_not_run() -> None:
    crashed = EpisodeRecord(config={}, task="PickPlace", seed=0, instruction="", mode="codeact", outcome="worker_crash")
    crashed.turns.append(
        TurnRecord(turn=1, kind="action", assistant="", report=ActionReport(origin="crash", limit="crash"))
    )
    assert failure_kind(crashed, "worker_crash") == "worker_crash"
    assert turn_problem(crashed.turns[0]) == "worker_crash"
    assert failure_kind(None, "error") == "error"
    assert failure_kind(crashed, "error") == "error"  # an infrastructure error is never a task failure
    assert {"success", "error", "gave_up", "wrong_final_state", "program_error"} <= set(FAILURE_KINDS)
