"""A real local HTTP server that speaks the OpenAI chat-completions API and replays scripted turns.

Each scripted reply is a dict:
    {"content": "..."}                  a normal answer (the request's stop sequences are honoured)
    {"content": "...", "ignore_stop": True}  an answer from a server that ignores stop sequences
    {"content": "...", "finish_reason": "length"}  an answer cut off at max_tokens
    {"status": 500 | 429, "body": ...}  an HTTP error with a JSON body (see the ``*_error`` helpers)
    {"status": 500, "text": "..."}      an HTTP error with a plain-text body
    {"content": "...", "stream_error": {...}}  to a streamed request: HTTP 200, the content's chunks,
                                        then ``data: {"error": {...}}`` and ``[DONE]``, as vLLM does
    {"delay": seconds, ...}             wait before answering (to exceed client timeouts)
    {"drop": True}                      close the connection without answering
Replies are consumed in order; once they run out, every answer is ``fallback`` (by default
``{"content": "done"}``), or what ``respond(request)`` returns when it is given (for many
conversations at once: the reply can depend on the conversation so far).
``latency_s`` delays every answer (a model that takes that long), and the server counts
how many requests it answered at the same time (``max_concurrent``).
Requests with ``"stream": true`` are answered as server-sent events, one chunk per word.
Received request bodies are kept in ``server.requests`` and their headers in ``server.headers``;
the headers of ``GET /models`` (the pre-flight check) in ``server.model_list_headers``;
the paths of GET requests in ``server.gets``.

Modes that mimic real servers, byte for byte where they answer an error:
- ``max_model_len``: ``/v1/models`` lists it (as vLLM does) and a request whose prompt and
  ``max_tokens`` do not fit is refused with HTTP 400 in vLLM's ``overflow_wording``: ``"old"``
  (up to about 0.10: "... However, you requested N tokens (P in the messages, M in the
  completion) ...") or ``"new"`` ("... your request has P input tokens ..."); ``list_length``
  False keeps it out of the listing (a server that enforces a context it does not report).
- ``images``: what a request with image parts meets: ``"read"`` (a multimodal model: each image
  adds :data:`IMAGE_TOKENS` prompt tokens), ``"drop"`` (transformers serve: ignored unread),
  ``"refuse"`` (vLLM serving a text model: HTTP 400 "... is not a multimodal model"),
  ``"crash"`` (llama.cpp rendering our ChatML template before it handled lists: HTTP 500).
The server's prompt-token count is a quarter of the characters of the messages' text.

Run as a script it serves a script of replies from a JSON file (or only the fallback):
    python tests/fake_openai_server.py --port 8000 [--script replies.json] [--model NAME]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FALLBACK = {"content": "done"}
IMAGE_TOKENS = 64
TEXT_MODEL = "MistralForCausalLM"


def vllm_error(message: str, status: int = 400, kind: str = "BadRequestError") -> dict[str, Any]:
    """A scripted reply with the error body of current vLLM: ``{"error": {"message": ...}}``."""
    return {"status": status, "body": {"error": {"message": message, "type": kind, "param": None, "code": status}}}


def old_vllm_error(message: str, status: int = 400, kind: str = "BadRequestError") -> dict[str, Any]:
    """A scripted reply with the error body of older vLLM: ``{"object": "error", "message": ...}`` at the top."""
    body = {"object": "error", "message": message, "type": kind, "param": None, "code": status}
    return {"status": status, "body": body}


def detail_error(detail: Any, status: int = 422) -> dict[str, Any]:
    """A scripted reply with a FastAPI error body (transformers serve): ``{"detail": ...}``."""
    return {"status": status, "body": {"detail": detail}}


def overflow_message(wording: str, length: int, prompt: int, max_tokens: int) -> str:
    """vLLM's refusal of a prompt and ``max_tokens`` that do not fit ``length``, in its old or new wording."""
    if wording == "old":
        return (
            f"This model's maximum context length is {length} tokens. However, you requested {prompt + max_tokens} "
            f"tokens ({prompt} in the messages, {max_tokens} in the completion). "
            "Please reduce the length of the messages or completion."
        )
    if prompt >= length:
        return (
            f"This model's maximum context length is {length} tokens. However, your request has {prompt} input "
            "tokens. Please reduce the length of the input messages."
        )
    return (
        f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This model's maximum context length "
        f"is {length} tokens and your request has {prompt} input tokens ({max_tokens} > {length} - {prompt})."
    )


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content or "")


def _images(content: Any) -> int:
    return (
        sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
        if isinstance(content, list)
        else 0
    )


