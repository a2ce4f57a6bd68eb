"""The studio's HTTP server: the page, its files and a small JSON API over one :class:`Studio`.

Every path starts with the token made when the server starts (``/<token>/...``, the
address the command prints): a request without it gets 403, before anything else is
looked at. The page refers to its files and the API by relative paths, so the token
travels with every request it makes; it never leaves in a ``Referer`` (no-referrer) and
the page can call nothing but this server (Content-Security-Policy). On top of the token,
the checks of every local page (:mod:`codeact_robot.localweb`): a loopback ``Host``, an
``Origin`` that is the server's own (a POST must name one), and everything the page
shows is set as text.

Routes under ``/<token>``:

- GET ``/``: the page; ``/static/<file>``: its script, styles and the shipped highlighter;
- GET ``/api/state``: the scene, the turns, mode and view; ``/api/reference``: the robot API;
- GET ``/api/live?after=N``: the first frame of the camera view newer than number N
  (waits for it), JPEG, its number in ``X-Frame-Number``; 204 when none came in time;
- GET ``/api/trajectory``: the episode so far as a trajectory file (JSON Lines);
- POST (JSON bodies) ``/api/run`` ``{"code"}``, ``/api/instruct`` ``{"text"}``, ``/api/stop``,
  ``/api/undo``, ``/api/reset`` ``{"new_seed"}``, ``/api/view`` ``{"cameras", "live"}``,
  ``/api/mode`` ``{"mode"}``, ``/api/skill`` ``{"name", "call", "task"}``, ``/api/viewer``.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from codeact_robot.localweb import LocalPageHandler, LocalPageServer, is_number, static_files
from codeact_robot.studio.studio import Busy, Refused, Studio, api_reference
from codeact_robot.worker.client import WorkerCrashed

STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/studio.js": ("studio.js", "text/javascript; charset=utf-8"),
    "/static/studio.css": ("studio.css", "text/css; charset=utf-8"),
}
"""URL path (after the token) -> (file under ``static/``, content type): the page's own files."""
MAX_BODY_BYTES = 256 * 1024  # a program of 100,000 characters, as JSON, fits
OpenInViewer = Callable[[str], str]
"""Opens a trajectory (JSON Lines text) in the episode viewer; returns the viewer's address."""


class StudioServer(LocalPageServer):
    """Serves one studio on 127.0.0.1 until :meth:`shutdown`.

    Args:
        studio: the session the page drives.
        port: the port (0 picks a free one; see :attr:`url`).
        open_in_viewer: what "Open in the viewer" does (None: the button says it is not available).

    Raises:
        OSError: the port cannot be bound (in use, say).
    """

    def __init__(self, studio: Studio, port: int = 8090, open_in_viewer: OpenInViewer | None = None) -> None:
        self.studio = studio
        self.open_in_viewer = open_in_viewer
        self.token = secrets.token_urlsafe(24)
        self.static = static_files(__package__, STATIC_FILES)
        super().__init__("127.0.0.1", port, StudioHandler)

    @property
    def url(self) -> str:
        """The page's address with its token, e.g. ``http://127.0.0.1:8090/<token>/``."""
        return f"{super().url}{self.token}/"


