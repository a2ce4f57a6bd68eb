"""LLM backends against a real local HTTP server that speaks the OpenAI chat-completions API."""

from __future__ import annotations

import socket

import pytest
from fake_openai_server import FakeOpenAIServer, detail_error, old_vllm_error, vllm_error
from pydantic import ValidationError

from codeact_robot.agent import make_backend
from codeact_robot.errors import UsageError
from codeact_robot.llm import LLMConfig, LLMError
from codeact_robot.llm.model_server import ServedModel, check_model_servers, model_listing, served_models

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


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503},  # unavailable (a model still loading): asked again even when it repeats word for word
        {"status": 429},
        None,  # a 500 whose text changes: not a deterministic failure
    ],
)
def test_transient_errors_are_retried(failure: dict | None) -> None:
    failures = [failure, failure] if failure else [vllm_error("worker busy", 500), vllm_error("worker died", 500)]
    with FakeOpenAIServer([*failures, {"content": "ok"}]) as server:
        completion = backend(server, max_retries=2).complete(MESSAGES)
    assert completion.text == "ok" and len(server.requests) == 3


def test_persistent_server_errors_count_only_the_attempts_sent() -> None:
    with FakeOpenAIServer([vllm_error(f"engine step {i} failed", 500) for i in range(5)]) as server:
        with pytest.raises(LLMError) as caught:
            backend(server, max_retries=1).complete(MESSAGES)
    assert str(caught.value) == (
        f"the model server at {server.base_url} answered HTTP 500: engine step 1 failed (after 2 attempts)"
    )
    assert caught.value.transient and len(server.requests) == 2


def test_a_5xx_repeated_word_for_word_is_not_asked_again() -> None:
    # llama.cpp's answer to one prompt, 18 times in a row when it was retried blindly
    broadcast = "could not broadcast input array from shape (175,) into shape (105,)"
    with FakeOpenAIServer([{"status": 500, "body": {"error": {"code": 500, "message": broadcast}}}] * 18) as server:
        with pytest.raises(LLMError) as caught:
            backend(server, max_retries=5).complete(MESSAGES)
    assert str(caught.value) == (
        f"the model server at {server.base_url} answered HTTP 500: {broadcast} "
        "(the same answer 2 times in a row; not asked again)"
    )
    assert not caught.value.transient and len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (vllm_error("temperature must be non-negative, got -1.0."), "temperature must be non-negative, got -1.0."),
        (old_vllm_error("The model `gpt-4` does not exist."), "The model `gpt-4` does not exist."),
        (detail_error("Model gpt-4 not found", 404), "Model gpt-4 not found"),
        (
            detail_error([{"type": "missing", "loc": ["body", "messages"], "msg": "Field required"}]),
            "Field required",
        ),
        ({"status": 400, "text": "Bad Request:\n\x1b[31mno prompt\x1b[0m"}, "Bad Request: [31mno prompt [0m"),
    ],
    ids=["vllm", "old-vllm", "detail", "detail-list", "plain-text"],
)
def test_a_refusal_is_sent_once_and_shows_the_servers_own_reason(reply: dict, reason: str) -> None:
    with FakeOpenAIServer([reply, {"content": "never asked"}]) as server:
        with pytest.raises(LLMError) as caught:
            backend(server, max_retries=3).complete(MESSAGES)
    assert str(caught.value) == f"the model server at {server.base_url} answered HTTP {reply['status']}: {reason}"
    assert not caught.value.transient and not caught.value.context_overflow and len(server.requests) == 1


def test_an_error_event_inside_a_stream_is_a_clean_llm_error() -> None:
    error = {"message": "The decoder prompt (length 9000) is longer than the maximum model length", "code": 400}
    with FakeOpenAIServer([{"content": "I will pick", "stream_error": error}]) as server:
        with pytest.raises(LLMError) as caught:
            backend(server, stream=True, max_retries=3).complete(MESSAGES)
    assert str(caught.value) == f"the model server at {server.base_url} failed while answering: {error['message']}"
    assert not caught.value.transient and len(server.requests) == 1


def test_a_cut_off_reply_says_so_streamed_or_not() -> None:
    cut = {"content": "Plan.\n<execute>\npick('red block')\nplace(", "finish_reason": "length"}
    for stream in (False, True):
        with FakeOpenAIServer([cut]) as server:
            completion = backend(server, stream=stream).complete(MESSAGES, stop=["</execute>"])
        assert completion.finish_reason == "length" and completion.text == cut["content"]


