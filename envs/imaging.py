"""How the world's images are made, as plain values: renderers and the default image size.

The simulation modules and the settings that configure them (``EnvConfig``) read these;
importing this module loads no simulator.
"""

from __future__ import annotations

from typing import Literal, get_args

RendererMode = Literal["auto", "tiny", "egl"]
"""``auto`` (EGL on a hardware GPU, else TinyRenderer), ``tiny`` or ``egl``."""

RENDERER_MODES: tuple[str, ...] = get_args(RendererMode)
DEFAULT_RENDERER: RendererMode = "auto"
IMAGE_SIZE: tuple[int, int] = (320, 240)
"""(width, height) of camera images, in pixels."""
CAMERA_CAPTIONS = {
    "front": "the front camera, across the table, facing the robot: the robot's left is on the image's right, "
    "the far edge of the table (+x) at the image's bottom",
    "top": "the top camera, looking straight down: the image's top is the far edge of the table (+x), "
    "its left the robot's left (+y)",
}
"""What each of the agent's camera images shows, and how its left and right relate to the robot's."""