class FakeOpenAIServer:
    """Start with ``with FakeOpenAIServer(replies) as server: server.base_url``.

    Args:
        replies: the scripted replies, in order.
        model: the model name ``/v1/models`` lists.
        port: port to bind (0 picks a free one).
        latency_s: seconds added before every chat answer.
        fallback: the reply once the script has run out.
        respond: picks the reply from the request once the script has run out (instead
            of ``fallback``).
        max_model_len, overflow_wording, list_length, images: the modes of the module docstring.
    """

    def __init__(
        self,
        replies: list[dict[str, Any]] | None = None,
        model: str = "fake-model",
        port: int = 0,
        latency_s: float = 0.0,
        fallback: dict[str, Any] | None = None,
        respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        max_model_len: int | None = None,
        overflow_wording: str = "new",
        list_length: bool = True,
        images: str = "read",
    ) -> None:
        self.replies = list(replies or [])
        self.model = model
        self.max_model_len = max_model_len
        self.overflow_wording = overflow_wording
        self.list_length = list_length
        self.images = images
        self.gets: list[str] = []
        self.latency_s = latency_s
        self.fallback = fallback or FALLBACK
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.model_list_headers: list[dict[str, str]] = []
        self.concurrent = 0
        self.max_concurrent = 0
        self._lock = threading.Lock()
        handler = _handler(self)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def prompt_tokens(self, request: dict[str, Any]) -> int:
        """The prompt's size as this server counts it."""
        messages = request.get("messages", [])
        images = sum(_images(m.get("content")) for m in messages) if self.images == "read" else 0
        return sum(len(_text(m.get("content"))) for m in messages) // 4 + IMAGE_TOKENS * images

    def refusal(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The error a real server of this mode answers the request with, or None."""
        if any(_images(m.get("content")) for m in request.get("messages", [])):
            if self.images == "refuse":
                return vllm_error(f"{TEXT_MODEL} is not a multimodal model")
            if self.images == "crash":
                return {
                    "status": 500,
                    "body": {
                        "error": {
                            "code": 500,
                            "message": 'can only concatenate str (not "list") to str',
                            "type": "server_error",
                        }
                    },
                }
        if self.max_model_len is not None:
            prompt, wanted = self.prompt_tokens(request), int(request.get("max_tokens") or 0)
            if prompt + wanted > self.max_model_len:
                message = overflow_message(self.overflow_wording, self.max_model_len, prompt, wanted)
                return (old_vllm_error if self.overflow_wording == "old" else vllm_error)(message)
        return None

    def next_reply(self, request: dict[str, Any]) -> dict[str, Any]:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        with self._lock:
            if self.replies:
                return self.replies.pop(0)
        return self.respond(request) if self.respond else dict(self.fallback)

    def _enter(self) -> None:
        with self._lock:
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)

    def _leave(self) -> None:
        with self._lock:
            self.concurrent -= 1

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            server.gets.append(self.path)
            if self.path.rstrip("/") == "/v1/models":
                server.model_list_headers.append({k.lower(): v for k, v in self.headers.items()})
                entry: dict[str, Any] = {"id": server.model, "object": "model", "owned_by": "vllm"}
                if server.max_model_len is not None and server.list_length:
                    entry["max_model_len"] = server.max_model_len
                self._json(200, {"object": "list", "data": [entry]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append(request)
            server.headers.append({k.lower(): v for k, v in self.headers.items()})
            reply = server.next_reply(request)
            server._enter()
            try:
                time.sleep(server.latency_s + reply.get("delay", 0.0))
                self._answer(request, reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test): nothing to print into the next test's output
            finally:
                server._leave()

        def _answer(self, request: dict[str, Any], reply: dict[str, Any]) -> None:
            if reply.get("drop"):
                self.close_connection = True
                self.connection.close()
                return
            if "text" in reply:
                self._send(reply["status"], reply["text"].encode(), "text/plain; charset=utf-8")
                return
            if "status" in reply:
                self._json(reply["status"], reply.get("body", {"error": {"message": f"scripted {reply['status']}"}}))
                return
            content, finish = reply.get("content", ""), reply.get("finish_reason", "stop")
            for stop in [] if reply.get("ignore_stop") or finish == "length" else request.get("stop") or []:
                if stop in content:
                    content = content[: content.index(stop)]
            prompt = server.prompt_tokens(request)
            if request.get("stream"):
                self._stream(content, prompt, finish, reply.get("stream_error"))
                return
            self._json(
                200,
                {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model", server.model),
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
                    ],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": len(content) // 4,
                        "total_tokens": prompt + len(content) // 4,
                    },
                },
            )

        def _stream(self, content: str, prompt: int, finish: str, error: dict[str, Any] | None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            words = content.split(" ")
            events = [
                {"choices": [{"index": 0, "delta": {"content": (" " if i else "") + w}, "finish_reason": None}]}
                for i, w in enumerate(words)
            ]
            if error is not None:  # vLLM: the error as one event, then the end of the stream
                for event in events:
                    self._event(
                        {
                            "id": "stream",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": server.model,
                            **event,
                        }
                    )
                self._event({"error": error})
                self.wfile.write(b"data: [DONE]\n\n")
                return
            events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            events.append(
                {
                    "choices": [],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": len(words),
                        "total_tokens": prompt + len(words),
                    },
                }
            )
            for event in events:
                chunk = {
                    "id": "stream",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": server.model,
                    **event,
                }
                self._event(chunk)
            self.wfile.write(b"data: [DONE]\n\n")

        def _event(self, data: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode())

        def _json(self, status: int, body: dict[str, Any]) -> None:
            # compact, as Starlette's JSONResponse (vLLM, transformers serve) writes it; ASCII keeps lone surrogates
            self._send(status, json.dumps(body, separators=(",", ":")).encode(), "application/json")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--script", help="JSON file with a list of scripted replies")
    parser.add_argument("--model", default="fake-model")
    args, _ = parser.parse_known_args()
    replies = json.loads(Path(args.script).read_text()) if args.script else []
    with FakeOpenAIServer(replies, model=args.model, port=args.port) as server:
        print(f"serving {server.base_url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
