"""What every local web page of the project (the episode viewer, the studio) does to stay local.

A page served on 127.0.0.1 can still be reached by a web page elsewhere: through DNS
rebinding (a name of the attacker's that resolves to 127.0.0.1, which the browser then
treats as the attacker's origin) or by a cross-site form or ``fetch``. So a server on a
loopback address answers only requests whose ``Host`` is a loopback name with its port,
refuses a request whose ``Origin`` is another site's, and sends a Content-Security-Policy
that lets the page load scripts, styles, images and data from the server alone (markup
from the data that slipped through could not run or call out). :class:`LocalPageHandler`
holds these checks and the sending of answers for the servers built on it.
"""

from __future__ import annotations

import json
import math
import socket
from contextlib import suppress
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
HIGHLIGHTER = {
    "/static/highlight/core.min.js": ("core.min.js", "text/javascript; charset=utf-8"),
    "/static/highlight/python.min.js": ("python.min.js", "text/javascript; charset=utf-8"),
    "/static/highlight/github.min.css": ("github.min.css", "text/css; charset=utf-8"),
}
"""URL path -> (file, content type) of the shipped highlighter (``webstatic/highlight``), the same for every page."""


def static_files(package: str, files: dict[str, tuple[str, str]]) -> dict[str, tuple[bytes, str]]:
    """A page's own files (under the package's ``static/``) and the highlighter, read once.

    Args:
        package: the page's package (its files are in its ``static`` folder).
        files: URL path -> (file name under ``static/``, content type).

    Returns:
        URL path -> (content, content type): the only files the server sends.
    """
    own = resources.files(package).joinpath("static")
    shared = resources.files("codeact_robot").joinpath("webstatic", "highlight")
    return {
        **{path: (own.joinpath(name).read_bytes(), kind) for path, (name, kind) in files.items()},
        **{path: (shared.joinpath(name).read_bytes(), kind) for path, (name, kind) in HIGHLIGHTER.items()},
    }


def is_number(text: str, digits: int = 12) -> bool:
    """Whether ``text`` is a whole number of at most ``digits`` ASCII digits, as a request's numbers must be.

    ``str.isdigit`` alone also takes digits that ``int`` does not read (a superscript two).
    """
    return text.isascii() and text.isdigit() and len(text) <= digits


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` lets only this machine connect."""
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The ``Host`` header values a server bound to ``host:port`` answers (loopback names, with the port)."""
    names = (*LOOPBACK_NAMES, host)
    return frozenset({f"{name}:{port}" for name in names} | (set(names) if port == 80 else set()))


class LocalPageServer(ThreadingHTTPServer):
    """A local page's server: knows whether it is bound to a loopback address and which ``Host`` it answers.

    Args:
        host: the address to bind (127.0.0.1: only this machine can connect).
        port: the port (0 picks a free one; see :attr:`url`).
        handler: the request handler class.

    Raises:
        OSError: the address cannot be bound (a port in use, say).
    """

    daemon_threads = True

    def __init__(self, host: str, port: int, handler: type[LocalPageHandler]) -> None:
        super().__init__((host, port), handler)
        self.loopback = is_loopback(host)
        self.allowed_hosts = allowed_hosts(host, self.server_address[1])

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


class LocalPageHandler(BaseHTTPRequestHandler):
    """A request to a :class:`LocalPageServer`: the Host and Origin checks, and answers with the security headers."""

    server: LocalPageServer
    sys_version = ""
    _head_only = False

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the command prints its address and nothing per request."""

    def refused_origin(self) -> str | None:
        """Why the request may not be answered (its Host or Origin is not this server's), or None.

        A request without ``Origin`` (a page's own GET of a script or an image) passes
        the Origin check; one with it must come from the address the page was served at.
        """
        hosts = self.server.allowed_hosts
        if self.server.loopback and self.headers.get("Host", "") not in hosts:
            return "unexpected Host header; open the page by its address"
        origin = self.headers.get("Origin")
        if origin is not None and not (origin.startswith("http://") and origin[len("http://") :] in hosts):
            return "requests from other sites are refused"
        return None

    def send_json(self, status: HTTPStatus, value: Any) -> None:
        """Answer with ``value`` as JSON (NaN and infinities as null)."""
        body = json.dumps(finite(value), ensure_ascii=False, allow_nan=False).encode("utf-8")
        self.send_body(status, "application/json; charset=utf-8", body, cache=False)

    def send_body(
        self, status: HTTPStatus, content_type: str, body: bytes, cache: bool, headers: dict[str, str] | None = None
    ) -> None:
        """Answer with ``body`` (only its headers for a HEAD request)."""
        self.start(status, content_type, len(body), cache, headers)
        if not self._head_only:
            with suppress(BrokenPipeError, ConnectionResetError):  # the page went away (closed, or reloaded)
                self.wfile.write(body)

    def start(
        self, status: HTTPStatus, content_type: str, length: int, cache: bool, headers: dict[str, str] | None = None
    ) -> None:
        """Send the status line and the headers, the security headers among them."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        # Data answers are never cached: a reload shows what changed since.
        self.send_header("Cache-Control", "private, max-age=300" if cache else "no-store")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()


def finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such numbers become null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite(item) for item in value]
    return value
