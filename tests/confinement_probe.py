"""A fresh interpreter that confines itself as the episode worker does, then tries things.

python tests/confinement_probe.py '{"secret": ..., "outside": ..., "scratch": ..., "port": ..., ...}'

Settings (JSON): ``secret`` a file it must not read, ``outside`` a folder it must not write
in, ``shared`` a folder it may only read, ``scratch`` its writable folder, ``port`` a
listening loopback TCP port, ``without`` the mechanisms to leave out, ``strict``, and
``world`` to build, step and render a scene after confining, ``devices`` device files to open
up as for a GPU (read, write, ioctl). The last line printed is
``RESULT {json}``: what ``confine`` reported and, per attempt, either ``{"ok": value}`` or
``{"errno": "EACCES"}``.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import termios
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from codeact_robot.envs.tasks import sample_instance
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.worker.confinement import RLIMITS, ConfinementError, confine, runtime_paths

PR_GET_NO_NEW_PRIVS = 39


def attempt(action: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"ok": action()}
    except OSError as error:
        return {"errno": errno.errorcode.get(error.errno, str(error.errno)), "message": str(error)}


def connect(port: int) -> str:
    with socket.socket() as connection:
        connection.connect(("127.0.0.1", port))
        return "connected"


def fork() -> str:
    if os.fork() == 0:
        os._exit(0)
    return "forked"


def write(path: Path) -> str:
    path.write_text("planted")
    return path.read_text()


def terminal_ioctl(device: str) -> str:
    """TCGETS on a device that is no terminal: its driver answers ENOTTY, Landlock EACCES."""
    fd = os.open(device, os.O_RDWR)
    try:
        fcntl.ioctl(fd, termios.TCGETS, bytes(64))
        return "answered"
    finally:
        os.close(fd)


def read_device(device: str) -> int:
    with open(device, "rb") as stream:
        return len(stream.read(4))


def start_thread() -> bool:
    ran = []
    thread = threading.Thread(target=lambda: ran.append(True))
    thread.start()
    thread.join()
    return bool(ran)


def numpy_threads() -> bool:
    matrix = np.random.default_rng(0).random((400, 400)) + 400 * np.eye(400)
    return bool(np.allclose(matrix @ np.linalg.inv(matrix), np.eye(400)))  # BLAS on OpenBLAS's threads


def scene(world: TabletopWorld) -> dict[str, Any]:
    world.build(sample_instance("StackBlocks", 0).placements)
    world.step(120)
    rgb = world.render("front").rgb
    state = world.get_state(exact=True)  # PyBullet saves its state through a file in the scratch folder
    return {"colours": len(np.unique(rgb.reshape(-1, 3), axis=0)), "std": float(rgb.std()), "state": sorted(state)}


def main() -> None:
    settings = json.loads(sys.argv[1])
    secret, outside, scratch = Path(settings["secret"]), Path(settings["outside"]), Path(settings["scratch"])
    shared = Path(settings["shared"])
    tempfile.tempdir = str(scratch)  # as the worker does: its temporary files go to the scratch folder
    world = TabletopWorld(renderer="tiny") if settings.get("world") else None
    result: dict[str, Any] = {}
    try:
        confinement = confine(
            [*runtime_paths(), shared],
            [scratch],
            strict=settings.get("strict", False),
            without=settings["without"],
            devices=[Path(device) for device in settings.get("devices", [])],
        )
    except ConfinementError as error:
        result["error"] = str(error)
    else:
        result.update(
            user=confinement.user,
            landlock=confinement.landlock,
            seccomp=confinement.seccomp,
            rlimits=confinement.rlimits,
            missing=list(confinement.missing),
            complete=confinement.complete,
            devices=list(confinement.devices),
        )
    marker = scratch / "made-by-a-shell"
    attempts: dict[str, Callable[[], Any]] = {
        "read_secret": secret.read_text,
        "list_outside": lambda: os.listdir(outside),
        "write_outside": lambda: write(outside / "planted"),
        "read_shared": (shared / "notes.txt").read_text,
        "overwrite_shared": lambda: write(shared / "notes.txt"),
        "create_in_shared": lambda: write(shared / "planted"),
        "write_scratch": lambda: write(scratch / "notes.txt"),
        "os_system": lambda: [os.system(f"touch {marker}"), marker.exists()],
        "popen": lambda: subprocess.Popen(["true"]).wait(),
        "fork": fork,
        "execv": lambda: os.execv(sys.executable, [sys.executable, "-c", "pass"]),
        "posix_spawn": lambda: os.posix_spawn(sys.executable, [sys.executable, "-c", "pass"], os.environ),
        "socket": lambda: socket.socket().close(),
        "socketpair": lambda: [end.close() for end in socket.socketpair()],
        "connect": lambda: connect(settings["port"]),
        "setuid_root": lambda: os.setuid(0),
        "signal_parent": lambda: os.kill(os.getppid(), 0),
        "thread": start_thread,
        "numpy_threads": numpy_threads,
        "ioctl_null": lambda: terminal_ioctl("/dev/null"),
        "ioctl_zero": lambda: terminal_ioctl("/dev/zero"),
        "read_zero": lambda: read_device("/dev/zero"),
    }
    if world is not None:
        attempts["scene"] = lambda: scene(world)
    if "error" in result:  # not confined: only look, start nothing
        attempts = {"read_secret": attempts["read_secret"]}
    result["attempts"] = {name: attempt(action) for name, action in attempts.items()}
    result["limits"] = {name: resource.getrlimit(getattr(resource, name)) for name in RLIMITS}
    result["ids"] = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups()}
    result["no_new_privs"] = ctypes.CDLL(None).prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
    sys.stdout.flush()
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
