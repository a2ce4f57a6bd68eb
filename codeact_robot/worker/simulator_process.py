"""The simulator process: the trusted half of an episode slot, answering the host's requests.

The host starts it as ``python -m codeact_robot.worker.simulator_process FD SCRATCH`` with
one end of a socket pair as FD and a fresh folder as SCRATCH, and sends the
:class:`EnvConfig` as JSON. The simulator loads its world, confines itself
(:mod:`confinement`: reads only of what it loaded, writes only to SCRATCH, no network,
no processes; it keeps its user, who can read the assets wherever the project is
installed) and says how (:class:`~codeact_robot.worker.protocol.Hello`). Only project
code runs here: programs run in the executor, whose skill calls arrive over the channel
the host passes with ``reset``, ``restore`` and ``attach`` (:mod:`channel`). Then each
request is a JSON object (see :mod:`protocol`):

- ``{"verb": "reset", "placements": [...], "seed": int, "skills": [source, ...]}`` + channel
- ``{"verb": "restore", "state": {...}, "seed": int, "skills": [source, ...]}`` + channel
- ``{"verb": "attach", "seed": int, "skills": [source, ...]}`` + channel (a fresh executor;
  the scene stays as it is)
- ``{"verb": "execute", "code": str, "turn": int, "live": {"fps": float} | null}`` (with
  ``live``, live poses precede the reply; a ``{"verb": "stop"}`` sent while it runs stops
  it, and one that arrives after it ended is ignored)
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

from codeact_robot.sandbox.limits import cap_memory
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.confinement import confine, gpu_devices, runtime_paths
from codeact_robot.worker.protocol import (
    Hello,
    receive_channel,
    receive_request,
    send_failure,
    send_frames,
    send_reply,
)
from codeact_robot.worker.simulator_runtime import SimulatorRuntime

CARRY_CHANNEL = ("reset", "restore", "attach")


def serve(connection: Connection, scratch: Path) -> None:
    """Load the world, confine this process, then answer requests until the host says close.

    Args:
        connection: this end of the socket pair to the host.
        scratch: the only folder the simulator may write to.
    """
    config = EnvConfig.model_validate_json(connection.recv_bytes())
    cap_memory(config.limits.memory_limit_mb)
    runtime = SimulatorRuntime(config, connection)
    tempfile.tempdir = str(scratch)  # the world saves PyBullet state through temporary files
    devices = gpu_devices() if runtime.world.renderer.kind == "egl" else []  # hardware rendering drives the GPU
    confinement = confine(runtime_paths(), [scratch], strict=config.strict_isolation, devices=devices, drop_user=False)
    connection.send_bytes(Hello(confinement=str(confinement), missing=confinement.missing).model_dump_json().encode())
    handlers = {
        "reset": lambda r, c: runtime.reset(r["placements"], c, r["seed"], r["skills"]),
        "restore": lambda r, c: runtime.restore(r["state"], c, r["seed"], r["skills"]),
        "attach": lambda r, c: runtime.attach(c, r["seed"], r["skills"]),
        "execute": lambda r, c: runtime.execute(r["code"], r["turn"], r.get("live")),
        "render": lambda r, c: runtime.render(r["poses"]),
    }
    try:
        while True:
            try:
                request = receive_request(connection)
                channel = receive_channel(connection) if request["verb"] in CARRY_CHANNEL else None
            except (EOFError, OSError):
                return
            if request["verb"] == "close":
                return
            if request["verb"] == "stop":  # for an action that had ended before it arrived
                continue
            try:
                reply = handlers[request["verb"]](request, channel)
            except Exception as error:  # a failure of the simulator itself, not of a code action
                send_failure(connection, f"{type(error).__name__}: {error}")
            else:
                (send_frames if isinstance(reply, list) else send_reply)(connection, reply)
    finally:
        runtime.close()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), Path(sys.argv[2]))
