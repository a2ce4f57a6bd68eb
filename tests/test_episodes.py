"""Whole episodes through the agent loop: a model served over HTTP, the expert, and replays."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer

from codeact_robot.agent import make_backend
from codeact_robot.agent.prompt import system_prompt
from codeact_robot.agent.replay import ReplayBackend
from codeact_robot.agent.session import Session, run_episode
from codeact_robot.agent.trajectory import read_trajectory, write_trajectory
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import get_task
from codeact_robot.llm import LLMConfig
from codeact_robot.llm.context import estimate_tokens
from codeact_robot.worker.protocol import ActionReport

SEED = 1
PARAMS = get_task("PickPlace").sample(SEED).params  # the object to move and where to


def model(server: FakeOpenAIServer):
    return make_backend(LLMConfig(backend="openai", base_url=server.base_url, model="fake-model", max_retries=0))


@pytest.fixture
def env() -> CodeActEnv:
    env = CodeActEnv(task="PickPlace", renderer="tiny", time_limit_s=20)
    yield env
    env.close()


def test_bug_error_observation_fix_success(env: CodeActEnv, tmp_path: Path) -> None:
    misspelt = PARAMS["object"].replace("block", "blok")
    turns = [
        {"content": f"I will move it.\n<execute>\nok = pick_and_place('{misspelt}', '{PARAMS['target']}')\n</execute>"},
        {
            "content": f"I misspelt the name.\n<execute>\nok = pick_and_place('{PARAMS['object']}', "
            f"'{PARAMS['target']}')\nprint('moved:', ok)\n</execute>"
        },
        {"content": "This turn must never be requested."},
    ]
    with FakeOpenAIServer(turns) as server:
        record = run_episode(env, model(server), seed=SEED)
    assert record.outcome == "success" and record.success
    assert [t.kind for t in record.turns] == ["action", "action"]
    first, second = record.turns
    assert first.report.error_type == "ValueError" and f"did you mean '{PARAMS['object']}'" in first.report.error
    assert "ValueError" in first.observation and "turns left" in first.observation
    assert second.report.stdout == "moved: True\n" and second.success
    assert second.report.timings.sim_steps > 0 and second.report.timings.exec_s > 0
    # the conversation is append-only: each request extends the previous one
    first_request, second_request = (r["messages"] for r in server.requests)
    assert second_request[: len(first_request)] == first_request
    assert second_request[len(first_request)]["content"].endswith("</execute>")  # stripped tag put back
    assert first_request[0]["role"] == "system" and "pick_and_place(obj: str" in first_request[0]["content"]
    assert server.requests[0]["stop"] == ["</execute>", "<|im_end|>"]  # the code block's end, and the turn's
    # the trajectory records every message, code action, observation and the outcome
    path = write_trajectory(record, tmp_path / "t.jsonl")
    saved = read_trajectory(path)
    assert saved.outcome == "success" and saved.totals()["turns"] == 2
    assert [m["role"] for m in saved.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert saved.turns[0].code.startswith("ok = pick_and_place(")
    assert saved.totals()["prompt_tokens"] > 0


def test_every_kind_of_bad_output_gets_an_observation(env: CodeActEnv) -> None:
    turns = [
        {"content": ""},
        {"content": "Let me see <execute   >x = 1"},
        {"content": "<execute>print(1)</execute><execute>print(2)</execute>", "ignore_stop": True},
        {"content": "x" * 50_000},
    ]
    with FakeOpenAIServer(turns) as server:
        record = run_episode(env, model(server), seed=SEED)
    kinds = [t.kind for t in record.turns]
    assert kinds == ["malformed", "malformed", "action", "message"]
    assert "Your reply was empty. Expected format" in record.turns[0].observation
    assert "tags did not match" in record.turns[1].observation
    assert record.turns[2].report.stdout == "1\n" and "only the first was run" in record.turns[2].observation
    assert record.outcome == "message" and not record.success
    assert "turns left" in record.turns[1].observation


def test_the_turn_budget_ends_an_episode_of_malformed_turns(env: CodeActEnv) -> None:
    with FakeOpenAIServer([{"content": "</execute>"}] * 20) as server:
        record = run_episode(env, model(server), seed=SEED)
    assert record.outcome == "turn_limit" and len(record.turns) == env.budget


def test_model_server_failure_ends_the_episode_with_llm_error(env: CodeActEnv) -> None:
    with FakeOpenAIServer([{"content": "<execute>\nx = 1\n</execute>"}, {"status": 500}]) as server:
        record = run_episode(env, model(server), seed=SEED)
    assert record.outcome == "llm_error" and "answered HTTP 500" in record.error
    assert len(record.turns) == 1


@pytest.mark.parametrize(
    ("mode", "call"),
    [
        ("json", '{"tool": "pick_and_place", "args": {"obj": "%s", "target": "%s"}}'),
        ("text", "pick_and_place, %s, %s"),
    ],
)
def test_json_and_text_action_modes_drive_the_same_skills(env: CodeActEnv, mode: str, call: str) -> None:
    with FakeOpenAIServer([{"content": "I move it.\n" + call % (PARAMS["object"], PARAMS["target"])}]) as server:
        record = run_episode(env, model(server), seed=SEED, mode=mode)
    assert record.outcome == "success"
    assert record.turns[0].report.stdout == "True\n"
    system = server.requests[0]["messages"][0]["content"]
    assert ('{"tool":' in system) if mode == "json" else ("pick_and_place, green block, red block" in system)
    assert server.requests[0]["stop"] == ["<|im_end|>"]  # the model's end of turn, in every mode


def test_images_go_to_multimodal_models_as_image_parts(env: CodeActEnv) -> None:
    with FakeOpenAIServer([{"content": "Done looking."}]) as server:
        record = run_episode(env, model(server), seed=SEED, images=True)
    content = server.requests[0]["messages"][1]["content"]
    assert content[0]["type"] == "text" and content[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert record.messages[1]["content"][1] == {"type": "image", "camera": "front"}


def test_replaying_a_trajectory_reproduces_the_final_scene(env: CodeActEnv, tmp_path: Path) -> None:
    expert = run_episode(env, make_backend(LLMConfig(backend="reference"), env.instance_for(SEED)), seed=SEED)
    assert expert.success
    path = write_trajectory(expert, tmp_path / "expert.jsonl")
    replayed = run_episode(env, ReplayBackend(path), seed=SEED)
    assert replayed.outcome == expert.outcome
    assert replayed.final_objects == expert.final_objects  # bit-identical object states


def test_chat_style_follow_up_instructions_continue_the_conversation() -> None:
    env = CodeActEnv(renderer="tiny", end_on_success=False, max_turns=10)
    turns = [
        {"content": "<execute>\npick_and_place('red block', 'blue bowl')\n</execute>"},
        {"content": "The red block is in the blue bowl."},
        {"content": "<execute>\nplace_back = pick_and_place('red block', [0.45, 0.1])\nprint(place_back)\n</execute>"},
        {"content": "I put it back."},
    ]
    options = {"blocks": ["red"], "bowls": ["blue"], "positions": {"red block": [0.45, 0.1]}}
    try:
        with FakeOpenAIServer(turns) as server:
            session = Session(env, model(server))
            session.start(0, {**options, "instruction": "put the red block in the blue bowl"})
            assert session.act() == "message"
            session.instruct("Task: now put it back")
            assert session.act() == "message"
        block = session.info["objects"]["red block"]["position"]
        assert abs(block[0] - 0.45) < 0.02 and abs(block[1] - 0.1) < 0.02
        assert {"role": "user", "content": "Task: now put it back"} in server.requests[-1]["messages"]
    finally:
        env.close()


def test_traceback_names_the_turn_the_model_sees(env: CodeActEnv) -> None:
    turns = [
        {"content": "<execute>\n</execute>"},  # malformed (an empty block): it spends turn 1
        {"content": "<execute>\nx = 1\n</execute>"},
        {"content": "<execute>\ndef f():\n    return 1 / 0\nf()\n</execute>"},
        {"content": "Done."},
    ]
    with FakeOpenAIServer(turns) as server:
        record = run_episode(env, model(server), seed=SEED)
    assert [t.kind for t in record.turns] == ["malformed", "action", "action", "message"]
    error = record.turns[2].report.error
    assert 'File "<action 3>", line 3' in error and 'File "<action 3>", line 2, in f' in error


def test_a_reply_cut_off_inside_its_code_runs_nothing_and_the_model_is_told(env: CodeActEnv) -> None:
    # llama.cpp and vLLM: a reply stopped at </execute> and one cut at max_tokens can be the same text;
    # only the finish reason tells them apart
    move = f"pick_and_place('{PARAMS['object']}', '{PARAMS['target']}')"
    cut = {"content": f"I move it.\n<execute>\n{move}\n", "finish_reason": "length"}
    with FakeOpenAIServer([cut, {"content": "I stop here."}]) as server:
        record = run_episode(env, model(server), seed=SEED)
    first = record.turns[0]
    assert first.kind == "cut_off" and first.finish_reason == "length" and first.code is None
    assert first.report == ActionReport() and not record.success  # nothing ran: the robot never moved
    assert "Your reply was cut off at the length limit" in first.observation
    assert "none of it was run" in first.observation
    assert record.messages[2]["content"] == cut["content"]  # kept as written: no closing tag put back
    assert record.turns[1].finish_reason == "stop" and record.outcome == "message"
    assert len(server.requests) == 2


def test_an_episode_that_ends_on_a_cut_off_reply_says_so() -> None:
    env = CodeActEnv(task="PickPlace", renderer="tiny", max_turns=2)
    cut = {"content": "Let me think about this at length", "finish_reason": "length"}
    try:
        with FakeOpenAIServer(fallback=cut) as server:
            record = run_episode(env, model(server), seed=SEED)
    finally:
        env.close()
    assert record.outcome == "reply_cut_off" and [t.kind for t in record.turns] == ["cut_off", "cut_off"]
    assert len(server.requests) == 2


def test_a_conversation_that_outgrows_the_context_ends_as_context_overflow(env: CodeActEnv) -> None:
    # each turn prints about 2,000 characters; the system prompt alone is about 3,200 tokens by the server's count
    act = {"content": "<execute>\nprint(get_object_names() * 40)\n</execute>"}
    with FakeOpenAIServer(fallback=act, max_model_len=5000) as server:
        record = run_episode(env, model(server), seed=SEED)
    assert record.outcome == "context_overflow" and 1 < len(record.turns) < env.budget
    assert record.error.startswith("the conversation no longer fits the model's context of 5000 tokens")
    sent = [r["max_tokens"] for r in server.requests]
    assert len(sent) == len(record.turns) and min(sent) < 1024  # the last replies were limited to the room left
    assert all(server.prompt_tokens(r) + r["max_tokens"] <= 5000 for r in server.requests)  # none was refused


def test_the_compact_prompt_keeps_a_ten_turn_episode_inside_a_4k_context() -> None:
    # CodeActAgent's Llama-2 variant has a 4,096-token context; the full prompt alone is over it
    look = "I look where everything is.\n<execute>\nfor name in get_object_names():\n"
    look += "    print(name, get_object_position(name))\n</execute>"
    env = CodeActEnv(task="PickPlace", renderer="tiny", max_turns=10)
    try:
        with FakeOpenAIServer(fallback={"content": look}, max_model_len=4096) as server:
            record = run_episode(env, model(server), seed=SEED, prompt="compact")
    finally:
        env.close()
    assert record.outcome == "turn_limit" and len(record.turns) == 10
    system = record.messages[0]["content"]
    full = system_prompt("codeact", env.instance, env.config.limits)
    # a deterministic estimate: three characters a token (Llama-2's tokenizer makes about 3.2 of this text)
    assert estimate_tokens([{"role": "system", "content": full}]) == 4613  # the full prompt: over 4,096 alone
    assert estimate_tokens([{"role": "system", "content": system}]) == 1315  # the compact one
    last = estimate_tokens(server.requests[-1]["messages"])
    assert last == 3260 and last + 512 < 4096  # turn 10 still has room for a 512-token reply (836 left)
    assert min(r["max_tokens"] for r in server.requests) >= 512