def test_replies_are_limited_to_the_room_left_in_the_listed_context() -> None:
    with FakeOpenAIServer(max_model_len=1000) as server:
        assert model_listing(server.base_url, None) == [ServedModel("fake-model", 1000)]
        llm = backend(server, max_tokens=600)
        llm.complete(MESSAGES)  # a short prompt: the whole max_tokens fits
        long = [*MESSAGES, {"role": "assistant", "content": "x" * 1500}, {"role": "user", "content": "more"}]
        llm.complete(long)
    first, second = (r["max_tokens"] for r in server.requests)
    # the second: the server's count of the first prompt, plus 1,500 and 4 characters at 3 a token, plus 2 x 6 tokens
    assert first == 600 and second == 1000 - (server_count(MESSAGES) + 500 + 2 + 12)
    assert server.gets == ["/v1/models", "/v1/models"]  # the check above, then the backend's one lookup


def server_count(messages: list[dict]) -> int:
    return sum(len(m["content"]) for m in messages) // 4


def test_a_conversation_that_no_longer_fits_ends_before_it_is_sent() -> None:
    with FakeOpenAIServer(max_model_len=200, list_length=False) as server:
        llm = backend(server, context_length=200)  # the listing does not say: the config does
        with pytest.raises(LLMError) as caught:
            llm.complete([*MESSAGES, {"role": "user", "content": "y" * 600}])
    assert str(caught.value).startswith("the conversation no longer fits the model's context of 200 tokens")
    assert caught.value.context_overflow and not caught.value.transient and server.requests == []


@pytest.mark.parametrize("wording", ["old", "new"])
def test_a_context_overflow_refused_by_vllm_is_not_retried(wording: str) -> None:
    # the server enforces a context it does not list, and the config does not know it either
    with FakeOpenAIServer(max_model_len=100, list_length=False, overflow_wording=wording) as server:
        with pytest.raises(LLMError) as caught:
            backend(server, max_tokens=1024, max_retries=3).complete(MESSAGES)
    prompt = server_count(MESSAGES)
    expected = {
        "old": f"This model's maximum context length is 100 tokens. However, you requested {prompt + 1024} tokens "
        f"({prompt} in the messages, 1024 in the completion). Please reduce the length of the messages or completion.",
        "new": "'max_tokens' or 'max_completion_tokens' is too large: 1024. This model's maximum context length is "
        f"100 tokens and your request has {prompt} input tokens (1024 > 100 - {prompt}).",
    }[wording]
    assert str(caught.value) == f"the model server at {server.base_url} answered HTTP 400: {expected}"
    assert caught.value.context_overflow and not caught.value.transient and len(server.requests) == 1


def test_seeds_are_bounded_to_a_signed_64_bit_integer() -> None:
    LLMConfig(seed=2**63 - 1)
    for seed in (10**23, 2**63, -1):
        with pytest.raises(ValidationError, match="seed"):
            LLMConfig(seed=seed)


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
            "models are: fake-model (a server that loads models on demand: --skip-model-check)"
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


def test_a_server_that_loads_models_on_demand_can_be_let_past_the_listing() -> None:
    with FakeOpenAIServer(model="loaded-model") as server:
        other = LLMConfig(backend="openai", base_url=server.base_url, model="on-demand-model")
        with pytest.raises(UsageError, match=r"no model named 'on-demand-model'.*--skip-model-check\)$"):
            check_model_servers([other])
        check_model_servers([other], require_listed=False)


@pytest.mark.parametrize(
    ("images", "reason"),
    [
        ("refuse", "it answered HTTP 400: MistralForCausalLM is not a multimodal model"),
        ("crash", 'it answered HTTP 500: can only concatenate str (not "list") to str'),
        ("drop", "the image added no prompt tokens: the server dropped it unread"),
    ],
)
def test_images_for_a_model_that_does_not_take_them_are_refused_before_any_episode(images: str, reason: str) -> None:
    with FakeOpenAIServer(images=images) as server:
        config = LLMConfig(backend="openai", base_url=server.base_url, model="fake-model")
        check_model_servers([config])  # without images nothing is asked
        assert server.requests == []
        with pytest.raises(UsageError) as caught:
            check_model_servers([config], with_images=[config, config])
    assert str(caught.value) == (
        f"the agent sends camera images, but the model 'fake-model' at {server.base_url} does not take them "
        f"({reason}); leave --send-images off (or images: false in the suite), or serve a multimodal model"
    )
    assert len(server.requests) == 2  # the text alone, then with the image: once each, never retried
    with FakeOpenAIServer(images="read") as server:
        config = LLMConfig(backend="openai", base_url=server.base_url, model="fake-model")
        check_model_servers([config], with_images=[config])
    assert len(server.requests) == 2 and all(r["max_tokens"] == 1 for r in server.requests)
