"""An RGB-D object detector with OpenCV: colour segmentation and depth back-projection.

It knows the palette, the table's colour and the sizes of the object kinds, and uses
nothing but the image, the depth map and the camera's calibration:

1. back-project every pixel to a world point; keep points inside the work area and below
   the arm's carrying height;
2. white-balance against the table (its top is horizontal, like the objects' tops) to
   get each pixel's albedo, and label it with the palette colour of nearest chromaticity
   (bright gray is white, the arm's colour: gray pixels joined to white ones are its shade);
3. split each colour's pixels into connected blobs, those above the table and those at
   its height (the bare table is no palette colour; a flat blob is a mat only if it is a
   large filled square). :mod:`detector_kinds` says what each blob is by its geometry:
   a small footprint is a block or an upturned cup, a large one a box, crate or drawer
   by the height of its square top face, or else a bowl;
4. :func:`fuse` keeps, per name, the view with the most complete top face.

Names follow the scene's naming convention, the one thing the detector is told besides the
image: a scene that gives its blocks sizes (``sized``, from ``TabletopWorld.names_sizes``)
names every block ``"<size> <colour> block"``, the size read from the width of its top face
(or of its sides, for a tower's lower block); other scenes have 4 cm blocks only, named
``"<colour> block"``. A drawer's knob is ``"<colour> drawer handle"``, as in state mode.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from codeact_robot.envs.camera import CameraFrame
from codeact_robot.envs.objects import COLOURS, DRAWER_TRAVEL, HANDLE_SIZE, HANDLE_STANDOFF, KINDS, TABLE_COLOUR
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.skills.detector_kinds import (
    MIN_PIXELS,
    MIN_TOP,
    Detection,
    describe_bowl,
    describe_mat,
    describe_small,
    describe_square,
    inner_blocks,
    square_kind,
)
from codeact_robot.skills.estimates import ObjectEstimate

__all__ = ["Detection", "detect", "fuse"]

MIN_HEIGHT = 0.004  # above the table (a mat's 2 mm top is flat, below this)
MAX_HEIGHT = 0.22  # below the gripper at carrying height
AREA_MARGIN = 0.06  # around the workspace
MAX_CHROMA_DISTANCE = 0.07
GRAY_BRIGHTNESS = (0.13, 0.55)  # albedo of gray faces, lit or in shade (the white arm is brighter)
TABLE_BAND = 0.002  # points this close to z = 0 are the bare table (the white-balance reference)
MIN_TABLE_PIXELS = 100  # fewer visible table pixels: no white balance
LARGE_EXTENT = 0.085  # a wider footprint is no block (5 cm, 7.1 cm across) or cup (7 cm): a bowl, box, crate, drawer
PIECE_MARGIN = 0.005  # a blob centred this close outside a large object can still be a piece of it
DRAWER_REACH = DRAWER_TRAVEL + HANDLE_STANDOFF + HANDLE_SIZE[0]  # how far in front of its cabinet a drawer reaches
SAME_OBJECT = 0.02  # detections of one colour and kind closer than this are one object seen twice

_NAMES = list(COLOURS)
_ALBEDO = np.array([COLOURS[n] for n in _NAMES])
_CHROMA = _ALBEDO / _ALBEDO.sum(axis=1, keepdims=True)
_GRAY = _NAMES.index("gray")
WHITE = -2  # the label of white pixels above the table: the arm, never an object
_OPENING = np.ones((3, 3), np.uint8)


def detect(frame: CameraFrame, camera: str, sized: bool = False) -> list[Detection]:
    """Detect the objects in one RGB-D frame.

    Args:
        frame: the camera's RGB, depth and calibration (its segmentation is never read).
        camera: the camera's name, recorded in the estimates.
        sized: whether the scene names its blocks with size words (see the module docstring).

    Returns:
        One detection per object found, at most one per name.
    """
    points = frame.point_cloud()
    labels = _colour_labels(frame.rgb, points, _in_work_area(points))
    raised = points[..., 2] > MIN_HEIGHT
    camera_xy = frame.extrinsics[:2, 3]
    found: dict[str, Detection] = {}
    for colour_index, colour in enumerate(_NAMES):
        coloured = labels == colour_index
        if coloured.sum() < MIN_PIXELS:
            continue
        above = coloured & raised
        if colour_index == _GRAY:
            above = _apart_from_white(above, (labels == WHITE) & raised)
        flat = [describe_mat(colour, blob, box, camera) for blob, box in _blobs(coloured & ~raised, points)]
        standing = _describe_colour(colour, _blobs(above, points), camera_xy, sized, camera)
        for detection in [*standing, *(d for d in flat if d is not None)]:
            name = detection.estimate.name
            if name not in found or detection.estimate.pixels > found[name].estimate.pixels:
                found[name] = detection
    return list(found.values())


def _blobs(mask: np.ndarray, points: np.ndarray) -> list[tuple[np.ndarray, tuple[int, int, int, int]]]:
    """The connected blobs of ``mask`` (after a 3x3 opening): their world points and pixel bounds."""
    opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _OPENING)
    count, components, stats, _ = cv2.connectedComponentsWithStats(opened, connectivity=8)
    blobs = []
    for component in range(1, count):
        if stats[component, cv2.CC_STAT_AREA] >= MIN_PIXELS:
            x, y, w, h = (int(stats[component, i]) for i in range(4))
            blobs.append((points[components == component], (x, y, x + w - 1, y + h - 1)))
    return blobs


def _describe_colour(
    colour: str,
    blobs: list[tuple[np.ndarray, tuple[int, int, int, int]]],
    camera_xy: np.ndarray,
    sized: bool,
    camera: str,
) -> list[Detection]:
    """Every object of one colour standing on the table: large ones first, then the blobs that are not pieces of one."""
    large = [max(cv2.minAreaRect(blob[:, :2].astype(np.float32))[1]) > LARGE_EXTENT for blob, _ in blobs]
    detections: list[Detection] = []
    owners: list[tuple[np.ndarray, float, bool]] = []  # centre, reach, whether a bowl
    for (blob, box), is_large in zip(blobs, large):
        if not is_large:
            continue
        kind = square_kind(blob)
        if kind is None:
            found = describe_bowl(colour, blob, box, camera_xy, sized, camera)
        else:
            found = describe_square(colour, kind, blob, box, camera_xy, camera)
        owner = found[0].estimate
        reach = KINDS[owner.kind].footprint_radius + (DRAWER_REACH if owner.kind == "drawer" else 0.0)
        owners.append((owner.position[:2], reach + PIECE_MARGIN, owner.kind == "bowl"))
        detections += found
    for (blob, box), is_large in zip(blobs, large):
        if is_large:
            continue
        centre = blob[:, :2].mean(axis=0)
        owner = next((o for o in owners if np.hypot(*(centre - o[0])) < o[1]), None)
        if owner is None:
            found = describe_small(colour, blob, box, camera_xy, sized, camera)
            detections += [found] if found else []
        elif owner[2]:  # a piece of a bowl cut off by what lies in it: blocks only where it shows a block's face
            detections += inner_blocks(colour, blob[blob[:, 2] > MIN_TOP], box, sized, camera)
        # else a piece of a box, crate or drawer (a knob, a corner cut off by an occluder)
    return detections


def fuse(per_camera: Iterable[list[Detection]]) -> dict[str, ObjectEstimate]:
    """Merge detections of several cameras: per name, the most complete view, then the largest.

    Detections of one colour and kind at one point (a tower's blocks are apart in height) are
    one object seen twice (a block's size read differently by two cameras): the best is kept.

    Args:
        per_camera: detections of each camera.
    """
    best: dict[str, Detection] = {}
    for detections in per_camera:
        for detection in detections:
            name = detection.estimate.name
            if name not in best or _rank(detection) > _rank(best[name]):
                best[name] = detection
    kept: list[ObjectEstimate] = []
    for detection in sorted(best.values(), key=_rank, reverse=True):
        estimate = detection.estimate
        if not any(_same_object(estimate, other) for other in kept):
            kept.append(estimate)
    return {estimate.name: estimate for estimate in kept}


def _same_object(a: ObjectEstimate, b: ObjectEstimate) -> bool:
    close = float(np.linalg.norm(a.position - b.position)) < SAME_OBJECT
    return a.colour == b.colour and a.kind == b.kind and close


def _rank(detection: Detection) -> tuple[float, int]:
    return round(detection.quality, 1), detection.estimate.pixels


def _in_work_area(points: np.ndarray) -> np.ndarray:
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    return (
        (x > WORKSPACE.low[0] - AREA_MARGIN)
        & (x < WORKSPACE.high[0] + AREA_MARGIN)
        & (y > WORKSPACE.low[1] - AREA_MARGIN)
        & (y < WORKSPACE.high[1] + AREA_MARGIN)
        & (z > -TABLE_BAND)
        & (z < MAX_HEIGHT)
    )


def _colour_labels(rgb: np.ndarray, points: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Per pixel: index of the palette colour, ``WHITE`` (the arm's colour) or -1."""
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
    white = valid & (labels == _GRAY) & (brightness >= GRAY_BRIGHTNESS[1])
    valid &= (labels != _GRAY) | ((brightness > GRAY_BRIGHTNESS[0]) & ~white)
    return np.where(valid, labels, np.where(white, WHITE, -1))


def _apart_from_white(gray: np.ndarray, white: np.ndarray) -> np.ndarray:
    """The gray pixels not joined to white ones: the white arm's shaded parts are gray too."""
    _, components = cv2.connectedComponents((gray | white).astype(np.uint8), connectivity=8)
    arm = np.unique(components[white])
    return gray & ~np.isin(components, arm[arm > 0])
