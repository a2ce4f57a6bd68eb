"""A real local HTTP server that speaks the OpenAI chat-completions API and replays scripted turns.

Each scripted reply is a dict:
    {"content": "..."}                  a normal answer (the request's stop sequences are honoured)
    {"content": "...", "ignore_stop": True}  an answer from a server that ignores stop sequences
    {"status": 500 | 429, "body": ...}  an HTTP error
    {"delay": seconds, ...}             wait before answering (to exceed client timeouts)
    {"drop": True}                      close the connection without answering
Replies are consumed in order; once they run out, every answer is ``fallback`` (by default
``{"content": "done"}``), or what ``respond(request)`` returns when it is given (for many
conversations at once: the reply can depend on the conversation so far).
``latency_s`` delays every answer (a model that takes that long), and the server counts
how many requests it answered at the same time (``max_concurrent``).
Requests with ``"stream": true`` are answered as server-sent events, one chunk per word.
Received request bodies are kept in ``server.requests`` and their headers in ``server.headers``;
the headers of ``GET /models`` (the pre-flight check) in ``server.model_list_headers``.

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
    """

    def __init__(
        self,
        replies: list[dict[str, Any]] | None = None,
        model: str = "fake-model",
        port: int = 0,
        latency_s: float = 0.0,
        fallback: dict[str, Any] | None = None,
        respond: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.replies = list(replies or [])
        self.model = model
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

    def next_reply(self, request: dict[str, Any]) -> dict[str, Any]:
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
            if self.path.rstrip("/") == "/v1/models":
                server.model_list_headers.append({k.lower(): v for k, v in self.headers.items()})
                self._json(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
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
            if "status" in reply:
                self._json(reply["status"], reply.get("body", {"error": {"message": f"scripted {reply['status']}"}}))
                return
            content, finish = reply.get("content", ""), "stop"
            for stop in [] if reply.get("ignore_stop") else request.get("stop") or []:
                if stop in content:
                    content = content[: content.index(stop)]
            prompt = sum(len(str(m.get("content", ""))) for m in request.get("messages", [])) // 4
            if request.get("stream"):
                self._stream(content, prompt)
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

        def _stream(self, content: str, prompt: int) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            words = content.split(" ")
            events = [
                {"choices": [{"index": 0, "delta": {"content": (" " if i else "") + w}, "finish_reason": None}]}
                for i, w in enumerate(words)
            ]
            events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
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
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
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
