"""The worker's OS-level confinement, tested in fresh interpreters that confine themselves.

Each probe (``confinement_probe.py``) confines itself the way the worker does, then tries to
read, write, start processes and connect: every attempt must fail with the errno of the
mechanism that stops it, while simulation, rendering and threads keep working. The secret
and the outside folder are open to everyone, so only the confinement, not file
permissions, can stop the probe; probes with one mechanism left out show which layer
stops what.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import py_landlock
import pytest

from codeact_robot.worker.client import WorkerClient
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.confinement import confine, gpu_devices

PROBE = Path(__file__).with_name("confinement_probe.py")
SECRET = "the host's secret"
SHARED = "read me"
MiB = 1024 * 1024


def landlock_missing() -> str | None:
    try:
        py_landlock.get_abi_version()
    except py_landlock.LandlockError as error:
        return str(error)
    return None


needs_landlock = pytest.mark.skipif(landlock_missing() is not None, reason=f"this kernel: {landlock_missing()}")


@pytest.fixture(scope="module")
def places() -> Iterator[dict[str, Any]]:
    """Folders open to everyone: one outside the allowance with a secret in it, one allowed for
    reading only; and a loopback listener."""
    base = Path(tempfile.mkdtemp(prefix="confinement-"))
    base.chmod(0o755)
    outside, shared = base / "outside", base / "shared"
    for folder, name, text in ((outside, "secret.txt", SECRET), (shared, "notes.txt", SHARED)):
        folder.mkdir()
        folder.chmod(0o777)
        (folder / name).write_text(text)
        (folder / name).chmod(0o666)
    listener = socket.create_server(("127.0.0.1", 0))
    yield {
        "base": base,
        "secret": outside / "secret.txt",
        "outside": outside,
        "shared": shared,
        "port": listener.getsockname()[1],
    }
    listener.close()
    shutil.rmtree(base)


def probe(places: dict[str, Any], name: str, **settings: Any) -> dict[str, Any]:
    """Run the probe with its own scratch folder; its report as a dict."""
    scratch = places["base"] / name
    scratch.mkdir()
    settings = {
        "secret": str(places["secret"]),
        "outside": str(places["outside"]),
        "shared": str(places["shared"]),
        "scratch": str(scratch),
        "port": places["port"],
        "without": [],
        **settings,
    }
    done = subprocess.run(
        [sys.executable, str(PROBE), json.dumps(settings)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT "), done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(last.removeprefix("RESULT "))


def refused(report: dict[str, Any], name: str) -> str:
    """The errno name an attempt failed with (the test fails if it succeeded)."""
    outcome = report["attempts"][name]
    assert "errno" in outcome, f"{name} was not stopped: {outcome}"
    return outcome["errno"]


def succeeded(report: dict[str, Any], name: str) -> Any:
    outcome = report["attempts"][name]
    assert "ok" in outcome, f"{name} failed: {outcome}"
    return outcome["ok"]


@pytest.fixture(scope="module")
def confined(places: dict[str, Any]) -> dict[str, Any]:
    """Every mechanism, and a scene built, stepped and rendered after confining."""
    return probe(places, "confined", world=True)


@pytest.fixture(scope="module")
def landlock_only(places: dict[str, Any]) -> dict[str, Any]:
    return probe(places, "landlock-only", without=["seccomp"])


@pytest.fixture(scope="module")
def seccomp_only(places: dict[str, Any]) -> dict[str, Any]:
    return probe(places, "seccomp-only", without=["landlock"])


@needs_landlock
def test_every_mechanism_is_applied(confined: dict[str, Any]) -> None:
    assert confined["complete"] and confined["missing"] == []
    assert confined["landlock"].startswith("filesystem+network")
    assert confined["seccomp"].startswith("enforced (")
    assert confined["no_new_privs"] == 1
    if os.geteuid() == 0:
        assert confined["user"] == "nobody (65534)"
        assert confined["ids"] == {"uid": 65534, "euid": 65534, "gid": 65534, "groups": []}
    else:
        assert confined["user"] == "unchanged (not root)"
    assert refused(confined, "setuid_root") == "EPERM"


@needs_landlock
def test_resource_limits_are_lowered_for_good(confined: dict[str, Any]) -> None:
    limits = confined["limits"]
    assert limits["RLIMIT_CORE"] == [0, 0]
    assert 0 < limits["RLIMIT_NPROC"][1] <= 4096
    assert 0 < limits["RLIMIT_NOFILE"][1] <= 1024
    assert 0 < limits["RLIMIT_FSIZE"][1] <= 64 * MiB
    for name, (soft, hard) in limits.items():
        assert soft == hard == confined["rlimits"][name]  # the soft limit cannot be raised again


@needs_landlock
def test_files_outside_the_allowance_are_out_of_reach(confined: dict[str, Any]) -> None:
    assert refused(confined, "read_secret") == "EACCES"
    assert refused(confined, "list_outside") == "EACCES"
    assert refused(confined, "write_outside") == "EACCES"
    assert succeeded(confined, "read_shared") == SHARED
    assert refused(confined, "overwrite_shared") == "EACCES"
    assert refused(confined, "create_in_shared") == "EACCES"
    assert succeeded(confined, "write_scratch") == "planted"


@needs_landlock
@pytest.mark.parametrize("attempt", ["popen", "fork", "execv", "posix_spawn"])
def test_no_process_can_be_started(confined: dict[str, Any], attempt: str) -> None:
    assert refused(confined, attempt) == "EPERM"


@needs_landlock
def test_os_system_runs_nothing(confined: dict[str, Any]) -> None:
    # system() reports a shell it could not start as exit status 127, not as an errno.
    status, marker_made = succeeded(confined, "os_system")
    assert os.waitstatus_to_exitcode(status) == 127 and not marker_made


@needs_landlock
@pytest.mark.parametrize("attempt", ["socket", "socketpair", "connect"])
def test_no_socket_can_be_opened(confined: dict[str, Any], attempt: str) -> None:
    assert refused(confined, attempt) == "EPERM"


@needs_landlock
def test_no_signal_reaches_another_process(confined: dict[str, Any]) -> None:
    assert refused(confined, "signal_parent") == "EPERM"


@needs_landlock
@pytest.mark.skipif(platform.machine() != "x86_64", reason="x32 is an x86_64 system-call ABI")
def test_a_system_call_of_another_abi_ends_the_process(places: dict[str, Any]) -> None:
    scratch = places["base"] / "x32"
    scratch.mkdir()
    program = (
        "import ctypes, sys\n"
        "from pathlib import Path\n"
        "from codeact_robot.worker.confinement import confine, runtime_paths\n"
        "confine(runtime_paths(), [Path(sys.argv[1])], strict=True)\n"
        "ctypes.CDLL(None).syscall(0x40000000 + 41, 2, 1, 0)  # socket() through the x32 ABI\n"
        "print('survived')\n"
    )
    done = subprocess.run([sys.executable, "-c", program, str(scratch)], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGSYS, done.stdout + done.stderr


@needs_landlock
def test_simulation_rendering_and_threads_keep_working(confined: dict[str, Any]) -> None:
    scene = succeeded(confined, "scene")
    assert scene["colours"] > 50 and scene["std"] > 10  # robot, table and blocks, not a blank frame
    assert "bullet" in scene["state"]
    assert succeeded(confined, "thread") is True
    assert succeeded(confined, "numpy_threads") is True


def landlock_abi() -> int:
    return 0 if landlock_missing() else py_landlock.get_abi_version()


@pytest.mark.skipif(landlock_abi() < 5, reason="device ioctls are a Landlock right from ABI 5")
def test_device_ioctls_reach_only_the_devices_opened_up(places: dict[str, Any], confined: dict[str, Any]) -> None:
    # This machine has no GPU: /dev/zero stands in for a GPU's device file. Without the grant
    # Landlock refuses the ioctl itself (EACCES); with it the ioctl reaches the driver, which
    # answers that it is no terminal (ENOTTY).
    assert refused(confined, "ioctl_null") == "EACCES"
    assert refused(confined, "read_zero") == "EACCES"
    report = probe(places, "gpu-devices", devices=["/dev/zero", "/dev/no-such-gpu"])
    assert report["complete"] and report["devices"] == ["/dev/zero"]
    assert refused(report, "ioctl_zero") == "ENOTTY"
    assert succeeded(report, "read_zero") == 4
    assert refused(report, "ioctl_null") == "EACCES"  # /dev/null stays read and write only
    assert refused(report, "read_secret") == "EACCES"


def test_gpu_device_files_are_found_where_present(tmp_path: Path) -> None:
    (tmp_path / "dri").mkdir()
    (tmp_path / "nvidia-caps").mkdir()
    for name in ("dri/card0", "dri/renderD128", "dri/by-path", "nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-caps/x"):
        (tmp_path / name).touch()
    (tmp_path / "null").touch()
    found = [str(path.relative_to(tmp_path)) for path in gpu_devices(tmp_path)]
    assert found == ["dri/card0", "dri/renderD128", "nvidia-caps/x", "nvidia-uvm", "nvidia0", "nvidiactl"]
    assert gpu_devices(tmp_path / "dri" / "card0") == []  # no such folder: nothing to open up


@needs_landlock
def test_landlock_alone_stops_files_tcp_and_programs(landlock_only: dict[str, Any]) -> None:
    assert landlock_only["seccomp"] == "unavailable: turned off by the caller"
    assert not landlock_only["complete"] and landlock_only["missing"] == ["seccomp turned off by the caller"]
    assert refused(landlock_only, "read_secret") == "EACCES"
    assert refused(landlock_only, "write_outside") == "EACCES"
    assert succeeded(landlock_only, "socket") is None  # sockets are seccomp's; TCP connections are Landlock's
    assert refused(landlock_only, "connect") == "EACCES"
    assert refused(landlock_only, "posix_spawn") == "EACCES"  # no execute right anywhere


def test_seccomp_alone_stops_processes_and_sockets_not_reads(seccomp_only: dict[str, Any]) -> None:
    assert seccomp_only["landlock"] == "unavailable: turned off by the caller"
    assert not seccomp_only["complete"] and seccomp_only["missing"] == ["Landlock turned off by the caller"]
    assert succeeded(seccomp_only, "read_secret") == SECRET  # what stops this read is Landlock alone
    assert refused(seccomp_only, "fork") == "EPERM"
    assert refused(seccomp_only, "socket") == "EPERM"


@pytest.mark.parametrize(("mechanism", "phrase"), [("landlock", "Landlock"), ("seccomp", "seccomp")])
def test_strict_refuses_to_run_with_a_mechanism_missing(places: dict[str, Any], mechanism: str, phrase: str) -> None:
    report = probe(places, f"strict-without-{mechanism}", strict=True, without=[mechanism])
    assert report["error"] == f"refusing to run the worker unconfined: {phrase} turned off by the caller"
    # nothing was changed before refusing
    assert report["ids"]["euid"] == os.geteuid()
    assert report["no_new_privs"] == 0
    assert report["limits"]["RLIMIT_NOFILE"] == list(resource.getrlimit(resource.RLIMIT_NOFILE))
    assert succeeded(report, "read_secret") == SECRET


def test_bad_arguments_are_refused_before_anything_changes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"unknown mechanism\(s\) \['apparmor'\]; known: landlock, seccomp"):
        confine([], [tmp_path], without=["apparmor"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="writable folder .*missing does not exist"):
        confine([], [tmp_path / "missing"])


def test_a_scratch_folder_under_a_private_folder_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The simulator keeps its user (it reads the assets wherever the project is installed) and
    # the executor writes nothing, so a temporary folder only its owner may enter serves.
    closed = tmp_path / "private"
    closed.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(closed))
    worker = WorkerClient(EnvConfig(renderer="tiny"))
    try:
        worker.reset([], 0, [])
        assert [p.name.startswith("codeact-worker-") for p in closed.iterdir()] == [True]
        assert worker.execute("print(len(get_object_names()))", 1).report.stdout == "0\n"
    finally:
        worker.close()
    assert list(closed.iterdir()) == []  # the folder it made is gone again
