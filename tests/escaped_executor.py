"""A stand-in for an executor whose sandbox a program has escaped: programs run with plain ``exec``.

python tests/escaped_executor.py HOST_FD CHANNEL_FD

It keeps the executor's side of the channel (the skills are the real stubs) but runs each
program with full Python and no confinement: ``import``, ``gc``, PyBullet, the channel's
socket, everything an escape could reach. Only a test can start it (``WorkerClient``'s
``executor_command``); no setting or file names an executor.
"""

from __future__ import annotations

import contextlib
import io
import sys
from multiprocessing.connection import Connection
from typing import Any

from codeact_robot.skills import all_skills
from codeact_robot.worker.channel import (
    MAX_ANSWER_BYTES,
    Finished,
    Start,
    Started,
    checked,
    receive_message,
    send_model,
)
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.executor_stubs import SkillChannel, skill_stubs
from codeact_robot.worker.protocol import Hello


def main() -> None:
    host, connection = Connection(int(sys.argv[1])), Connection(int(sys.argv[2]))
    EnvConfig.model_validate_json(host.recv_bytes())
    host.send_bytes(Hello(confinement="none (an escaped executor)").model_dump_json().encode())
    namespace: dict[str, Any] = {}
    while True:
        try:
            header, _ = receive_message(connection, MAX_ANSWER_BYTES)
        except (EOFError, OSError):
            return
        message = checked(header, ("start", "run"))
        if isinstance(message, Start):
            namespace = dict(skill_stubs(all_skills(), SkillChannel(connection)))
            send_model(connection, Started(op="started"))
            continue
        output, error = io.StringIO(), None
        with contextlib.redirect_stdout(output):
            try:
                exec(message.code, namespace)
            except Exception as failure:
                error = f"{type(failure).__name__}: {failure}"
        send_model(
            connection,
            Finished(op="finished", stdout=output.getvalue()[:10000], error=error, origin="program" if error else None),
        )


if __name__ == "__main__":
    main()
