"""Asking an OpenAI-compatible model server which models it serves (``GET /models``) and what they take.

``run``, ``chat`` and ``eval`` ask once per endpoint before any episode starts, so that a
wrong URL, a server that is down, a refused API key, a model the server does not have or
a text-only model asked to look at images is one line and exit code 2, not a failed
episode; ``serve`` asks until the server it started answers. vLLM's listing also gives
each model's context length (``max_model_len``), which the OpenAI backend reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import openai

from codeact_robot.errors import UsageError, unknown_name_error
from codeact_robot.llm.base import LLMError
from codeact_robot.llm.config import LLMConfig
from codeact_robot.llm.server_errors import server_reason

CHECK_TIMEOUT_S = 10.0
ONE_PIXEL_PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)
"""A white 1x1 PNG: the smallest image a model can be asked about."""


@dataclass(frozen=True)
class ServedModel:
    """One entry of ``GET /models``.

    Attributes:
        id: the model's name at the server.
        max_model_len: its context length in tokens, where the server says (vLLM does).
    """

    id: str
    max_model_len: int | None = None


def served_models(base_url: str, api_key_env: str | None, timeout_s: float = CHECK_TIMEOUT_S) -> list[str]:
    """The model names ``GET {base_url}/models`` lists (see :func:`model_listing`)."""
    return [model.id for model in model_listing(base_url, api_key_env, timeout_s)]


def model_listing(base_url: str, api_key_env: str | None, timeout_s: float = CHECK_TIMEOUT_S) -> list[ServedModel]:
    """The models ``GET {base_url}/models`` lists, with their context lengths where given.

    Args:
        base_url: the server's OpenAI-compatible base URL (``http://host:8000/v1``).
        api_key_env: the environment variable holding the API key (None, or unset: no key).
        timeout_s: how long to wait for the answer.

    Raises:
        LLMError: nothing answered (transient), or the server refused the request; the
            message is one line naming the URL and what to do.
    """
    key = os.environ.get(api_key_env) if api_key_env else None
    client = openai.OpenAI(base_url=base_url, api_key=key or "EMPTY", timeout=timeout_s, max_retries=0)
    try:
        return listed_models(client)
    except openai.APIStatusError as error:
        if error.status_code in (401, 403):
            remedy = (
                f"put the key in ${api_key_env} or name its variable with --api-key-env"
                if api_key_env
                else "a file named this URL, so no key was sent: name the key's variable with --api-key-env"
            )
            raise LLMError(
                f"the model server at {base_url} refused the API key (HTTP {error.status_code}); {remedy}"
            ) from None
        raise LLMError(
            f"the model server at {base_url} answered HTTP {error.status_code} to GET /models; "
            "is this an OpenAI-compatible base URL (usually ending in /v1)?",
            transient=error.status_code >= 500,
        ) from None
    except openai.APIConnectionError as error:  # refused, unresolvable, timed out
        reason = error.__cause__ or error
        raise LLMError(
            f"no model server answers at {base_url} ({reason}); "
            "start one (`codeact-robot serve`) or point --llm at another",
            transient=True,
        ) from None
    finally:
        client.close()


def listed_models(client: openai.OpenAI) -> list[ServedModel]:
    """``GET /models`` through an open client, with each model's context length where given.

    Raises:
        openai.APIError: the request failed (as the client raises it).
    """
    return [
        ServedModel(model.id, _length((model.model_extra or {}).get("max_model_len"))) for model in client.models.list()
    ]


def check_model_servers(
    configs: Iterable[LLMConfig], with_images: Iterable[LLMConfig] = (), require_listed: bool = True
) -> None:
    """Make sure every model server among ``configs`` answers and serves the models asked of it.

    Only ``openai`` backends have a server; each (URL, key) is asked once. A server that
    lists no models at all is taken at its word that it serves what it is asked for.

    Args:
        configs: the model settings of every agent about to run.
        with_images: those whose agents send camera images: each model is asked once
            whether it takes them (:func:`check_takes_images`).
        require_listed: refuse a model the server does not list (False for a server that
            loads models on demand and lists only the loaded ones).

    Raises:
        UsageError: one line with the URL and what to do.
    """
    wanted: dict[tuple[str, str | None], set[str]] = {}
    for config in configs:
        if config.backend == "openai":
            wanted.setdefault((config.base_url, config.api_key_env), set()).add(config.model)
    for (base_url, api_key_env), models in wanted.items():
        try:
            served = served_models(base_url, api_key_env)
        except LLMError as error:
            raise UsageError(str(error)) from None
        for model in sorted(models):
            if require_listed and served and model not in served:
                raise UsageError(
                    f"the model server at {base_url} has {unknown_name_error('model', model, served)} "
                    "(a server that loads models on demand: --skip-model-check)"
                )
    probed = {(c.base_url, c.api_key_env, c.model): c for c in with_images if c.backend == "openai"}
    for config in probed.values():
        check_takes_images(config)


def check_takes_images(config: LLMConfig) -> None:
    """Make sure the model answers a question about an image, and reads it.

    Two one-token requests, the same text with and without a one-pixel image: a refusal
    (vLLM: "... is not a multimodal model"; llama.cpp's template failing on list content)
    or the same prompt size both times (transformers serve drops the image unread) means
    the model does not take images.

    Raises:
        UsageError: one line naming the model, the server's reason and what to do.
    """
    key = os.environ.get(config.api_key_env) or "EMPTY"
    client = openai.OpenAI(base_url=config.base_url, api_key=key, timeout=config.timeout_s, max_retries=0)
    question = "What colour is this image?"
    with_image = [{"type": "text", "text": question}, {"type": "image_url", "image_url": {"url": ONE_PIXEL_PNG}}]
    try:
        sizes = [
            client.chat.completions.create(
                model=config.model, messages=[{"role": "user", "content": content}], max_tokens=1
            ).usage
            for content in (question, with_image)
        ]
    except openai.APIStatusError as error:
        reason = f"it answered HTTP {error.status_code}: {server_reason(error.response)}"
    except openai.APIError as error:
        reason = f"it failed: {error.message}"
    else:
        if None in sizes or sizes[0].prompt_tokens != sizes[1].prompt_tokens:  # type: ignore[union-attr]
            return
        reason = "the image added no prompt tokens: the server dropped it unread"
    finally:
        client.close()
    raise UsageError(
        f"the agent sends camera images, but the model {config.model!r} at {config.base_url} does not take them "
        f"({reason}); leave --send-images off (or images: false in the suite), or serve a multimodal model"
    )


def _length(value: object) -> int | None:
    """A context length as a listing gives it, if it is one (the listing is the server's word, unchecked)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
