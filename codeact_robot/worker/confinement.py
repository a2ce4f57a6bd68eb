"""OS-level confinement of the episode worker: the second line of defence behind the sandbox.

The worker calls :func:`confine` once, after it has imported and loaded everything it needs
and before it runs the first program. From then on, whatever a program manages to do inside
the interpreter happens as an unprivileged user that can read only what the worker needs,
write only its scratch folder, open no network connection and start no process.

In this order (each step needs what the step before it still allowed):

1. the Landlock ruleset is built, while every allowed path can still be opened, and the
   seccomp filter compiled; nothing has changed yet, so a ``strict`` refusal comes here;
2. resource limits are lowered (processes, open files, file size, no core dumps);
3. a root process asked to (the executor, which has loaded everything it will need) hands
   its writable folders to ``nobody`` and becomes ``nobody`` (supplementary groups cleared,
   then gid, then uid); the simulator, which runs only project code and reads assets
   wherever the project is installed, stays who it is;
4. ``PR_SET_NO_NEW_PRIVS``;
5. Landlock restricts the filesystem (read-only allowances, writable allowances) and TCP
   (no bind, no connect) and, from ABI 6, signals and abstract sockets outside the worker;
6. seccomp denies process creation, new sockets and kernel interfaces a simulation never
   needs. The filter is a deny-list over a default of allow: an allow-list would have to
   follow every syscall of CPython, OpenBLAS, PyBullet, OpenCV and GPU drivers.

Denied syscalls fail with ``EPERM`` instead of killing the worker: the program sees an
ordinary ``PermissionError`` it can report, and the episode goes on without a worker
restart. Killing would add nothing, since the denied call has no effect either way.

Landlock up to ABI 7 restricts the calling thread and the threads it starts later, not
threads that already exist (OpenBLAS starts its pool when numpy is imported). Those
threads only run BLAS kernels; they still run as ``nobody``, under the seccomp filter
(synchronised to every thread) and the resource limits.
"""

from __future__ import annotations

import ctypes
import errno
import os
import pwd
import resource
import sys
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import py_landlock
from py_landlock import AccessFs
from py_landlock.abi import get_supported_fs, get_supported_net, get_supported_scope

if TYPE_CHECKING:
    from pyseccomp import SyscallFilter

Mechanism = Literal["landlock", "seccomp"]

NOBODY = 65534
NETWORK_ABI = 4  # the first Landlock ABI with TCP bind/connect rights
PR_SET_NO_NEW_PRIVS = 38

RLIMITS = {
    # Counted per user, threads included, and shared by every worker running as nobody: sized
    # for many workers, a backstop against a fork bomb where seccomp is missing.
    "RLIMIT_NPROC": 4096,
    "RLIMIT_NOFILE": 1024,
    "RLIMIT_FSIZE": 64 * 1024 * 1024,  # bytes; Python ignores SIGXFSZ, so a larger write fails with EFBIG
    "RLIMIT_CORE": 0,
}

# Files every worker may read and write besides its scratch folders.
DEVICES = (Path("/dev/null"),)
# The device files of a GPU, under /dev: a worker that renders with hardware EGL opens them
# (the driver may reopen them after confinement) and drives the GPU through their ioctls.
GPU_DEVICE_PATTERNS = ("dri/card*", "dri/renderD*", "nvidia*", "nvidia-caps/*")

READ = AccessFs.READ_FILE | AccessFs.READ_DIR
WRITE = (
    AccessFs.WRITE_FILE
    | AccessFs.TRUNCATE
    | AccessFs.MAKE_REG
    | AccessFs.MAKE_DIR
    | AccessFs.MAKE_SYM
    | AccessFs.REMOVE_FILE
    | AccessFs.REMOVE_DIR
    | AccessFs.REFER
)
# A rule on a file (not a folder) may only carry rights that apply to files.
FILE_RIGHTS = AccessFs.READ_FILE | AccessFs.WRITE_FILE | AccessFs.TRUNCATE | AccessFs.IOCTL_DEV
DEVICE_RIGHTS = AccessFs.READ_FILE | AccessFs.WRITE_FILE | AccessFs.IOCTL_DEV  # ioctl: Landlock ABI 5 on

