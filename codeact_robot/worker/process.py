"""The episode worker process: answers the host's requests over a socket.

The host starts it as ``python -m codeact_robot.worker.process FD SCRATCH`` with one end
of a socket pair as FD and a fresh folder as SCRATCH, and sends the :class:`EnvConfig` as
JSON. The worker loads its world, confines itself (:mod:`confinement`: an unprivileged
user, reads only of what it loaded, writes only to SCRATCH, no network, no processes) and
says how (:class:`~codeact_robot.worker.protocol.Hello`). Then each request is a JSON
object (see :mod:`protocol`):

- ``{"verb": "reset", "placements": [...], "seed": int, "skills": [source, ...]}``
- ``{"verb": "restore", "state": {...}, "seed": int, "skills": [source, ...]}``
- ``{"verb": "execute", "code": str, "turn": int, "live": {"cameras": [...], "fps": float} | null}``
  (with ``live``, live frames precede the reply; ``{"verb": "stop"}`` sent while it runs
  stops it between two physics steps, and a ``stop`` that arrives after it ended is ignored)
- ``{"verb": "render", "poses": [...]}`` (video frames of recorded poses; ends the episode)
- ``{"verb": "close"}``

Every request but ``close`` is answered with a reply (header and images; for ``render``,
header and frames) or a failure.
"""

from __future__ import annotations

import sys
import tempfile
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from codeact_robot.sandbox.limits import cap_memory
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.confinement import confine, gpu_devices, runtime_paths
from codeact_robot.worker.protocol import (
    Hello,
    receive_request,
    send_failure,
    send_frames,
    send_live_frame,
    send_reply,
)
from codeact_robot.worker.runtime import EpisodeRuntime


class _SocketLink:
    """The runtime's :class:`~codeact_robot.worker.runtime.HostLink` over the host's socket."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def send_frame(self, camera: str, rgb: np.ndarray) -> None:
        send_live_frame(self.connection, camera, rgb)

    def stop_requested(self) -> bool:
        # While an action runs the host sends nothing but ``stop``; anything else also stops it.
        if not self.connection.poll(0):
            return False
        receive_request(self.connection)
        return True


def serve(connection: Connection, scratch: Path) -> None:
    """Load the world, confine this process, then answer requests until the host says close.

    Args:
        connection: this end of the socket pair to the host.
        scratch: the only folder the worker may write to.
    """
    config = EnvConfig.model_validate_json(connection.recv_bytes())
    cap_memory(config.limits.memory_limit_mb)
    runtime = EpisodeRuntime(config, _SocketLink(connection))
    tempfile.tempdir = str(scratch)  # the world saves PyBullet state through temporary files
    devices = gpu_devices() if runtime.world.renderer.kind == "egl" else []  # hardware rendering drives the GPU
    confinement = confine(runtime_paths(), [scratch], strict=config.strict_isolation, devices=devices)
    connection.send_bytes(Hello(confinement=str(confinement), missing=confinement.missing).model_dump_json().encode())
    handlers = {
        "reset": lambda r: runtime.reset(r["placements"], r["seed"], r["skills"]),
        "restore": lambda r: runtime.restore(r["state"], r["seed"], r["skills"]),
        "execute": lambda r: runtime.execute(r["code"], r["turn"], r.get("live")),
        "render": lambda r: runtime.render(r["poses"]),
    }
    try:
        while True:
            try:
                request = receive_request(connection)
            except (EOFError, OSError):
                return
            if request["verb"] == "close":
                return
            if request["verb"] == "stop":  # for an action that had ended before it arrived
                continue
            try:
                reply = handlers[request["verb"]](request)
            except Exception as error:  # a failure of the worker itself, not of a code action
                send_failure(connection, f"{type(error).__name__}: {error}")
            else:
                (send_frames if isinstance(reply, list) else send_reply)(connection, reply)
    finally:
        runtime.close()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), Path(sys.argv[2]))
