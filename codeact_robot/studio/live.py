"""The studio's camera view: the scene drawn from the poses the simulator sends, in a process of its own.

While an action runs, the simulator sends the scene's pose a few times a second (reading
a pose costs a fraction of a millisecond; drawing it would cost the action the drawing
time). Here a second episode slot, which only draws, turns the newest pose into a frame
with the episode's own video cameras (``WorkerClient.render``); poses that come while
a frame is being drawn are skipped, so the view keeps up with the action whatever the
drawing costs, and the action is never held up by it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import imageio.v3 as iio
import numpy as np

from codeact_robot.worker.client import WorkerClient, WorkerCrashed
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import ScenePose

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
FRAME_WAIT_S = 15.0  # how long a request for the next frame waits before it gets the current one
VIEWS = ("front", "top", "both")
ROBOT_LEFT = {
    "front": "the robot's left is on the image's left, as the camera looks over the robot's right shoulder",
    "top": "the robot's left is on the image's left, with the robot at the bottom looking up the image",
}
"""Which way the robot's left (+y) is in each view's image (``envs/camera.py`` places the cameras)."""


class LiveFrames:
    """The newest frame of the view, numbered, for the pages that wait for the next one."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._frame: np.ndarray | None = None
        self._number = 0
        self._jpeg: tuple[int, bytes] | None = None
        self.live = 0  # frames drawn from live poses (while actions ran)

    def put(self, rgb: np.ndarray, live: bool) -> None:
        """A new frame (``live``: drawn while an action ran)."""
        with self._changed:
            self._frame = rgb
            self._number += 1
            self.live += live
            self._changed.notify_all()

    def after(self, seen: int, wait_s: float = FRAME_WAIT_S) -> tuple[int, bytes] | None:
        """The first frame newer than number ``seen`` (waiting for it up to ``wait_s``), as JPEG.

        Returns:
            Its number and its JPEG bytes, or None when none came in time.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: self._number > seen, timeout=wait_s):
                return None
            number, rgb, cached = self._number, self._frame, self._jpeg
        assert rgb is not None
        if cached is not None and cached[0] == number:
            return cached
        jpeg = iio.imwrite("<bytes>", rgb, extension=".jpeg", quality=JPEG_QUALITY)
        with self._changed:
            self._jpeg = (number, jpeg)
        return number, jpeg


@dataclass(frozen=True)
class _Job:
    """What to draw: a pose of the scene with the given key (its world state, to lay it out), in a view."""

    view: str
    scene: str
    state: dict[str, Any]
    pose: ScenePose
    live: bool


class LiveRenderer:
    """Draws the newest pose of the scene in a thread of its own, with a drawing slot of its own.

    Args:
        config: the episode's settings (renderer, camera size); the view chooses the video cameras.
        frames: where the frames go.
    """

    def __init__(self, config: EnvConfig, frames: LiveFrames) -> None:
        self.config = config
        self.frames = frames
        self._wanted: _Job | None = None
        self._changed = threading.Condition()
        self._closed = False
        self._slot: tuple[str, WorkerClient] | None = None  # (view, slot)
        self._laid_out = ""  # the key of the scene the slot holds
        self._thread = threading.Thread(target=self._draw_forever, name="studio-live-view", daemon=True)
        self._thread.start()

    def show(self, view: str, scene: str, state: dict[str, Any], pose: ScenePose, live: bool = False) -> None:
        """Draw ``pose`` of the scene ``scene`` (laid out from ``state`` when the slot holds another) next.

        Args:
            view: ``front``, ``top`` or ``both``.
            scene: names the scene (its objects); a new name lays it out first.
            state: the scene's world state.
            pose: where everything is now.
            live: whether it comes from a running action.
        """
        with self._changed:
            self._wanted = _Job(view, scene, state, pose, live)
            self._changed.notify_all()

    def close(self) -> None:
        """Stop drawing and end the slot."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._thread.join()
        if self._slot is not None:
            self._slot[1].close()

    def _draw_forever(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closed or self._wanted is not None)
                if self._closed:
                    return
                job, self._wanted = self._wanted, None
            assert job is not None
            try:
                self.frames.put(self._draw(job), job.live)
            except WorkerCrashed as crash:  # the next pose starts a fresh slot
                log.warning("the studio's camera view could not draw: %s", crash)
                self._drop_slot()

    def _draw(self, job: _Job) -> np.ndarray:
        if self._slot is None or self._slot[0] != job.view:
            self._drop_slot()
            settings = {"video_fps": self.config.video_fps or 10, "video_camera": job.view, "skills_top_k": 0}
            self._slot = (job.view, WorkerClient(self.config.with_overrides(settings, "the camera view's settings")))
        slot = self._slot[1]
        if self._laid_out != job.scene:
            slot.restore(job.state)
            self._laid_out = job.scene
        return slot.render([job.pose])[0]

    def _drop_slot(self) -> None:
        if self._slot is not None:
            self._slot[1].close()
        self._slot, self._laid_out = None, ""