# Syscalls that fail with EPERM, by what they would give a program.
DENIED = (
    # starting programs and processes (clone without CLONE_THREAD is handled apart)
    "execve", "execveat", "fork", "vfork",
    # other processes' memory, or a handle on them
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
    # new sockets (the worker keeps the one it was started with)
    "socket", "socketpair",
    # asynchronous I/O that performs opens and socket calls out of the filter's sight
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # namespaces, mounts and the root folder
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "mount_setattr",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
    # kernel interfaces a simulation never needs: attack surface
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "personality", "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "iopl", "ioperm",
    "uselib", "vhangup", "sethostname", "setdomainname", "fanotify_init",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
)  # fmt: skip
CLONE_THREAD = 0x00010000
CLONE_NAMESPACES = (0x00000080, 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # first argument: the target process
TERMINAL_INJECTION = (0x5412, 0x541C)  # TIOCSTI, TIOCLINUX: type into a shared terminal
LOW_32_BITS = 0xFFFFFFFF  # the kernel reads ioctl requests as 32-bit values


class ConfinementError(RuntimeError):
    """Confinement was required (``strict``) and a mechanism is missing, or a step failed."""


@dataclass(frozen=True)
class Confinement:
    """What :func:`confine` applied, for one log line and for tests.

    Attributes:
        user: who the process runs as now, e.g. ``"nobody (65534)"`` or ``"unchanged (not root)"``.
        landlock: e.g. ``"filesystem+network+scopes, ABI 7"`` or ``"unavailable: <reason>"``.
        seccomp: e.g. ``"enforced (79 rules)"`` or ``"unavailable: <reason>"``.
        rlimits: resource name -> the limit now in force (soft and hard).
        missing: the protections that could not be applied, one phrase each.
        devices: device files opened up for reading, writing and ioctls (a GPU's).
    """

    user: str
    landlock: str
    seccomp: str
    rlimits: dict[str, int]
    missing: tuple[str, ...] = field(default=())
    devices: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """Whether every protection is in force."""
        return not self.missing

    def __str__(self) -> str:
        limits = ", ".join(f"{name.removeprefix('RLIMIT_')}={value}" for name, value in self.rlimits.items())
        devices = f"; devices {', '.join(self.devices)}" if self.devices else ""
        return f"user {self.user}; landlock {self.landlock}; seccomp {self.seccomp}; rlimits {limits}{devices}"


def confine(
    read_only: Sequence[Path],
    writable: Sequence[Path],
    strict: bool = False,
    without: Collection[Mechanism] = (),
    devices: Sequence[Path] = (),
    drop_user: bool = True,
) -> Confinement:
    """Confine this process for good: it cannot be undone, and every child would inherit it.

    Where Landlock or seccomp is missing the result says so in ``missing``; with ``strict``
    nothing is changed and :class:`ConfinementError` is raised instead. Point :mod:`tempfile`
    at a writable folder beforehand: the world saves PyBullet state through temporary files.

    Args:
        read_only: files and folders the process may read afterwards (see :func:`runtime_paths`);
            paths that do not exist, or that this process cannot reach, are skipped.
        writable: folders the process may read and write afterwards (its scratch folder). A root
            process hands them, and what is in them, to ``nobody`` before becoming ``nobody``.
        strict: refuse to run with a mechanism missing.
        without: mechanisms to leave out (``"landlock"``, ``"seccomp"``), as if the kernel lacked them.
        devices: device files the process may open for reading and writing and drive with
            ioctls afterwards (:func:`gpu_devices` for hardware rendering); missing ones are skipped.
        drop_user: whether a root process becomes ``nobody``: only for a process that has
            loaded everything it needs (nobody may be unable to read an installation under a
            folder only its owner may enter, such as ``/root``). Where becoming nobody fails,
            the process stays who it is and ``missing`` says so (``strict`` refuses).

    Returns:
        What was applied.

    Raises:
        ConfinementError: with ``strict``, when a mechanism is missing (the process is left
            as it was); or when a step fails (a root process that cannot become nobody, say).
        ValueError: for an unknown mechanism in ``without`` or a writable path that is no folder.
    """
    unknown = set(without) - set(get_args(Mechanism))
    if unknown:
        raise ValueError(f"unknown mechanism(s) {sorted(unknown)}; known: {', '.join(get_args(Mechanism))}")
    for folder in writable:
        if not os.path.isdir(folder):
            raise ValueError(f"writable folder {folder} does not exist")
    try:
        ruleset, landlock, missing = _landlock_ruleset(read_only, writable, devices, "landlock" in without)
    except (OSError, py_landlock.LandlockError) as error:
        raise ConfinementError(f"building the Landlock ruleset failed: {error}") from error
    try:
        seccomp_filter, seccomp, seccomp_missing = _seccomp_filter("seccomp" in without)
        missing += seccomp_missing
        if strict and missing:
            raise ConfinementError(f"refusing to run the worker unconfined: {'; '.join(missing)}")
        rlimits = _lower_rlimits()
        user, failure = _become_nobody(writable) if drop_user else (_unchanged(), None)
        if failure is not None:
            if strict:
                raise ConfinementError(f"refusing to run the worker unconfined: {failure}")
            missing.append(failure)
        _set_no_new_privs()
        if ruleset is not None:
            py_landlock.restrict_self(ruleset, None)
    except (OSError, py_landlock.LandlockError) as error:
        raise ConfinementError(f"confinement failed: {error}") from error
    finally:
        if ruleset is not None:
            os.close(ruleset)
    if seccomp_filter is not None:
        try:
            seccomp_filter.load()
        except OSError as error:
            raise ConfinementError(f"loading the seccomp filter failed: {error}") from error
    granted = tuple(str(device) for device in devices if ruleset is not None and os.path.exists(device))
    return Confinement(user, landlock, seccomp, rlimits, tuple(missing), granted)


def gpu_devices(dev: Path = Path("/dev")) -> list[Path]:
    """The GPU device files present under ``dev`` (DRI cards and render nodes, NVIDIA's nodes).

    Returns:
        Device files (not folders), sorted; empty on a machine without a GPU.
    """
    found = {path for pattern in GPU_DEVICE_PATTERNS for path in dev.glob(pattern)}
    return sorted(path for path in found if not path.is_dir())


def runtime_paths() -> list[Path]:
    """What this interpreter reads code and data from: the read-only allowance for :func:`confine`.

    The Python prefixes (standard library, site-packages), the folder of every loaded module and
    package (editable installs, the package's assets, ``pybullet_data``) and the
    folders of the shared libraries mapped into the process, so that a library loaded later
    from the same place still loads (glibc loads ``libgcc_s`` when a thread is cancelled).
    The current folder and other ``sys.path`` entries are not included unless a module came
    from them.

    Returns:
        Existing paths, none inside another.
    """
    found = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    found.update(_module_folders())
    found.update(_library_folders())
    resolved = sorted({path.resolve() for path in found if path.exists()})
    kept: list[Path] = []
    for path in resolved:  # sorted, so a folder comes before everything inside it
        if not kept or not path.is_relative_to(kept[-1]):
            kept.append(path)
    return kept


def _module_folders() -> Iterator[Path]:
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            yield Path(file).parent
        for folder in getattr(module, "__path__", None) or ():
            if isinstance(folder, str):
                yield Path(folder)


def _library_folders() -> Iterator[Path]:
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].startswith("/") and not parts[5].endswith("(deleted)\n"):
                yield Path(parts[5].rstrip("\n")).parent


