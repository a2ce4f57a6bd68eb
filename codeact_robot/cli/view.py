"""``codeact-robot view``: browse an evaluation's episodes in a local web page."""

from __future__ import annotations

import argparse
import errno

from codeact_robot.cli.options import add_command, port_number
from codeact_robot.errors import UsageError
from codeact_robot.eval.viewer import ViewerServer


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``view``."""
    view = add_command(
        commands,
        "view",
        "browse the episodes of an evaluation folder in the browser (read-only)",
        ("codeact-robot view runs/smoke", "codeact-robot view runs/tabletop --port 0   # any free port"),
        "Serves a local page over the results store: filter and search the episodes, then read one "
        "turn by turn (code, output, errors, camera images, video). Ctrl-C stops it.",
    )
    view.add_argument("folder", metavar="DIR", help="the evaluation folder (eval --out)")
    view.add_argument(
        "--port",
        type=port_number,
        default=8080,
        help="port to serve on; 0 picks a free one (default: %(default)s)",
    )
    view.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind; 127.0.0.1: only this machine can connect (default: %(default)s)",
    )
    view.set_defaults(handler=view_command)


def view_command(args: argparse.Namespace) -> int:
    """Serve the viewer until interrupted."""
    try:
        server = ViewerServer(args.folder, args.host, args.port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise UsageError(f"port {args.port} is in use; choose another with --port (0 picks a free one)") from None
        raise UsageError(f"cannot serve on {args.host}:{args.port}: {error.strerror or error}") from None
    print(f"Episode viewer for {args.folder}: {server.url}  (Ctrl-C to stop)", flush=True)
    if not server.loopback:
        print(
            f"warning: bound to {args.host}: other machines can read these episodes (at {server.remote_url})",
            flush=True,
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
    return 0
