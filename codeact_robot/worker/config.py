"""Settings of an episode worker: perception, rendering, limits, skill library."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from codeact_robot.envs.rendering import RENDERER_MODES
from codeact_robot.sandbox.limits import Limits

CAMERAS = ("front", "top")


class WorkerConfig(BaseModel):
    """How an episode worker sets up its world and sandbox.

    Attributes:
        perception: ``"state"`` or ``"vision"``.
        camera_size: (width, height) of every camera image.
        renderer: ``"auto"``, ``"tiny"`` or ``"egl"``.
        limits: per-action limits.
        images: cameras whose RGB image comes back after every action.
        video_fps: when set, front-camera frames at this rate (simulated time) come back too.
        skill_library: folder of learned skills to load and save to; None for none.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    perception: str = "state"
    camera_size: tuple[int, int] = (320, 240)
    renderer: str = "auto"
    limits: Limits = Field(default_factory=Limits)
    images: tuple[str, ...] = ("front",)
    video_fps: float | None = None
    skill_library: str | None = None

    @field_validator("perception")
    @classmethod
    def _perception(cls, value: str) -> str:
        if value not in ("state", "vision"):
            raise ValueError(f"perception must be 'state' or 'vision', got {value!r}")
        return value

    @field_validator("renderer")
    @classmethod
    def _renderer(cls, value: str) -> str:
        if value not in RENDERER_MODES:
            raise ValueError(f"renderer must be one of {', '.join(RENDERER_MODES)}, got {value!r}")
        return value

    @field_validator("images")
    @classmethod
    def _images(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [c for c in value if c not in CAMERAS]
        if unknown:
            raise ValueError(f"unknown camera(s) {', '.join(unknown)}; cameras are: {', '.join(CAMERAS)}")
        return value

    @field_validator("camera_size")
    @classmethod
    def _size(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not (16 <= value[0] <= 4096 and 16 <= value[1] <= 4096):
            raise ValueError(f"camera_size must be between 16 and 4096 pixels per side, got {value}")
        return value
