"""An RGB-D object detector with OpenCV: colour segmentation and depth back-projection.

It knows the palette, the table's colour and the sizes of the object kinds, and uses
nothing but the image, the depth map and the camera's calibration:

1. back-project every pixel to a world point; keep points above the table, inside the
   work area and below the arm's carrying height;
2. white-balance against the table (its top is horizontal, like the objects' tops) to
   get each pixel's albedo, and label it with the palette colour of nearest chromaticity;
3. split each colour's pixels into connected blobs; a blob wider than 10 cm is a bowl
   (centre from a circle fit to its rim, a same-coloured block inside it split off),
   otherwise its top face gives position, yaw and kind (a 5 cm round face is an
   upturned cup's base, a 4 cm square face a block);
4. :func:`fuse` keeps, per name, the view with the most complete top face.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from codeact_robot.envs.camera import CameraFrame
from codeact_robot.envs.objects import (
    BLOCK_SIZE,
    BOWL_HEIGHT,
    BOWL_INNER_RADIUS,
    BOWL_RADIUS,
    COLOURS,
    CUP_TOP_SIZE,
    KINDS,
    TABLE_COLOUR,
)
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.skills.estimates import ObjectEstimate

MIN_HEIGHT = 0.004  # above the table
MAX_HEIGHT = 0.22  # below the gripper at carrying height
AREA_MARGIN = 0.06  # around the workspace
MAX_CHROMA_DISTANCE = 0.07
GRAY_BRIGHTNESS = (0.13, 0.55)  # albedo of gray faces, lit or in shade (the white arm is brighter)
MIN_PIXELS = 12
TOP_FACE_DEPTH = 0.003
MIN_TOP = 0.03  # every block or cup top is higher, even tilted; lower points are a bowl's floor
TABLE_BAND = 0.002  # points this close to z = 0 are the bare table (the white-balance reference)
MIN_TABLE_PIXELS = 100  # fewer visible table pixels: no white balance
RIM_BELOW_RADIUS = 0.005  # the rim's top edge lies this far inside the bowl's outer radius
RIM_BAND = 0.015  # points within this of that circle belong to the rim
BOWL_PIECE_MARGIN = 0.005  # a blob centred this close outside a bowl can still be a piece of it
BOWL_EXTENT = 0.10
CUP_FACE = (BLOCK_SIZE + CUP_TOP_SIZE) / 2  # a wider top face is a cup's base, not a block's top
TOP_FACE_SIZE = {"block": BLOCK_SIZE, "cup": CUP_TOP_SIZE}  # an upturned cup tapers: its base is narrower than its rim

_NAMES = list(COLOURS)
_ALBEDO = np.array([COLOURS[n] for n in _NAMES])
_CHROMA = _ALBEDO / _ALBEDO.sum(axis=1, keepdims=True)
_GRAY = _NAMES.index("gray")


@dataclass(frozen=True)
class Detection:
    """One object found in one camera image.

    Attributes:
        estimate: name, kind, pose and box of the object.
        box: (u_min, v_min, u_max, v_max) pixel bounds in the image.
        quality: how complete the visible top face is, 0 to 1.
    """

    estimate: ObjectEstimate
    box: tuple[int, int, int, int]
    quality: float


def detect(frame: CameraFrame, camera: str) -> list[Detection]:
    """Detect the objects in one RGB-D frame.

    Args:
        frame: the camera's RGB, depth and calibration (its segmentation is never read).
        camera: the camera's name, recorded in the estimates.

    Returns:
        One detection per object found, at most one per name.
    """
    points = frame.point_cloud()
    usable = _in_work_area(points)
    labels = _colour_labels(frame.rgb, points, usable)
    found: dict[str, Detection] = {}
    for colour_index, colour in enumerate(_NAMES):
        mask = (labels == colour_index).astype(np.uint8)
        if mask.sum() < MIN_PIXELS:
            continue
        for detection in _describe_colour(
            colour, cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)), points, frame, camera
        ):
            name = detection.estimate.name
            if name not in found or detection.estimate.pixels > found[name].estimate.pixels:
                found[name] = detection
    return list(found.values())


def _describe_colour(
    colour: str, mask: np.ndarray, points: np.ndarray, frame: CameraFrame, camera: str
) -> list[Detection]:
    """Every object of one colour: bowls first, then the blobs that are not pieces of a bowl."""
    count, components, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    blobs = []
    for component in range(1, count):
        if stats[component, cv2.CC_STAT_AREA] >= MIN_PIXELS:
            x, y, w, h = (int(stats[component, i]) for i in range(4))
            blobs.append((points[components == component], (x, y, x + w - 1, y + h - 1)))
    wide = [max(cv2.minAreaRect(blob[:, :2].astype(np.float32))[1]) > BOWL_EXTENT for blob, _ in blobs]
    detections: list[Detection] = []
    bowls: list[np.ndarray] = []
    for (blob, box), is_bowl in zip(blobs, wide):
        if is_bowl:
            bowl, *inside = _describe_bowl(colour, blob, box, camera)
            bowls.append(bowl.estimate.position[:2])
            detections += [bowl, *inside]
    for (blob, box), is_bowl in zip(blobs, wide):
        if is_bowl:
            continue
        centre = blob[:, :2].mean(axis=0)
        if any(np.hypot(*(centre - bowl)) < BOWL_RADIUS + BOWL_PIECE_MARGIN for bowl in bowls):
            # A piece of a bowl cut off by what lies in it; it is a block only if it shows a block's face.
            found = _inner_block(colour, blob[blob[:, 2] > MIN_TOP], box, camera)
        else:
            found = _describe_square(colour, blob, box, frame, camera)
        detections += [found] if found else []
    return detections


def fuse(per_camera: Iterable[list[Detection]]) -> dict[str, ObjectEstimate]:
    """Merge detections of several cameras: per name, the most complete view, then the largest.

    Args:
        per_camera: detections of each camera.
    """
    best: dict[str, Detection] = {}
    for detections in per_camera:
        for detection in detections:
            name = detection.estimate.name
            if name not in best or _rank(detection) > _rank(best[name]):
                best[name] = detection
    return {name: d.estimate for name, d in best.items()}


def _rank(detection: Detection) -> tuple[float, int]:
    return round(detection.quality, 1), detection.estimate.pixels


def _in_work_area(points: np.ndarray) -> np.ndarray:
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    return (
        (x > WORKSPACE.low[0] - AREA_MARGIN)
        & (x < WORKSPACE.high[0] + AREA_MARGIN)
        & (y > WORKSPACE.low[1] - AREA_MARGIN)
        & (y < WORKSPACE.high[1] + AREA_MARGIN)
        & (z > MIN_HEIGHT)
        & (z < MAX_HEIGHT)
    )


def _colour_labels(rgb: np.ndarray, points: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Per pixel: index of the palette colour, or -1."""
    table = np.abs(points[..., 2]) < TABLE_BAND
    shade = np.ones(3)
    if table.sum() > MIN_TABLE_PIXELS:
        shade = np.median(rgb[table].astype(float), axis=0) / (np.array(TABLE_COLOUR) * 255.0)
    albedo = rgb.astype(float) / (np.maximum(shade, 1e-3) * 255.0)
    total = albedo.sum(axis=-1, keepdims=True)
    chroma = albedo / np.maximum(total, 1e-6)
    distances = np.linalg.norm(chroma[..., None, :] - _CHROMA[None, None], axis=-1)
    labels = np.argmin(distances, axis=-1)
    closest = np.take_along_axis(distances, labels[..., None], axis=-1)[..., 0]
    brightness = total[..., 0] / 3.0
    valid = usable & (closest < MAX_CHROMA_DISTANCE) & (total[..., 0] > 0.15)
    gray_ok = (brightness > GRAY_BRIGHTNESS[0]) & (brightness < GRAY_BRIGHTNESS[1])
    valid &= (labels != _GRAY) | gray_ok
    return np.where(valid, labels, -1)


