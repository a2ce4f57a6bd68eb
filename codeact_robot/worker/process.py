"""The episode worker process: answers the host's requests over a socket.

The host starts it as ``python -m codeact_robot.worker.process FD`` with one end of a
socket pair as FD and sends the :class:`EnvConfig` as JSON. Then each request is a JSON
object (see :mod:`protocol`):

- ``{"verb": "reset", "placements": [...], "seed": int, "skills": [source, ...]}``
- ``{"verb": "restore", "state": {...}, "seed": int, "skills": [source, ...]}``
- ``{"verb": "execute", "code": str}``
- ``{"verb": "close"}``

Every request but ``close`` is answered with a reply (header and images) or a failure.
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from codeact_robot.sandbox.limits import cap_memory
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import receive_request, send_failure, send_reply
from codeact_robot.worker.runtime import EpisodeRuntime


def serve(connection: Connection) -> None:
    """Run the worker loop until the host says close or goes away.

    Args:
        connection: this end of the socket pair to the host.
    """
    config = EnvConfig.model_validate_json(connection.recv_bytes())
    cap_memory(config.limits.memory_limit_mb)
    runtime = EpisodeRuntime(config)
    handlers = {
        "reset": lambda r: runtime.reset(r["placements"], r["seed"], r["skills"]),
        "restore": lambda r: runtime.restore(r["state"], r["seed"], r["skills"]),
        "execute": lambda r: runtime.execute(r["code"]),
    }
    try:
        while True:
            try:
                request = receive_request(connection)
            except (EOFError, OSError):
                return
            if request["verb"] == "close":
                return
            try:
                reply = handlers[request["verb"]](request)
            except Exception as error:  # a failure of the worker itself, not of a code action
                send_failure(connection, f"{type(error).__name__}: {error}")
            else:
                send_reply(connection, reply)
    finally:
        runtime.close()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
