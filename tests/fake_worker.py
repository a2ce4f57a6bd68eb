"""A stand-in simulator that keeps the protocol until the first code action, then breaks it.

python tests/fake_worker.py BEHAVIOUR LOG_FOLDER FD SCRATCH

It answers the handshake, ``reset`` and ``restore`` as a simulator should (a restore echoes
the state it was given; the executor channels they carry are taken and left alone), and
answers ``execute`` as BEHAVIOUR says: garbage, a pickle, frames that announce a terabyte,
stop halfway or never end, images of the wrong size or camera, NaN in the state, fields
the schema does not have ... Every request it receives is appended to
``LOG_FOLDER/requests.jsonl``; a pickle it sends would create ``LOG_FOLDER/pwned`` if the
host ever unpickled it.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import (
    MAX_ERROR_CHARS,
    MAX_HEADER_BYTES,
    MAX_POSES,
    ActionReport,
    GripperSummary,
    Hello,
    ReplyHeader,
    SceneSummary,
    WorkerReply,
    WorldState,
    receive_channel,
    receive_request,
    send_failure,
    send_reply,
)

START_STATE = {
    "version": 1,
    "time_step": 1 / 240,
    "step_count": 7,
    "objects": [],
    "robot": {"positions": [0.1] * 9, "velocities": [0.0] * 9, "arm_targets": [0.1] * 7, "gripper_target": 0.04},
}


class Exploit:
    """Unpickling this runs a shell command: the host must never do it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def reply(config: EnvConfig, state: dict[str, Any]) -> WorkerReply:
    width, height = config.camera_size
    return WorkerReply(
        report=ActionReport(),
        state=WorldState.model_validate(state),
        scene=SceneSummary(objects={}, gripper=GripperSummary(position=(0.3, 0.0, 0.5), width=0.08, state="open")),
        images={camera: np.zeros((height, width, 3), np.uint8) for camera in config.cameras},
    )


def header(config: EnvConfig, **changes: Any) -> dict[str, Any]:
    """A valid reply header as plain data, with ``changes`` applied."""
    good = reply(config, START_STATE)
    data = ReplyHeader(
        status="ok", report=good.report, state=good.state, scene=good.scene, images=tuple(good.images)
    ).model_dump(mode="json")
    data.update(changes)
    return data


def raw(connection: Connection, data: bytes) -> None:
    """Bytes straight onto the socket, beneath the framing."""
    os.write(connection.fileno(), data)


def frame_prefix(length: int) -> bytes:
    """multiprocessing.connection's frame header for ``length`` bytes."""
    return struct.pack("!i", length) if length < 2**31 - 1 else struct.pack("!i", -1) + struct.pack("!Q", length)


def hang() -> None:
    while True:
        time.sleep(60)


def image_bytes(config: EnvConfig) -> int:
    width, height = config.camera_size
    return width * height * 3


def send_json(connection: Connection, data: dict[str, Any]) -> None:
    connection.send_bytes(json.dumps(data).encode())


BEHAVIOURS: dict[str, Callable[[Connection, EnvConfig, Path], None]] = {
    "honest": lambda c, config, log: send_reply(c, reply(config, {**START_STATE, "step_count": 8})),
    "garbage": lambda c, config, log: c.send_bytes(b"\x00\xff{not json at all"),
    "pickle": lambda c, config, log: c.send_bytes(pickle.dumps(Exploit(log / "pwned"))),
    "oversized-header": lambda c, config, log: c.send_bytes(b'{"status": "ok", "x": "' + b"a" * MAX_HEADER_BYTES),
    "announces-a-terabyte": lambda c, config, log: (raw(c, frame_prefix(10**12)), hang()),
    "truncated-image": lambda c, config, log: (
        send_json(c, header(config)),
        raw(c, frame_prefix(image_bytes(config)) + b"\x00" * (image_bytes(config) // 2)),
        os._exit(0),
    ),
    "stalls-mid-frame": lambda c, config, log: (
        send_json(c, header(config)),
        raw(c, frame_prefix(image_bytes(config)) + b"\x00" * 10),
        hang(),
    ),
    "silent": lambda c, config, log: hang(),
    "exits": lambda c, config, log: os._exit(3),
    "image-too-long": lambda c, config, log: (
        send_json(c, header(config)),
        c.send_bytes(b"\x00" * (image_bytes(config) + 3)),
    ),
    "image-too-short": lambda c, config, log: (
        send_json(c, header(config)),
        c.send_bytes(b"\x00" * (image_bytes(config) - 3)),
    ),
    "wrong-camera": lambda c, config, log: (
        send_json(c, header(config, images=["top"])),
        c.send_bytes(b"\x00" * image_bytes(config)),
    ),
    "camera-twice": lambda c, config, log: (
        send_json(c, header(config, images=["front", "front"])),
        c.send_bytes(b"\x00" * image_bytes(config)),
        c.send_bytes(b"\x00" * image_bytes(config)),
    ),
    "nan-in-the-state": lambda c, config, log: c.send_bytes(
        json.dumps(header(config, state={**START_STATE, "time_step": float("nan")})).encode()
    ),
    "a-field-the-schema-lacks": lambda c, config, log: send_json(c, header(config, code="__import__('os')")),
    "said-flood": lambda c, config, log: send_json(
        c, header(config, report={**ActionReport().model_dump(mode="json"), "said": ["x"] * 101})
    ),
    "error-too-long": lambda c, config, log: send_json(
        c, header(config, report={**ActionReport().model_dump(mode="json"), "error": "e" * (MAX_ERROR_CHARS + 1)})
    ),
    "too-many-poses": lambda c, config, log: send_json(
        c, header(config, poses=[{"objects": [], "joints": [0.0] * 9}] * (MAX_POSES + 1))
    ),
    "not-an-object": lambda c, config, log: c.send_bytes(b'["status", "ok"]'),
    "own-failure": lambda c, config, log: send_failure(c, "RuntimeError: the world fell over"),
}


def main() -> None:
    behaviour, log = sys.argv[1], Path(sys.argv[2])
    connection = Connection(int(sys.argv[3]))
    config = EnvConfig.model_validate_json(connection.recv_bytes())
    connection.send_bytes(Hello(confinement="none (a stand-in worker)").model_dump_json().encode())
    channels = []  # kept open: the executors wait on them
    while True:
        request = receive_request(connection)
        with open(log / "requests.jsonl", "a") as requests:
            requests.write(json.dumps(request) + "\n")
        verb = request["verb"]
        if verb in ("reset", "restore", "attach"):
            channels.append(receive_channel(connection))
        if verb == "close":
            return
        if verb == "reset":
            send_reply(connection, reply(config, START_STATE))
        elif verb == "restore":
            send_reply(connection, reply(config, request["state"]))
        else:
            BEHAVIOURS[behaviour](connection, config, log)


if __name__ == "__main__":
    main()