def _describe_bowl(colour: str, blob: np.ndarray, box: tuple[int, int, int, int], camera: str) -> list[Detection]:
    radius = KINDS["bowl"].size[0] / 2
    centre = blob[:, :2].mean(axis=0)
    high = blob[blob[:, 2] > MIN_TOP]
    rim = high[:0]
    for _ in range(2):
        distance = np.hypot(*(high[:, :2] - centre).T)
        rim = high[np.abs(distance - (radius - RIM_BELOW_RADIUS)) < RIM_BAND]
        if len(rim) >= 8:
            centre = _fit_circle(rim[:, :2])
    angles = np.arctan2(rim[:, 1] - centre[1], rim[:, 0] - centre[0])
    coverage = len(np.unique(np.floor((angles + np.pi) / (2 * np.pi) * 16))) / 16  # how much of the rim is seen
    position = np.array([*centre, BOWL_HEIGHT / 2])
    detections = [Detection(_estimate(colour, "bowl", position, 0.0, camera, len(blob)), box, quality=coverage)]
    if coverage > 0.6:
        inner = _inner_block(
            colour, high[np.hypot(*(high[:, :2] - centre).T) < BOWL_INNER_RADIUS - RIM_BELOW_RADIUS], box, camera
        )
        detections += [inner] if inner else []
    return detections


