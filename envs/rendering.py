"""Renderer choice: PyBullet's TinyRenderer (CPU) or the EGL plugin (OpenGL, GPU)."""

from __future__ import annotations

import contextlib
import functools
import os
import pkgutil
from typing import Any

import numpy as np

from codeact_robot.envs.bullet import pybullet
from codeact_robot.envs.cstdout import captured_c_output
from codeact_robot.envs.imaging import DEFAULT_RENDERER, RENDERER_MODES, RendererMode
from codeact_robot.errors import UsageError

SOFTWARE_GL = ("llvmpipe", "softpipe", "swrast", "software")


class Renderer:
    """Renders camera images for one PyBullet client.

    ``mode="auto"`` uses the EGL plugin when it loads on a hardware GPU and
    TinyRenderer otherwise (software OpenGL through EGL is not faster at the default
    320x240; see ``benchmarks/RESULTS.md``). ``"egl"`` forces the plugin (and fails
    if it does not load); ``"tiny"`` forces TinyRenderer.

    Args:
        client: the PyBullet client to render.
        mode: ``"auto"``, ``"tiny"`` or ``"egl"``.
    """

    def __init__(self, client: Any, mode: RendererMode = DEFAULT_RENDERER) -> None:
        if mode not in RENDERER_MODES:
            raise UsageError(f"unknown renderer {mode!r}; renderers are: {', '.join(RENDERER_MODES)}")
        self.client = client
        self._plugin: int | None = None
        self.kind = "tiny"
        self.gl_renderer = ""
        if mode == "egl" or (mode == "auto" and egl_is_hardware()):
            self._plugin, self.gl_renderer = _load_egl(client)
            if self._plugin is None:
                raise UsageError("the EGL renderer plugin did not load on this machine; use renderer='tiny'")
            self.kind = "egl"

    def render(
        self, width: int, height: int, view_matrix: Any, projection_matrix: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Render one view.

        Returns:
            (rgba uint8 (H, W, 4), OpenGL depth buffer float (H, W), segmentation int (H, W)).
        """
        if self.kind == "egl":
            with captured_c_output():  # the plugin reports its GL context after every reset
                image = self._render(width, height, view_matrix, projection_matrix, pybullet.ER_BULLET_HARDWARE_OPENGL)
        else:
            image = self._render(width, height, view_matrix, projection_matrix, pybullet.ER_TINY_RENDERER)
        _, _, rgba, depth, segmentation = image
        return (
            np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4),
            np.asarray(depth, dtype=np.float64).reshape(height, width),
            np.asarray(segmentation, dtype=np.int64).reshape(height, width),
        )

    def _render(self, width: int, height: int, view_matrix: Any, projection_matrix: Any, renderer: int) -> Any:
        return self.client.getCameraImage(
            width,
            height,
            viewMatrix=view_matrix,
            projectionMatrix=projection_matrix,
            renderer=renderer,
            flags=pybullet.ER_SEGMENTATION_MASK_OBJECT_AND_LINKINDEX,
        )

    def close(self) -> None:
        """Unload the EGL plugin if loaded; safe to call twice."""
        if self._plugin is not None:
            with contextlib.suppress(pybullet.error), captured_c_output():
                self.client.unloadPlugin(self._plugin)
            self._plugin = None
            self.kind = "tiny"


def _load_egl(client: Any) -> tuple[int | None, str]:
    """Load the EGL plugin into ``client``: (plugin id or None, the OpenGL renderer's name)."""
    loader = pkgutil.get_loader("eglRenderer")
    if loader is None:
        return None, ""
    with captured_c_output() as output:
        plugin = client.loadPlugin(loader.get_filename(), "_eglRendererPlugin")
    name = ""
    for line in output[0].splitlines():
        if line.strip().lower().startswith("renderer"):
            name = line.split("=", 1)[-1].strip()
    return (plugin if plugin >= 0 else None), name


GPU_DEVICES = ("/dev/nvidia0", "/dev/dri")


@functools.cache
def egl_is_hardware() -> bool:
    """Whether EGL loads here on a GPU (probed once per process in a throwaway client).

    Without a GPU device node the probe is skipped: EGL could only run in software. A
    client that has unloaded the plugin renders blank TinyRenderer images, so the probe
    never touches the client that will render.
    """
    from pybullet_utils.bullet_client import BulletClient

    if not any(os.path.exists(device) for device in GPU_DEVICES):
        return False
    with captured_c_output():
        probe = BulletClient(connection_mode=pybullet.DIRECT)
    try:
        plugin, name = _load_egl(probe)
        return plugin is not None and not any(word in name.lower() for word in SOFTWARE_GL)
    finally:
        with contextlib.suppress(pybullet.error), captured_c_output():
            probe.disconnect()
