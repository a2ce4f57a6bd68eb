"""Files a command writes: checked before any work starts, written so that one failure loses nothing else."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from codeact_robot.errors import UsageError

VIDEO_FPS = 10
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi")
STILL_S = 1.0
"""How long a video shows the first and the last scene."""


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


class Video:
    """The frames of an episode's video: the first scene, the motion of every action, the last scene.

    The first and last scenes are held still for ``STILL_S`` so that a viewer sees them;
    an episode in which nothing moved still gives a video of its scene.
    """

    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def still(self, image: np.ndarray) -> None:
        """A scene shown for ``STILL_S`` (the start or the end)."""
        self.frames.extend([image] * round(STILL_S * VIDEO_FPS))

    def motion(self, frames: list[np.ndarray]) -> None:
        """Frames recorded while an action ran."""
        self.frames.extend(frames)

    def write(self, path: Path) -> Path:
        """Encode the frames as H.264 at ``VIDEO_FPS`` into ``path`` (its folders are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(path, [_even(frame) for frame in self.frames], fps=VIDEO_FPS, codec="libx264", macro_block_size=1)
        return path


def _even(frame: np.ndarray) -> np.ndarray:
    """The frame padded to even width and height (H.264's 4:2:0 colour needs them), edge pixels repeated."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return frame
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def save_images(folder: Path, turn: int, images: dict[str, Any]) -> list[Path]:
    """Write each camera's image after a turn as ``turnNN_<camera>.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for camera, rgb in images.items():
        path = folder / f"turn{turn:02d}_{camera}.png"
        iio.imwrite(path, rgb)
        paths.append(path)
    return paths