class StudioHandler(LocalPageHandler):
    """One request: the token and origin checks, then a file or an API answer."""

    server: StudioServer
    server_version = "codeact-robot-studio"

    def do_GET(self) -> None:
        """A file, the state, the API reference, a live frame or the trajectory."""
        self._answer("GET")

    def do_POST(self) -> None:
        """An action, an instruction or a control."""
        self._answer("POST")

    def _refuse(self) -> None:
        self.send_json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": "the studio answers GET and POST only"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _refuse

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        _, _, rest = url.path.partition("/")
        token, slash, path = rest.partition("/")
        if not (slash and hmac.compare_digest(token.encode(), self.server.token.encode())):
            self.send_json(HTTPStatus.FORBIDDEN, {"error": "open the studio by the address it printed"})
            return
        refused = self.refused_origin()
        if refused is None and method == "POST" and self.headers.get("Origin") is None:
            refused = "a request that changes the studio must come from its page (no Origin was sent)"
        if refused is not None:
            self.send_json(HTTPStatus.FORBIDDEN, {"error": refused})
            return
        try:
            if method == "GET":
                self._get("/" + path, parse_qs(url.query, max_num_fields=10))
            else:
                self._post("/" + path, self._body())
        except Refused as error:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": str(error)})
        except Busy as error:
            self.send_json(HTTPStatus.CONFLICT, {"error": str(error)})
        except WorkerCrashed as crash:
            self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"the episode worker failed: {crash}"})

    def _get(self, path: str, query: dict[str, list[str]]) -> None:
        studio = self.server.studio
        if path in self.server.static:
            body, content_type = self.server.static[path]
            self.send_body(HTTPStatus.OK, content_type, body, cache=path != "/")
        elif path == "/api/state":
            self.send_json(HTTPStatus.OK, studio.state())
        elif path == "/api/reference":
            self.send_json(HTTPStatus.OK, api_reference())
        elif path == "/api/live":
            after = query.get("after", ["0"])[0]
            if not is_number(after):
                raise Refused("after must be a frame number")
            frame = studio.frames.after(int(after))
            if frame is None:
                self.send_body(HTTPStatus.NO_CONTENT, "image/jpeg", b"", cache=False)
                return
            number, jpeg = frame
            self.send_body(HTTPStatus.OK, "image/jpeg", jpeg, cache=False, headers={"X-Frame-Number": str(number)})
        elif path == "/api/trajectory":
            body = studio.trajectory().encode()
            name = f"studio-{studio.state()['task']}-seed{studio.seed}.jsonl"
            headers = {"Content-Disposition": f'attachment; filename="{name}"'}
            self.send_body(HTTPStatus.OK, "application/x-ndjson", body, cache=False, headers=headers)
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"nothing at {path[:200]}"})

    def _post(self, path: str, body: dict[str, Any]) -> None:
        studio = self.server.studio
        routes: dict[str, Callable[[], Any]] = {
            "/api/run": lambda: studio.run_code(_text(body, "code")),
            "/api/instruct": lambda: studio.instruct(_text(body, "text")),
            "/api/stop": lambda: {"stopped": studio.stop()},
            "/api/undo": studio.undo,
            "/api/reset": lambda: studio.reset(bool(body.get("new_seed"))),
            "/api/view": lambda: studio.choose_view(_text(body, "cameras"), bool(body.get("live", True))),
            "/api/mode": lambda: studio.choose_mode(_text(body, "mode")),
            "/api/skill": lambda: studio.save_skill(_text(body, "name"), _text(body, "call"), _text(body, "task")),
            "/api/viewer": self._open_in_viewer,
        }
        if path not in routes:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"nothing at {path[:200]}"})
            return
        self.send_json(HTTPStatus.OK, routes[path]())

    def _open_in_viewer(self) -> dict[str, str]:
        if self.server.open_in_viewer is None:
            raise Refused("the episode viewer is not available here; download the trajectory instead")
        return {"url": self.server.open_in_viewer(self.server.studio.trajectory())}

    def _body(self) -> dict[str, Any]:
        if self.headers.get_content_type() != "application/json":
            raise Refused("send the request as application/json")
        length = self.headers.get("Content-Length", "")
        if not is_number(length) or int(length) > MAX_BODY_BYTES:
            raise Refused(f"the request body must have a length of at most {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(self.rfile.read(int(length)) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            raise Refused("the request body is not JSON") from None
        if not isinstance(body, dict):
            raise Refused("the request body must be a JSON object")
        return body


def _text(body: dict[str, Any], field: str) -> str:
    value = body.get(field, "")
    if not isinstance(value, str):
        raise Refused(f"{field} must be text")
    return value
