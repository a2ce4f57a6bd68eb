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
is a loopback name and whose ``Origin``, if any, is its own (:mod:`codeact_robot.localweb`).
It never writes: the store is opened read-only.
"""

from __future__ import annotations

import re
import sqlite3
from http import HTTPStatus
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from codeact_robot.eval.viewer.data import VIDEO_TYPES, BadRequest, EpisodeQuery, NotFound, ViewerData
from codeact_robot.localweb import LocalPageHandler, LocalPageServer, static_files

STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/viewer.js": ("viewer.js", "text/javascript; charset=utf-8"),
    "/static/viewer.css": ("viewer.css", "text/css; charset=utf-8"),
}
"""URL path -> (file under ``static/``, content type): the page's own files; with the shipped
highlighter, the only files the server reads from disk besides the store's videos."""

EPISODE = re.compile(r"/api/episodes/(\d{1,12})")
IMAGE = re.compile(r"/api/episodes/(\d{1,12})/images/(\d{1,6})/([A-Za-z0-9_-]{1,64})")
VIDEO = re.compile(r"/api/episodes/(\d{1,12})/video")
VIDEO_CHUNK = 2**20
BYTE_RANGE = re.compile(r"bytes=(\d{0,15})-(\d{0,15})")


class ViewerServer(LocalPageServer):
    """Serves one results store's viewer until :meth:`shutdown`.

    Args:
        folder: the evaluation folder.
        host: the address to bind (127.0.0.1: only this machine can connect).
        port: the port (0 picks a free one; see :attr:`url`).

    Raises:
        UsageError: the folder holds no results store.
        OSError: the address cannot be bound (a port in use, say).
    """

    def __init__(self, folder: str | Path, host: str = "127.0.0.1", port: int = 8080) -> None:
        self.data = ViewerData(folder)
        self.static = static_files(__package__, STATIC_FILES)
        try:
            super().__init__(host, port, ViewerHandler)
        except OSError:
            self.data.close()
            raise

    def server_close(self) -> None:
        """Stop listening and close the store."""
        super().server_close()
        self.data.close()


class ViewerHandler(LocalPageHandler):
    """One request: a static file, an API answer in JSON, an image or a video."""

    server: ViewerServer
    server_version = "codeact-robot-viewer"

    def do_GET(self) -> None:
        """Answer a GET (static file, API, image or video)."""
        self._answer(head=False)

    def do_HEAD(self) -> None:
        """Answer a HEAD like the GET, without the body."""
        self._answer(head=True)

    def _refuse(self) -> None:
        self.send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "the viewer is read-only: GET and HEAD only"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def _answer(self, head: bool) -> None:
        self._head_only = head
        refused = self.refused_origin()
        if refused is not None:
            self.send_json(HTTPStatus.FORBIDDEN, {"error": refused})
            return
        url = urlsplit(self.path)
        try:
            self._route(url.path, parse_qs(url.query, keep_blank_values=True, max_num_fields=50))
        except BadRequest as error:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        except ValueError as error:  # parse_qs: too many fields
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": f"bad query: {error}"})
        except NotFound as error:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": str(error)})
        except sqlite3.Error as error:
            self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"the results store could not be read: {error}"})

    def _route(self, path: str, params: dict[str, list[str]]) -> None:
        data = self.server.data
        if path in self.server.static:
            body, content_type = self.server.static[path]
            self.send_body(HTTPStatus.OK, content_type, body, cache=True)
        elif path == "/api/overview":
            self.send_json(HTTPStatus.OK, data.overview())
        elif path == "/api/episodes":
            self.send_json(HTTPStatus.OK, data.episodes(EpisodeQuery.from_params(params)))
        elif match := EPISODE.fullmatch(path):
            self.send_json(HTTPStatus.OK, data.episode(int(match[1])))
        elif match := IMAGE.fullmatch(path):
            self.send_body(HTTPStatus.OK, "image/jpeg", data.image(int(match[1]), int(match[2]), match[3]), cache=True)
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
            self.start(
                HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "text/plain", 0, False, {"Content-Range": f"bytes */{size}"}
            )
            return
        start, end = wanted or (0, size - 1)
        headers = {"Accept-Ranges": "bytes"}
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        status = HTTPStatus.OK if wanted is None else HTTPStatus.PARTIAL_CONTENT
        self.start(status, VIDEO_TYPES[path.suffix.lower()], end - start + 1, True, headers)
        if self._head_only:
            return
        with path.open("rb") as file:
            file.seek(start)
            left = end - start + 1
            while left > 0 and (chunk := file.read(min(VIDEO_CHUNK, left))):
                self.wfile.write(chunk)
                left -= len(chunk)


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
