"""An episode's video as a person watches it: the task and the turn drawn on every frame.

While the episode runs, only the scene's poses are kept (``info["poses"]``, a few kB per
simulated second); a video that is kept is drawn at the end: the worker renders the poses
a chunk at a time, each frame is drawn under a caption band that says which turn it
belongs to and what the task is (the instruction, wrapped to the frame), and goes straight
to the H.264 encoder (an ffmpeg process). Memory holds one chunk of frames, never an
episode's, and an episode whose video is not kept renders nothing.

A scene narrower than ``MIN_WIDTH`` pixels is drawn at a whole multiple of its size, so
the text is sharp at the default 320x240.
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from imageio_ffmpeg import get_ffmpeg_exe
from PIL import Image, ImageDraw, ImageFont

from codeact_robot.agent.session import Session
from codeact_robot.agent.trajectory import TurnRecord
from codeact_robot.worker.protocol import MAX_RENDER_POSES

VIDEO_FPS = 10
START_S = 1.0  # the first scene, before any action
TURN_S = 0.5  # each turn shows at least this long, so that its number can be read
END_S = 2.0  # the last scene, with the verdict
MIN_WIDTH = 640  # pixels: narrower scenes are drawn 2x (3x, 4x) so the caption is sharp
MAX_SCALE = 4
MAX_INSTRUCTION_LINES = 3
MAX_INSTRUCTION_CHARS = 600  # far more than three lines hold at any size
FONT_PER_WIDTH = 1 / 36  # font size (pixels) per canvas pixel of width: 18 px at 640

BAND = (28, 30, 36)
TEXT = (238, 238, 238)
LABEL = (255, 196, 64)
SOLVED = (110, 214, 120)
NOT_SOLVED = (246, 110, 100)
Colour = tuple[int, int, int]


class VideoFailed(Exception):
    """The video could not be written (the encoder failed, the disk is full ...)."""


class Caption:
    """Draws frames of one size under a band with a label and the instruction.

    Args:
        instruction: the task as the agent was told it.
        frame_size: (width, height) of the frames.
    """

    def __init__(self, instruction: str, frame_size: tuple[int, int]) -> None:
        width, height = frame_size
        self.frame_size = frame_size
        self.scale = min(MAX_SCALE, max(1, math.ceil(MIN_WIDTH / width)))
        scene_width, scene_height = width * self.scale, height * self.scale
        font_px = max(10, round(scene_width * FONT_PER_WIDTH))
        self.font = ImageFont.load_default(size=font_px)
        self.margin = font_px // 2
        self.line_px = round(font_px * 1.3)
        shown = " ".join(instruction[: MAX_INSTRUCTION_CHARS + 1].split())  # more could never be shown
        self.lines = wrap(shown, self.font, scene_width - 2 * self.margin)
        self.band_px = _even(2 * self.margin + self.line_px * (1 + len(self.lines)))
        self.size = (_even(scene_width), self.band_px + _even(scene_height))
        self._bands: dict[tuple[str, Colour], np.ndarray] = {}

    def draw(self, frame: np.ndarray, label: str, colour: Colour = LABEL) -> np.ndarray:
        """The frame, scaled, under the band with ``label`` (in ``colour``) and the instruction.

        Returns:
            (height, width, 3) uint8 image of :attr:`size`, both sides even.
        """
        if frame.shape[:2] != self.frame_size[::-1]:
            raise ValueError(f"a video frame is {frame.shape[1]}x{frame.shape[0]}; expected {self.frame_size}")
        width, height = self.size
        scene = frame
        if self.scale > 1:
            size = (frame.shape[1] * self.scale, frame.shape[0] * self.scale)
            scene = np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BICUBIC))
        below, right = height - self.band_px - scene.shape[0], width - scene.shape[1]
        if below or right:  # odd sides: the edge pixels repeated
            scene = np.pad(scene, ((0, below), (0, right), (0, 0)), mode="edge")
        return np.concatenate([self._band(label, colour), scene], axis=0)

    def _band(self, label: str, colour: Colour) -> np.ndarray:
        key = (label, colour)
        if key not in self._bands:
            band = Image.new("RGB", (self.size[0], self.band_px), BAND)
            draw = ImageDraw.Draw(band)
            draw.text((self.margin, self.margin), label, font=self.font, fill=colour)
            for index, line in enumerate(self.lines, start=1):
                draw.text((self.margin, self.margin + index * self.line_px), line, font=self.font, fill=TEXT)
            self._bands[key] = np.asarray(band)
        return self._bands[key]


def wrap(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels, at most ``MAX_INSTRUCTION_LINES`` (cut with "…")."""
    lines: list[str] = []
    words = text.split(" ") if text else []
    while words and len(lines) < MAX_INSTRUCTION_LINES:
        line = words.pop(0)
        while font.getlength(line) > width and len(line) > 1:  # a word wider than the frame is split
            cut = _fitting(line, font, width)
            lines.append(line[:cut])
            line = line[cut:]
        while words and font.getlength(f"{line} {words[0]}") <= width:
            line = f"{line} {words.pop(0)}"
        lines.append(line)
    if words or len(lines) > MAX_INSTRUCTION_LINES:
        last = lines[MAX_INSTRUCTION_LINES - 1]
        while last and font.getlength(last + " …") > width:
            last = last[:-1]
        lines[MAX_INSTRUCTION_LINES - 1 :] = [last.rstrip() + " …"]
    return lines


