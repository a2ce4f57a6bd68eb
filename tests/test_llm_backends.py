"""LLM backends against a real local HTTP server that speaks the OpenAI chat-completions API."""

from __future__ import annotations

import socket

import pytest
from fake_openai_server import FakeOpenAIServer

from codeact_robot.agent import make_backend
from codeact_robot.errors import UsageError
from codeact_robot.llm import LLMConfig, LLMError
from codeact_robot.llm.model_server import check_model_servers, served_models

MESSAGES = [{"role": "system", "content": "You are a robot."}, {"role": "user", "content": "Task: stack"}]


def backend(server: FakeOpenAIServer, **settings: object):
    return make_backend(LLMConfig(backend="openai", base_url=server.base_url, model="fake-model", **settings))


def test_completion_with_stop_sequence_usage_and_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROBOT_KEY", "secret-123")
    with FakeOpenAIServer([{"content": "Plan.\n<execute>\nprint(1)\n</execute> trailing"}]) as server:
        llm = backend(server, api_key_env="ROBOT_KEY", temperature=0.2, max_tokens=77, seed=5)
        completion = llm.complete(MESSAGES, stop=["</execute>"])
    assert completion.text == "Plan.\n<execute>\nprint(1)\n"  # the server stopped before the stop sequence
    assert completion.prompt_tokens and completion.completion_tokens
    request = server.requests[0]
    assert request["stop"] == ["</execute>"] and request["max_tokens"] == 77 and request["seed"] == 5
    assert request["temperature"] == 0.2 and request["messages"] == MESSAGES
    assert server.headers[0]["authorization"] == "Bearer secret-123"


def test_streaming_assembles_the_chunks() -> None:
    with FakeOpenAIServer([{"content": "one two three"}]) as server:
        completion = backend(server, stream=True).complete(MESSAGES)
    assert completion.text == "one two three" and completion.finish_reason == "stop"
    assert completion.completion_tokens == 3


@pytest.mark.parametrize("status", [500, 429])
def test_transient_errors_are_retried(status: int) -> None:
    with FakeOpenAIServer([{"status": status}, {"status": status}, {"content": "ok"}]) as server:
        completion = backend(server, max_retries=2).complete(MESSAGES)
    assert completion.text == "ok" and len(server.requests) == 3


def test_persistent_server_errors_become_a_clear_llm_error() -> None:
    with FakeOpenAIServer([{"status": 500}] * 5) as server:
        with pytest.raises(LLMError, match=r"answered HTTP 500.*\(after 1 retries\)"):
            backend(server, max_retries=1).complete(MESSAGES)


def test_slow_answers_past_the_timeout_fail_cleanly() -> None:
    with FakeOpenAIServer([{"delay": 3.0, "content": "late"}]) as server:
        with pytest.raises(LLMError, match="did not answer within 0.5 s"):
            backend(server, timeout_s=0.5, max_retries=0).complete(MESSAGES)


def test_dropped_connections_and_refused_connections_fail_cleanly() -> None:
    with FakeOpenAIServer([{"drop": True}]) as server:
        with pytest.raises(LLMError, match="could not be reached"):
            backend(server, max_retries=0).complete(MESSAGES)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    llm = make_backend(LLMConfig(backend="openai", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0))
    with pytest.raises(LLMError, match="could not be reached; is it running"):
        llm.complete(MESSAGES)


def test_vllm_engine_without_vllm_says_how_to_install_it() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match=r"GPU host.*pip install .codeact-robot\[vllm\]."):
            make_backend(LLMConfig(backend="vllm"))
    else:  # pragma: no cover - GPU hosts
        pytest.skip("vLLM is installed here; the missing-package message cannot be shown")


def test_replay_without_a_file_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs a trajectory file"):
        make_backend(LLMConfig(backend="replay"))


def test_the_model_server_check_names_the_url_and_what_to_do() -> None:
    with FakeOpenAIServer(model="fake-model") as server:
        here = LLMConfig(backend="openai", base_url=server.base_url, model="fake-model")
        check_model_servers([here, here.model_copy(update={"temperature": 0.5}), LLMConfig(backend="reference")])
        with pytest.raises(UsageError) as caught:
            check_model_servers([here, here.model_copy(update={"model": "fake-modle"})])
        assert str(caught.value) == (
            f"the model server at {server.base_url} has no model named 'fake-modle' (did you mean 'fake-model'?); "
            "models are: fake-model"
        )
        not_v1 = here.model_copy(update={"base_url": server.base_url.removesuffix("/v1")})
        with pytest.raises(
            UsageError, match=r"answered HTTP 404 to GET /models; is this an OpenAI-compatible base URL"
        ):
            check_model_servers([not_v1])
    with pytest.raises(UsageError, match=rf"^no model server answers at {server.base_url} \(.+\); start one"):
        check_model_servers([here])
    with pytest.raises(LLMError) as caught:
        served_models(server.base_url, None, timeout_s=1.0)
    assert caught.value.transient  # what `serve` waits out while its server loads the model