def _landlock_ruleset(
    read_only: Sequence[Path], writable: Sequence[Path], devices: Sequence[Path], turned_off: bool
) -> tuple[int | None, str, list[str]]:
    """A Landlock ruleset fd ready to enforce (or None), its description, and what is missing."""
    if turned_off:
        return None, "unavailable: turned off by the caller", ["Landlock turned off by the caller"]
    try:
        abi = py_landlock.get_abi_version()
    except py_landlock.LandlockError as error:
        return None, f"unavailable: {error}", [f"Landlock unavailable: {error}"]
    handled = get_supported_fs(abi)
    attr = py_landlock.RulesetAttr()
    attr.handled_access_fs = handled
    attr.handled_access_net = get_supported_net(abi)  # handled and never granted: no TCP bind or connect
    attr.scoped = get_supported_scope(abi)  # signals and abstract sockets stay inside the worker
    ruleset = py_landlock.create_ruleset(attr)
    try:
        for path in read_only:
            _allow(ruleset, path, READ & handled)
        for path in (*writable, *DEVICES):
            _allow(ruleset, path, (READ | WRITE) & handled)
        for path in devices:
            _allow(ruleset, path, DEVICE_RIGHTS & handled)
    except BaseException:
        os.close(ruleset)
        raise
    parts = "filesystem+network" if abi >= NETWORK_ABI else "filesystem"
    if attr.scoped:
        parts += "+scopes"
    missing = [] if abi >= NETWORK_ABI else [f"Landlock network rules (kernel ABI {abi} < {NETWORK_ABI})"]
    return ruleset, f"{parts}, ABI {abi}", missing


