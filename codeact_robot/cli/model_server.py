"""Asking an OpenAI-compatible model server which models it serves (``GET /models``).

``run`` and ``chat`` ask before an episode starts, so that a wrong URL, a server that
is down, a refused API key or a model the server does not have is one line and exit
code 2, not a failed episode; ``serve`` asks until the server it started answers.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

from codeact_robot.errors import UsageError, unknown_name_error
from codeact_robot.llm import LLMConfig

CHECK_TIMEOUT_S = 10.0


class Unreachable(Exception):
    """Nothing answered at the URL (refused, unresolvable, timed out)."""


def served_models(base_url: str, api_key: str | None, timeout: float) -> list[str]:
    """The model names ``GET {base_url}/models`` lists.

    Raises:
        Unreachable: no HTTP answer.
        urllib.error.HTTPError: an HTTP error status.
    """
    request = urllib.request.Request(f"{base_url.rstrip('/')}/models")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            listing = json.loads(response.read(1_000_000) or b"{}")
    except urllib.error.HTTPError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise Unreachable(str(reason)) from None
    models = listing.get("data", []) if isinstance(listing, dict) else []
    return [str(m["id"]) for m in models if isinstance(m, dict) and "id" in m]


def check_model_server(config: LLMConfig) -> None:
    """Make sure the endpoint answers and serves ``config.model`` before an episode starts.

    Raises:
        UsageError: one line with the URL and what to do.
    """
    url = config.base_url
    try:
        served = served_models(url, os.environ.get(config.api_key_env), CHECK_TIMEOUT_S)
    except Unreachable as error:
        raise UsageError(
            f"no model server answers at {url} ({error}); start one (`codeact-robot serve`) or fix --llm"
        ) from None
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise UsageError(
                f"the model server at {url} refused the API key (HTTP {error.code}); "
                f"put the key in ${config.api_key_env} or name its variable with --api-key-env"
            ) from None
        raise UsageError(
            f"the model server at {url} answered HTTP {error.code} to GET /models; "
            "is this an OpenAI-compatible base URL (usually ending in /v1)?"
        ) from None
    if served and config.model not in served:
        raise UsageError(f"the model server at {url} has {unknown_name_error('model', config.model, served)}")
