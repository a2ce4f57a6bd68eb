"""Pinhole cameras: RGB, metric depth, segmentation, intrinsics and extrinsics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from codeact_robot.envs.imaging import IMAGE_SIZE
from codeact_robot.envs.rendering import Renderer

NEAR = 0.05
FAR = 4.0


@dataclass(frozen=True)
class CameraConfig:
    """Where a camera is and what it sees.

    Attributes:
        name: camera name (``"front"``, ``"top"``).
        eye: camera position in the world, metres.
        target: the point it looks at.
        up: world direction that appears upwards in the image.
        fov: vertical field of view in degrees.
        width: image width in pixels.
        height: image height in pixels.
    """

    name: str
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float]
    fov: float
    width: int = IMAGE_SIZE[0]
    height: int = IMAGE_SIZE[1]

    def resized(self, width: int, height: int) -> CameraConfig:
        """The same camera at another resolution."""
        return replace(self, width=width, height=height)


DEFAULT_CAMERAS = (
    # Across the table from the robot, looking back at it from above.
    CameraConfig("front", eye=(1.1, 0.0, 0.6), target=(0.45, 0.0, 0.0), up=(0.0, 0.0, 1.0), fov=55.0),
    # Straight down; image top is the far edge (+x), image left the robot's left (+y).
    CameraConfig("top", eye=(0.45, 0.0, 1.0), target=(0.45, 0.0, 0.0), up=(1.0, 0.0, 0.0), fov=30.0),
)

VIDEO_CAMERA = CameraConfig("video", eye=(-0.45, -0.75, 1.45), target=(0.42, 0.0, 0.24), up=(0.0, 0.0, 1.0), fov=42.0)
"""For people watching videos, not for the agent: behind the robot and above its right shoulder,
looking over the table, so that the robot's left (+y) is on the image's left as in the
instructions, and the raised arm stays in the picture."""


@dataclass
class CameraFrame:
    """One rendered view.

    Attributes:
        rgb: (H, W, 3) uint8 colour image.
        depth: (H, W) float32 distance along the optical axis, metres.
        segmentation: (H, W) int32 PyBullet body id per pixel (-1 for background).
        intrinsics: 3x3 pinhole matrix K (pixels).
        extrinsics: 4x4 camera-to-world transform, OpenCV convention (x right, y down, z forward).
    """

    rgb: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray
    intrinsics: np.ndarray
    extrinsics: np.ndarray = field(repr=False)

    def backproject(self, pixels: np.ndarray, depths: np.ndarray | None = None) -> np.ndarray:
        """World points seen at pixel coordinates.

        Args:
            pixels: (N, 2) array of (u, v) = (column, row) coordinates.
            depths: (N,) depths in metres; read from the depth image when omitted.

        Returns:
            (N, 3) world points in metres.
        """
        pixels = np.asarray(pixels, dtype=float).reshape(-1, 2)
        if depths is None:
            rows = np.clip(pixels[:, 1].round().astype(int), 0, self.depth.shape[0] - 1)
            cols = np.clip(pixels[:, 0].round().astype(int), 0, self.depth.shape[1] - 1)
            depths = self.depth[rows, cols]
        return backproject(pixels, np.asarray(depths, dtype=float), self.intrinsics, self.extrinsics)

    def point_cloud(self) -> np.ndarray:
        """(H, W, 3) world point for every pixel."""
        h, w = self.depth.shape
        cols, rows = np.meshgrid(np.arange(w), np.arange(h))
        pixels = np.stack([cols.ravel(), rows.ravel()], axis=1)
        points = backproject(pixels, self.depth.ravel().astype(float), self.intrinsics, self.extrinsics)
        return points.reshape(h, w, 3)

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel coordinates (u, v) of world points, shape (N, 2)."""
        points = np.asarray(points, dtype=float).reshape(-1, 3)
        world_to_camera = np.linalg.inv(self.extrinsics)
        camera = points @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]
        uvw = camera @ self.intrinsics.T
        return uvw[:, :2] / uvw[:, 2:3]


def backproject(pixels: np.ndarray, depths: np.ndarray, intrinsics: np.ndarray, extrinsics: np.ndarray) -> np.ndarray:
    """World points for (u, v) pixels at given depths (pixel centres at integer coordinates)."""
    fx, fy, cx, cy = intrinsics[0, 0], intrinsics[1, 1], intrinsics[0, 2], intrinsics[1, 2]
    x = (pixels[:, 0] - cx) / fx * depths
    y = (pixels[:, 1] - cy) / fy * depths
    camera = np.stack([x, y, depths], axis=1)
    return camera @ extrinsics[:3, :3].T + extrinsics[:3, 3]


class Camera:
    """Renders a :class:`CameraConfig` with a renderer of one simulation.

    Args:
        config: the camera's placement and resolution.
        renderer: the renderer bound to the simulation.
    """

    def __init__(self, config: CameraConfig, renderer: Renderer) -> None:
        self.config = config
        self.renderer = renderer
        client = renderer.client
        self.view_matrix = client.computeViewMatrix(config.eye, config.target, config.up)
        self.projection_matrix = client.computeProjectionMatrixFOV(config.fov, config.width / config.height, NEAR, FAR)
        self.intrinsics = intrinsics(config)
        self.extrinsics = extrinsics(config)

    def render(self) -> CameraFrame:
        """Render RGB, metric depth and segmentation from the current scene."""
        c = self.config
        rgba, depth_buffer, segmentation = self.renderer.render(
            c.width, c.height, self.view_matrix, self.projection_matrix
        )
        depth = FAR * NEAR / (FAR - (FAR - NEAR) * depth_buffer)
        # PyBullet encodes link index in the high bits of the mask; keep the body id.
        body_ids = np.where(segmentation >= 0, segmentation & ((1 << 24) - 1), -1)
        return CameraFrame(
            rgb=np.ascontiguousarray(rgba[:, :, :3]),
            depth=depth.astype(np.float32),
            segmentation=body_ids.astype(np.int32),
            intrinsics=self.intrinsics,
            extrinsics=self.extrinsics,
        )


def intrinsics(config: CameraConfig) -> np.ndarray:
    """Pinhole matrix K of a camera (square pixels), for pixel coordinates as PyBullet returns them."""
    f = (config.height / 2) / math.tan(math.radians(config.fov) / 2)
    # Measured: PyBullet puts the optical axis at column W/2 and one row above H/2.
    return np.array([[f, 0.0, config.width / 2], [0.0, f, config.height / 2 - 1], [0.0, 0.0, 1.0]])


def extrinsics(config: CameraConfig) -> np.ndarray:
    """4x4 camera-to-world transform in the OpenCV convention (x right, y down, z forward)."""
    eye, target, up = (np.asarray(v, dtype=float) for v in (config.eye, config.target, config.up))
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    transform = np.eye(4)
    transform[:3, 0], transform[:3, 1], transform[:3, 2], transform[:3, 3] = right, down, forward, eye
    return transform
