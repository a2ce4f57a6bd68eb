"""Files a command writes: checked before any work starts, written so that one failure loses nothing else."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import imageio.v3 as iio

from codeact_robot.agent.trajectory import read_trajectory
from codeact_robot.errors import UsageError

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi")


def writable_file(path: str | Path, what: str) -> Path:
    """``path``, once it is sure that a file can be written there; nothing is created yet.

    Args:
        path: the file to write later (its missing folders are created then).
        what: what it is, for the error ("the trajectory", "the video").

    Raises:
        UsageError: the place cannot be written, or is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"cannot write {what} to {path}: it is a folder; give a file name")
    if path.exists() and not path.is_file():  # a pipe or a device would block or swallow the output
        raise UsageError(f"cannot write {what} to {path}: it is not a regular file")
    try:
        _check_folder(path.parent)
        if path.exists():
            path.open("a").close()
    except OSError as error:
        raise UsageError(f"cannot write {what} to {path}: {_reason(error)}") from None
    return path


def writable_folder(path: str | Path, what: str) -> Path:
    """``path``, once it is sure that files can be written into it; nothing is created yet.

    Raises:
        UsageError: naming the folder and why.
    """
    path = Path(path)
    try:
        _check_folder(path)
    except OSError as error:
        raise UsageError(f"cannot write {what} to {path}: {_reason(error)}") from None
    return path


def _check_folder(folder: Path) -> None:
    """Write a temporary file into the nearest folder of ``folder`` that exists (``os.access`` says yes to root)."""
    existing = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise NotADirectoryError(0, "is a file, not a folder", str(existing))
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise OSError(error.errno, "no files can be written there", str(existing)) from None


def _reason(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{(error.strerror or str(error)).lower()}"


def video_file(path: str | Path) -> Path:
    """A writable video path with a container the encoder can write.

    Raises:
        UsageError: another suffix, or an unwritable place.
    """
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"a video file must end in {', '.join(VIDEO_SUFFIXES)}, got {path.name!r}")
    return writable_file(path, "the video")


def save_images(folder: Path, turn: int, images: dict[str, Any]) -> list[Path]:
    """Write each camera's image after a turn as ``turnNN_<camera>.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for camera, rgb in images.items():
        path = folder / f"turn{turn:02d}_{camera}.png"
        iio.imwrite(path, rgb)
        paths.append(path)
    return paths


def trajectory_file(path: str | Path) -> Path:
    """A writable place for a trajectory: a new file, or a trajectory file to add the episode to.

    Raises:
        UsageError: an unwritable place, or an existing file that holds something else.
    """
    path = writable_file(path, "the trajectory")
    if path.is_file() and path.stat().st_size:
        try:
            read_trajectory(path)
        except UsageError:
            raise UsageError(
                f"{path} holds something other than trajectories, and a run adds its episode to the file: "
                "give a new file name"
            ) from None
    return path
