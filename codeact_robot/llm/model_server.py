"""Asking an OpenAI-compatible model server which models it serves (``GET /models``).

``run``, ``chat`` and ``eval`` ask once per endpoint before any episode starts, so that a
wrong URL, a server that is down, a refused API key or a model the server does not have
is one line and exit code 2, not a failed episode; ``serve`` asks until the server it
started answers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import openai

from codeact_robot.errors import UsageError, unknown_name_error
from codeact_robot.llm.base import LLMError
from codeact_robot.llm.config import LLMConfig

CHECK_TIMEOUT_S = 10.0


def served_models(base_url: str, api_key_env: str | None, timeout_s: float = CHECK_TIMEOUT_S) -> list[str]:
    """The model names ``GET {base_url}/models`` lists.

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
        return [model.id for model in client.models.list()]
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


def check_model_servers(configs: Iterable[LLMConfig]) -> None:
    """Make sure every model server among ``configs`` answers and serves the models asked of it.

    Only ``openai`` backends have a server; each (URL, key) is asked once. A server that
    lists no models at all is taken at its word that it serves what it is asked for.

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
            if served and model not in served:
                raise UsageError(f"the model server at {base_url} has {unknown_name_error('model', model, served)}")
