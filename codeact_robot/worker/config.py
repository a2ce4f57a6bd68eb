"""Settings of an episode worker: the environment settings plus what comes back per action."""

from __future__ import annotations

from typing import Literal

from codeact_robot.config import EnvConfig


class WorkerConfig(EnvConfig):
    """How an episode worker sets up its world and sandbox.

    Attributes:
        images: cameras whose RGB image comes back after every action.
        video_fps: when set, front-camera frames at this rate (simulated time) come back too.
    """

    images: tuple[Literal["front", "top"], ...] = ("front",)
    video_fps: float | None = None
