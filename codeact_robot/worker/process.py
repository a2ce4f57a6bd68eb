"""The episode worker process: answers requests from the host over a pipe."""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from codeact_robot.sandbox.limits import cap_memory
from codeact_robot.worker.config import WorkerConfig
from codeact_robot.worker.episode import WorkerEpisode

# The host starts this module as ``python -m codeact_robot.worker.process FD`` with one end of
# a socket pair as FD, then sends the WorkerConfig as a dict. After that, requests are
# (verb, payload) tuples:
#   ("reset", {"placements": [...], "seed": int})
#   ("restore", {"state": {...}, "seed": int})
#   ("execute", {"code": str})
#   ("close", {})
# Every request but "close" is answered with ("ok", WorkerReply) or ("error", message).


def serve(connection: Connection) -> None:
    """Run the worker loop until the host says close or goes away.

    Args:
        connection: this end of the socket pair to the host.
    """
    settings = WorkerConfig(**connection.recv())
    cap_memory(settings.limits.memory_limit_mb)
    episode = WorkerEpisode(settings)
    handlers = {
        "reset": lambda payload: episode.reset(payload["placements"], payload["seed"]),
        "restore": lambda payload: episode.restore(payload["state"], payload["seed"]),
        "execute": lambda payload: episode.execute(payload["code"]),
    }
    try:
        while True:
            try:
                verb, payload = connection.recv()
            except (EOFError, OSError):
                return
            if verb == "close":
                return
            try:
                connection.send(("ok", handlers[verb](payload)))
            except Exception as error:  # a failure of the worker itself, not of a code action
                connection.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        episode.close()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])))
