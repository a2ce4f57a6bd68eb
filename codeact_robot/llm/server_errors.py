"""A model server's own reason for an error, whatever the shape of the body it came in.

The openai client fills ``error.message`` only from OpenAI-shaped bodies; servers differ:

- vLLM: ``{"error": {"message": ..., "type": "BadRequestError", "code": 400}}`` (and in a
  stream, a ``data: {"error": {...}}`` event after HTTP 200);
- older vLLM: ``{"object": "error", "message": ..., "type": ..., "code": 400}``;
- transformers serve (FastAPI): ``{"detail": "..."}`` or ``{"detail": [{"msg": ...}, ...]}``;
- anything else: plain text, or HTML.

The text is the server's, so it is made one printable line and cut to :data:`MAX_REASON_CHARS`.
"""

from __future__ import annotations

import json
from typing import Any

MAX_REASON_CHARS = 300


def server_reason(response: Any) -> str:
    """The reason a server gave in an error response (the openai client's ``error.response``), one printable line."""
    try:
        text = str(response.text)
    except Exception:  # a body never read, or not text: the reason is then unknown
        text = ""
    try:
        body: Any = json.loads(text)
    except (ValueError, RecursionError):
        body = None
    reason = reason_in(body) if body is not None else None
    return one_line(reason if reason is not None else text) or "(no reason given)"


def reason_in(body: Any) -> str | None:
    """The reason in a parsed error body of any of the known shapes, or None."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    if isinstance(error, str):
        return error
    if isinstance(body.get("message"), str):
        return body["message"]
    detail = body.get("detail")
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = [item.get("msg") if isinstance(item, dict) else item for item in detail]
        return "; ".join(str(p) for p in parts if p is not None)
    return None


def one_line(text: str) -> str:
    """``text`` as one printable line (control characters, escapes included, become spaces), shortened."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[:MAX_REASON_CHARS] + "..."
