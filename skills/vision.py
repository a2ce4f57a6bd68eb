"""Vision skills: camera images, their calibration, and an OpenCV object detector (no simulator state)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from codeact_robot.errors import unknown_name_error
from codeact_robot.skills.registry import WITH_OBJECT_STATE, skill
from codeact_robot.skills.validation import as_name

if TYPE_CHECKING:
    from codeact_robot.skills.context import SkillContext


def _camera(ctx: SkillContext, camera: Any) -> str:
    camera = as_name(camera, "camera")
    if camera not in ctx.world.cameras:
        raise unknown_name_error("camera", camera, ctx.world.cameras)
    return camera


@skill("vision")
def get_camera_image(ctx: SkillContext, camera: str = "front") -> np.ndarray:
    """The current colour image of a camera.

    "front" looks across the table at the robot; "top" looks straight down (image top
    is the far edge, image left the robot's left).

    Args:
        camera: "front" or "top".

    Returns:
        An RGB image, np.ndarray of shape (height, width, 3), dtype uint8.

    Example:
        image = get_camera_image("top"); print(image.shape)
    """
    return ctx.frame(_camera(ctx, camera)).rgb.copy()


@skill("vision")
def get_depth_image(ctx: SkillContext, camera: str = "front") -> np.ndarray:
    """The current depth image of a camera: distance along the optical axis per pixel.

    Args:
        camera: "front" or "top".

    Returns:
        np.ndarray of shape (height, width), dtype float32, in metres.

    Example:
        depth = get_depth_image("top"); print(depth.min())
    """
    return ctx.frame(_camera(ctx, camera)).depth.copy()


@skill("vision")
def get_camera_info(ctx: SkillContext, camera: str = "front") -> dict[str, Any]:
    """A camera's calibration: what turns a pixel and its depth into a world point.

    A pixel (u, v) = (column, row) with depth d (from get_depth_image) is the point
    p = d * inv(K) @ [u, v, 1] in the camera's frame (x right, y down, z forward), and
    camera_to_world @ [*p, 1] in the world.

    Args:
        camera: "front" or "top".

    Returns:
        {"K": 3x3 intrinsic matrix in pixels, "camera_to_world": 4x4 transform,
        "width": pixels, "height": pixels}; the matrices are np.ndarray.

    Example:
        info = get_camera_info("top"); depth = get_depth_image("top")
        u, v = 160, 120; d = depth[v, u]
        p = d * np.linalg.inv(info["K"]) @ [u, v, 1]
        world = (info["camera_to_world"] @ [*p, 1])[:3]
    """
    frame = ctx.frame(_camera(ctx, camera))
    height, width = frame.depth.shape
    return {
        "K": frame.intrinsics.copy(),
        "camera_to_world": frame.extrinsics.copy(),
        "width": int(width),
        "height": int(height),
    }


@skill("vision", WITH_OBJECT_STATE)
def detect_objects(ctx: SkillContext, camera: str = "front") -> list[dict[str, Any]]:
    """Find objects in one camera's RGB-D image by colour and shape (OpenCV).

    Works from the image alone, in every perception mode.

    Args:
        camera: "front" or "top".

    Returns:
        One dict per detection: {"name", "kind", "colour", "position" ([x, y, z] in
        metres), "pixels" (its area in the image), "box" ([u_min, v_min, u_max, v_max]
        in pixels)}.

    Example:
        for d in detect_objects("top"): print(d["name"], d["position"])
    """
    return [
        {
            "name": d.estimate.name,
            "kind": d.estimate.kind,
            "colour": d.estimate.colour,
            "position": [float(v) for v in d.estimate.position],
            "pixels": d.estimate.pixels,
            "box": list(d.box),
        }
        for d in ctx.detect(_camera(ctx, camera))
    ]