def _fitting(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: float) -> int:
    """How many leading characters of ``text`` fit in ``width`` pixels (at least one)."""
    low, high = 1, len(text)  # low always fits (or is the one character a line must take)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if font.getlength(text[:middle]) <= width else (low, middle - 1)
    return low


def _even(pixels: int) -> int:
    """H.264's 4:2:0 colour needs even sides."""
    return pixels + pixels % 2


class _Encoder:
    """An ffmpeg process that encodes RGB frames from its stdin as H.264 into a file.

    Raises:
        VideoFailed: the encoder did not start.
    """

    def __init__(self, path: Path, size: tuple[int, int]) -> None:
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115  (lives as long as the process)
        command = [
            get_ffmpeg_exe(),
            *("-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24"),
            *("-s", f"{size[0]}x{size[1]}", "-r", str(VIDEO_FPS), "-i", "-", "-an"),
            *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "23"),
            *("-movflags", "+faststart"),  # the index first: a browser plays it while it loads
            str(path),
        ]
        try:
            # A session of its own: a Ctrl-C at the terminal is the program's to handle.
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors, start_new_session=True
            )
        except OSError as error:
            self._errors.close()
            raise VideoFailed(f"the encoder did not start: {error}") from None

    def write(self, frame: np.ndarray) -> None:
        """Encode one frame.

        Raises:
            VideoFailed: the encoder stopped (its own account of why).
        """
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(np.ascontiguousarray(frame).data)
        except OSError:  # a broken pipe: ffmpeg has exited
            self.finish()
            raise VideoFailed("the encoder stopped before the video was complete") from None

    def finish(self) -> None:
        """Finish the file.

        Raises:
            VideoFailed: ffmpeg reported an error.
        """
        assert self._process.stdin is not None
        with contextlib.suppress(OSError):  # a process gone already: its status says why
            self._process.stdin.close()
        code = self._process.wait()
        self._errors.seek(0)
        said = self._errors.read().decode(errors="replace").strip().splitlines()
        self._errors.close()
        if code != 0:
            raise VideoFailed(said[-1] if said else f"the encoder exited with status {code}")

    def kill(self) -> None:
        """Stop the encoder without finishing the file."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._errors.close()


@dataclass(frozen=True)
class _Part:
    """A stretch of the video under one label: the poses to draw, shown for at least ``least`` frames."""

    label: str
    colour: Colour
    poses: Sequence[Any]
    least: int


Renderer = Callable[[Sequence[Any]], list[np.ndarray]]
"""Draws poses as frames, one per pose (``CodeActEnv.render_video``)."""


class EpisodeVideo:
    """One episode's video: the poses of each turn gathered while it runs, drawn at the end.

    The first scene shows for ``START_S``, each turn's motion follows under its number
    (its last frame held to at least ``TURN_S``), and the last scene shows for ``END_S``
    with the verdict. Nothing is rendered or encoded before :meth:`write`.

    Args:
        frame_size: (width, height) of the frames (``EnvConfig.video_size``).
    """

    def __init__(self, frame_size: tuple[int, int]) -> None:
        self.frame_size = frame_size
        self.frames = 0
        self._instruction = ""
        self._max_turns = 0
        self._parts: list[_Part] = []

    def start(self, instruction: str, max_turns: int, poses: Sequence[Any]) -> None:
        """Begin with the scene before the first action.

        Args:
            instruction: the task as the agent was told it, drawn on every frame.
            max_turns: the episode's turn budget, for the turn labels.
            poses: the reset's ``info["poses"]`` (the last one is the scene).
        """
        self._instruction, self._max_turns = instruction, max_turns
        if poses:
            self._parts.append(_Part("Start", LABEL, poses[-1:], round(START_S * VIDEO_FPS)))

    def turn(self, turn: int, poses: Sequence[Any]) -> None:
        """The poses recorded while turn ``turn`` ran (none for a turn that ran no code)."""
        if poses:
            label = f"Turn {turn} of {self._max_turns}"
            self._parts.append(_Part(label, LABEL, tuple(poses), round(TURN_S * VIDEO_FPS)))

    def end(self, success: bool, outcome: str) -> None:
        """The last scene with the verdict (``outcome`` says how a failed episode ended)."""
        label, colour = ("End: solved", SOLVED) if success else (f"End: not solved ({_words(outcome)})", NOT_SOLVED)
        self._parts.append(_Part(label, colour, (), round(END_S * VIDEO_FPS)))

    def write(self, path: Path, render: Renderer) -> Path:
        """Draw the video into ``path`` (an .mp4 or another container ffmpeg knows; its folder must exist).

        Args:
            path: the file to write.
            render: draws poses as frames, at most ``MAX_RENDER_POSES`` at a time.

        Returns:
            ``path``.

        Raises:
            VideoFailed: the video could not be made (nothing is left at ``path``).
        """
        if not any(part.poses for part in self._parts):
            raise VideoFailed("the episode recorded no frames")
        caption = Caption(self._instruction, self.frame_size)
        encoder = _Encoder(path, caption.size)
        try:
            last: np.ndarray | None = None
            for part in self._parts:
                shown = 0
                for start in range(0, len(part.poses), MAX_RENDER_POSES):
                    for last in _drawn(render, part.poses[start : start + MAX_RENDER_POSES]):
                        encoder.write(caption.draw(last, part.label, part.colour))
                        shown += 1
                if last is not None:  # the part's last scene held (the end: the episode's last scene)
                    held = caption.draw(last, part.label, part.colour)
                    for _ in range(part.least - shown):
                        encoder.write(held)
                    shown = max(shown, part.least)
                self.frames += shown
            encoder.finish()
        except BaseException:
            encoder.kill()
            _remove(path)
            raise
        return path


class VideoRecorder:
    """Records a session's video as it runs: the scene after the reset, the motion of each turn that ran code.

    Call :meth:`start` once ``session.start`` has returned and :meth:`turn` from the
    session's turn callback; :meth:`write` draws the video with the verdict at the end.

    Args:
        session: the episode's session (its environment draws the frames).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.video = EpisodeVideo(session.env.config.video_size)

    def start(self) -> None:
        """Begin with the scene the reset laid out."""
        info = self.session.info
        self.video.start(info["instruction"], info["max_turns"], info.get("poses", ()))

    def turn(self, record: TurnRecord) -> None:
        """Add a finished turn's motion (a turn that ran no code moved nothing)."""
        if record.code is not None:
            self.video.turn(record.turn, self.session.info.get("poses", ()))

    def write(self, path: Path) -> Path:
        """End with the episode's verdict and draw the video into ``path`` (see :meth:`EpisodeVideo.write`).

        Raises:
            VideoFailed: the video could not be made (nothing is left at ``path``).
        """
        record = self.session.record
        assert record is not None, "the session has not started"
        self.video.end(record.success, record.outcome)
        return self.video.write(path, self.session.env.render_video)


def _drawn(render: Renderer, poses: Sequence[Any]) -> list[np.ndarray]:
    """The frames of ``poses``; a failure to draw them is the video's failure."""
    try:
        frames = render(poses)
    except RuntimeError as error:  # the worker could not draw them (WorkerCrashed)
        raise VideoFailed(f"the frames could not be drawn: {error}") from None
    if len(frames) != len(poses):
        raise VideoFailed(f"{len(poses)} poses were drawn as {len(frames)} frames")
    return frames


def _remove(path: Path) -> None:
    """Remove the file at ``path``, if there is one (a folder or an unremovable file is left as it is)."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _words(outcome: str) -> str:
    return outcome.replace("_", " ")