def _allow(ruleset: int, path: Path, access: AccessFs) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except (FileNotFoundError, PermissionError):
        return
    try:
        rule = py_landlock.PathBeneathAttr()
        rule.allowed_access = access if os.path.isdir(fd) else access & FILE_RIGHTS
        rule.parent_fd = fd
        py_landlock.add_rule(ruleset, rule)
    finally:
        os.close(fd)


def _seccomp_filter(turned_off: bool) -> tuple[SyscallFilter | None, str, list[str]]:
    """A seccomp filter ready to load (or None), its description, and what is missing."""
    if turned_off:
        return None, "unavailable: turned off by the caller", ["seccomp turned off by the caller"]
    try:
        import pyseccomp as seccomp  # loads libseccomp, which may be missing
    except (ImportError, OSError, RuntimeError) as error:
        return None, f"unavailable: {error}", [f"seccomp unavailable: {error}"]
    deny, no_such_call = seccomp.ERRNO(errno.EPERM), seccomp.ERRNO(errno.ENOSYS)
    masked = seccomp.MASKED_EQ
    rules = [(deny, name, ()) for name in DENIED]
    rules.append((deny, "clone", (seccomp.Arg(0, masked, CLONE_THREAD, 0),)))  # a process, not a thread
    rules += [(deny, "clone", (seccomp.Arg(0, masked, flag, flag),)) for flag in CLONE_NAMESPACES]
    # clone3 passes its flags in memory the filter cannot read; ENOSYS makes libc fall back to clone.
    rules.append((no_such_call, "clone3", ()))
    rules += [(deny, name, (seccomp.Arg(0, seccomp.NE, os.getpid()),)) for name in SIGNALS]
    rules += [(deny, "ioctl", (seccomp.Arg(1, masked, LOW_32_BITS, request),)) for request in TERMINAL_INJECTION]
    try:
        syscall_filter = seccomp.SyscallFilter(seccomp.ALLOW)
        # A syscall of another ABI (x32, i386 through int 0x80) is no ordinary call: end the process.
        syscall_filter.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
        syscall_filter.set_attr(seccomp.Attr.CTL_TSYNC, 1)  # every thread, OpenBLAS's included
    except OSError as error:
        return None, f"unavailable: {error}", [f"seccomp unavailable: {error}"]
    for action, name, args in rules:
        try:
            syscall_filter.add_rule(action, name, *args)
        except OSError as error:  # a libseccomp older than the syscall
            reason = f"libseccomp cannot filter {name}: {error}"
            return None, f"unavailable: {reason}", [f"seccomp unavailable: {reason}"]
    return syscall_filter, f"enforced ({len(rules)} rules)", []


def _lower_rlimits() -> dict[str, int]:
    """Set soft and hard limits to the cap, or to a lower limit already in force."""
    applied = {}
    for name, cap in RLIMITS.items():
        kind = getattr(resource, name)
        value = min([cap, *(limit for limit in resource.getrlimit(kind) if limit != resource.RLIM_INFINITY)])
        resource.setrlimit(kind, (value, value))
        applied[name] = value
    return applied


def _unchanged() -> str:
    return f"unchanged ({pwd.getpwuid(os.geteuid()).pw_name if os.geteuid() == 0 else 'not root'})"


def _become_nobody(writable: Sequence[Path]) -> tuple[str, str | None]:
    """Who the process is afterwards, and why it could not become nobody (None when it did or need not)."""
    if os.geteuid() != 0:
        return _unchanged(), None
    try:
        name = pwd.getpwuid(NOBODY).pw_name
    except KeyError:
        name = "unnamed user"
    try:
        for folder in writable:
            _hand_over(folder)
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    except OSError as error:  # a user namespace that does not map nobody, say
        return _unchanged(), f"an unprivileged user (becoming nobody failed: {error})"
    return f"{name} ({NOBODY})", None


def _hand_over(folder: Path) -> None:
    """Give ``folder`` and everything in it to nobody, never following a link."""
    os.chown(folder, NOBODY, NOBODY, follow_symlinks=False)
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            os.chown(os.path.join(parent, name), NOBODY, NOBODY, follow_symlinks=False)


def _set_no_new_privs() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(code)}")
