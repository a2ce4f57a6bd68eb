"""The viewer's HTTP server: the page's own static files and a small read-only JSON API.

Routes (GET and HEAD only; anything else is 405, an unknown path 404, a bad parameter 400):

- ``/``: the page; ``/static/<file>``: its script, styles and the shipped highlighter;
- ``/api/overview``: suites, runs and the values of each filter with their counts;
- ``/api/episodes?agent=&task=&split=&kind=&outcome=&model=&mode=&suite=&q=&sort=&order=&offset=&limit=``:
  one page of episode summaries and the total that match;
- ``/api/episodes/<id>``: one episode with its transcript;
- ``/api/episodes/<id>/images/<turn>/<camera>``: a camera image (JPEG);
- ``/api/episodes/<id>/video``: the episode's video, if one was recorded (a single byte
  ``Range`` is served, so that the browser can seek in it).

The store is untrusted input: the page shows everything from it as text, and every
response carries a Content-Security-Policy that allows scripts, styles and requests from
this server alone, so markup that slipped through could still not run. The server binds
127.0.0.1 by default and, on a loopback address, answers only requests whose ``Host``
is a loopback name (a web page elsewhere cannot reach it by DNS rebinding). It never
writes: the store is opened read-only.
"""

from __future__ import annotations

import json
import math
import re
import socket
import sqlite3
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from codeact_robot.eval.viewer.data import VIDEO_TYPES, BadRequest, EpisodeQuery, NotFound, ViewerData

STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/viewer.js": ("viewer.js", "text/javascript; charset=utf-8"),
    "/static/viewer.css": ("viewer.css", "text/css; charset=utf-8"),
    "/static/highlight/core.min.js": ("highlight/core.min.js", "text/javascript; charset=utf-8"),
    "/static/highlight/python.min.js": ("highlight/python.min.js", "text/javascript; charset=utf-8"),
    "/static/highlight/github.min.css": ("highlight/github.min.css", "text/css; charset=utf-8"),
}
"""URL path -> (file under ``static/``, content type): the only files the server reads from disk,
with the store's videos."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
EPISODE = re.compile(r"/api/episodes/(\d{1,12})")
IMAGE = re.compile(r"/api/episodes/(\d{1,12})/images/(\d{1,6})/([A-Za-z0-9_-]{1,64})")
VIDEO = re.compile(r"/api/episodes/(\d{1,12})/video")
VIDEO_CHUNK = 2**20
BYTE_RANGE = re.compile(r"bytes=(\d{0,15})-(\d{0,15})")


class ViewerServer(ThreadingHTTPServer):
    """Serves one results store's viewer until :meth:`shutdown`.

    Args:
        folder: the evaluation folder.
        host: the address to bind (127.0.0.1: only this machine can connect).
        port: the port (0 picks a free one; see :attr:`url`).

    Raises:
        UsageError: the folder holds no results store.
        OSError: the address cannot be bound (a port in use, say).
    """

    daemon_threads = True

    def __init__(self, folder: str | Path, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.data = ViewerData(folder)
        self.static = {
            path: resources.files(__package__).joinpath("static", name).read_bytes()
            for path, (name, _) in STATIC_FILES.items()
        }
        try:
            super().__init__((host, port), ViewerHandler)
        except OSError:
            self.data.close()
            raise
        self.loopback = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
        port = self.server_address[1]
        names = (*LOOPBACK_NAMES, host)
        self.allowed_hosts = {f"{name}:{port}" for name in names} | (set(names) if port == 80 else set())

    @property
    def url(self) -> str:
        """The page's address on this machine, e.g. ``http://127.0.0.1:8080/``.

        Bound to every address (``0.0.0.0``, ``::``), which no browser can open, it is the
        loopback address; other machines use this machine's name (:attr:`remote_url`).
        """
        host, port = self.server_address[:2]
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    @property
    def remote_url(self) -> str:
        """The page's address for other machines: this machine's name and the port."""
        return f"http://{socket.gethostname()}:{self.server_address[1]}/"

    def server_close(self) -> None:
        """Stop listening and close the store."""
        super().server_close()
        self.data.close()


class ViewerHandler(BaseHTTPRequestHandler):
    """One request: a static file, an API answer in JSON, an image or a video."""

    server: ViewerServer
    server_version = "codeact-robot-viewer"
    sys_version = ""
    _head_only = False

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the command prints its address and nothing per request."""

    def do_GET(self) -> None:
        """Answer a GET (static file, API, image or video)."""
        self._answer(head=False)

    def do_HEAD(self) -> None:
        """Answer a HEAD like the GET, without the body."""
        self._answer(head=True)

    def _refuse(self) -> None:
        self._send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "the viewer is read-only: GET and HEAD only"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _answer(self, head: bool) -> None:
        self._head_only = head
        if self.server.loopback and self.headers.get("Host", "") not in self.server.allowed_hosts:
            self._send_json(HTTPStatus.FORBIDDEN, {"error": "unexpected Host header; open the viewer by its address"})
            return
        url = urlsplit(self.path)
        try:
            self._route(url.path, parse_qs(url.query, keep_blank_values=True, max_num_fields=50))
        except BadRequest as error:
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        except ValueError as error:  # parse_qs: too many fields
            self._send_json(HTTPStatus.BAD_REQUEST, {"error": f"bad query: {error}"})
        except NotFound as error:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": str(error)})
        except sqlite3.Error as error:
            self._send_json(
                HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"the results store could not be read: {error}"}
            )

    def _route(self, path: str, params: dict[str, list[str]]) -> None:
        data = self.server.data
        if path in STATIC_FILES:
            self._send(HTTPStatus.OK, STATIC_FILES[path][1], self.server.static[path], cache=True)
        elif path == "/api/overview":
            self._send_json(HTTPStatus.OK, data.overview())
        elif path == "/api/episodes":
            self._send_json(HTTPStatus.OK, data.episodes(EpisodeQuery.from_params(params)))
        elif match := EPISODE.fullmatch(path):
            self._send_json(HTTPStatus.OK, data.episode(int(match[1])))
        elif match := IMAGE.fullmatch(path):
            self._send(HTTPStatus.OK, "image/jpeg", data.image(int(match[1]), int(match[2]), match[3]), cache=True)
        elif match := VIDEO.fullmatch(path):
            self._send_video(data.video_path(int(match[1])))
        else:
            raise NotFound(f"nothing at {path[:200]}")

    def _send_video(self, path: Path | None) -> None:
        if path is None:
            raise NotFound("this episode has no video")
        size = path.stat().st_size
        wanted = byte_range(self.headers.get("Range"), size)
        if wanted == "unsatisfiable":
            self._start(
                HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "text/plain", 0, False, {"Content-Range": f"bytes */{size}"}
            )
            return
        start, end = wanted or (0, size - 1)
        headers = {"Accept-Ranges": "bytes"}
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = HTTPStatus.OK if wanted is None else HTTPStatus.PARTIAL_CONTENT
        self._start(status, VIDEO_TYPES[path.suffix.lower()], end - start + 1, True, headers)
        if self._head_only:
            return
        with path.open("rb") as file:
            file.seek(start)
            left = end - start + 1
            while left > 0 and (chunk := file.read(min(VIDEO_CHUNK, left))):
                self.wfile.write(chunk)
                left -= len(chunk)

    def _send_json(self, status: HTTPStatus, value: Any) -> None:
        body = json.dumps(_finite(value), ensure_ascii=False, allow_nan=False).encode("utf-8")
        self._send(status, "application/json; charset=utf-8", body, cache=False)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, cache: bool) -> None:
        self._start(status, content_type, len(body), cache)
        if not self._head_only:
            self.wfile.write(body)

    def _start(
        self, status: HTTPStatus, content_type: str, length: int, cache: bool, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        # The API is never cached: a reload shows episodes written since.
        self.send_header("Cache-Control", "private, max-age=300" if cache else "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()


def byte_range(header: str | None, size: int) -> tuple[int, int] | Literal["unsatisfiable"] | None:
    """The first and last byte a ``Range`` header asks for, within a file of ``size`` bytes.

    Returns:
        (first, last), inclusive; None for the whole file (no header, or one this server
        does not serve in parts, such as several ranges); ``"unsatisfiable"`` for a range
        wholly outside the file.
    """
    match = BYTE_RANGE.fullmatch(header.strip()) if header else None
    if match is None or match[1] == match[2] == "":
        return None
    if match[1] == "":  # the last N bytes
        last_n = int(match[2])
        return (max(0, size - last_n), size - 1) if last_n > 0 and size > 0 else "unsatisfiable"
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    return (first, last) if first <= last else "unsatisfiable"


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers (a transcript may hold them) become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