def _inner_block(colour: str, raised: np.ndarray, box: tuple[int, int, int, int], camera: str) -> Detection | None:
    """A block of a bowl's own colour lying in it: raised points inside the rim that form a
    block's square face (a sliver of the bowl's inner wall does not)."""
    if len(raised) < MIN_PIXELS:
        return None
    (cx, cy), (w, h), angle = cv2.minAreaRect(raised[:, :2].astype(np.float32))
    if min(w, h) < 0.6 * BLOCK_SIZE or max(w, h) > 1.5 * BLOCK_SIZE:
        return None
    top = float(raised[:, 2].max())
    yaw = float(np.radians((angle + 45.0) % 90.0 - 45.0))
    block = _estimate(colour, "block", np.array([cx, cy, top - BLOCK_SIZE / 2]), yaw, camera, len(raised))
    return Detection(block, box, quality=0.5)


def _describe_square(
    colour: str, blob: np.ndarray, box: tuple[int, int, int, int], frame: CameraFrame, camera: str
) -> Detection | None:
    top = float(blob[:, 2].max())
    if top < MIN_TOP:  # a patch of a bowl's floor, not an object standing on the table
        return None
    face = blob[blob[:, 2] > top - TOP_FACE_DEPTH]
    (cx, cy), (w, h), angle = cv2.minAreaRect(face[:, :2].astype(np.float32))
    kind = "cup" if max(w, h) > CUP_FACE else "block"
    coverage = (w * h) / TOP_FACE_SIZE[kind] ** 2
    centre = np.array([cx, cy])
    if coverage < 0.6:  # the top face is hidden (a lower block of a tower): fit the sides instead
        centre, angle = _square_behind_sides(blob[:, :2], frame.extrinsics[:2, 3], KINDS[kind].size[0])
        coverage = 0.3
    position = np.array([*centre, top - KINDS[kind].half_height])
    yaw = float(np.radians((angle + 45.0) % 90.0 - 45.0))
    return Detection(_estimate(colour, kind, position, yaw, camera, len(blob)), box, quality=min(1.0, coverage))


def _square_behind_sides(points: np.ndarray, camera: np.ndarray, size: float) -> tuple[np.ndarray, float]:
    """Centre and yaw (degrees) of a square footprint whose camera-facing sides are ``points``.

    Tries yaws a degree apart; at the right one the points hug the edges of their
    bounding box. Along each axis the square then extends ``size`` away from the camera.
    """
    best = (np.inf, 0.0, points.mean(axis=0))
    for degrees in range(0, 90):
        theta = np.radians(degrees)
        axes = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
        local = points @ axes.T
        low, high = local.min(axis=0), local.max(axis=0)
        spread = float(np.minimum(np.abs(local - low), np.abs(local - high)).min(axis=1).mean())
        if spread < best[0]:
            eye = camera @ axes.T
            middle = np.where(eye < low, low + size / 2, np.where(eye > high, high - size / 2, (low + high) / 2))
            best = (spread, float(degrees), middle @ axes)
    return best[2], best[1]


def _estimate(colour: str, kind: str, position: np.ndarray, yaw: float, camera: str, pixels: int) -> ObjectEstimate:
    size = np.array(KINDS[kind].size)
    half = size / 2
    if kind != "bowl":
        c, s = abs(np.cos(yaw)), abs(np.sin(yaw))
        half[:2] = [c * half[0] + s * half[1], s * half[0] + c * half[1]]
    return ObjectEstimate(
        name=f"{colour} {kind}",
        kind=kind,
        colour=colour,
        position=position,
        orientation=(0.0, 0.0, yaw),
        bbox=(position - half, position + half),
        camera=camera,
        pixels=int(pixels),
    )


def _fit_circle(points: np.ndarray) -> np.ndarray:
    """Centre of the least-squares circle through 2-D points (Kasa's method)."""
    a = np.column_stack([points, np.ones(len(points))])
    b = (points**2).sum(axis=1)
    solution, *_ = np.linalg.lstsq(a, b, rcond=None)
    return solution[:2] / 2
