"""What a blob of one colour is: each object kind's geometry, read from the blob's world points.

The functions here take the world points (N x 3) of one connected blob of one palette
colour and say which object it is, where, and how complete the view of it is. They know
the kinds' sizes (``envs/objects.py``) and nothing of the scene.

- small footprints: a square top face is a block (in a scene that names sizes, its width
  says small 3 cm, medium 4 cm or large 5 cm); a wider round one 6 cm up an upturned cup's base;
  a hidden top face (a tower's lower block) is fitted from the block's sides;
- large footprints: a filled square top face at 5 cm is a box's, at 7 cm a crate's (its
  2 cm knob above), at 11 cm a drawer's cabinet's, whose knob stands ``HANDLE_STANDOFF`` in
  front of the drawer's front; without one it is a bowl (its rim is a ring; centre from a
  circle fit to it);
- flat: a large filled square at table height is a mat.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from codeact_robot.envs.objects import (
    BLOCK_SIZE,
    BOWL_HEIGHT,
    BOWL_INNER_RADIUS,
    BOX_SIZE,
    CABINET_SIZE,
    CRATE_HEIGHT,
    CUP_HEIGHT,
    CUP_TOP_SIZE,
    HANDLE_STANDOFF,
    KINDS,
    MAT_SIZE,
    NO_SIZE,
    SIZES,
    ObjectKind,
    kind_spec,
    object_name,
    spec_of,
)
from codeact_robot.skills.estimates import ObjectEstimate

MIN_PIXELS = 12
TOP_FACE_DEPTH = 0.003
MIN_TOP = 0.022  # every block (a small one: 3 cm) or cup top is higher, even tilted; lower: a bowl's floor
RIM_BELOW_RADIUS = 0.005  # the rim's top edge lies this far inside the bowl's outer radius
RIM_BAND = 0.015  # points within this of that circle belong to the rim
OUTSIDE_BOWL = 0.006  # points this far outside a bowl's outer radius belong to something touching it
CUP_FACE = (BLOCK_SIZE + CUP_TOP_SIZE) / 2  # a wider top face is a cup's base, not a (medium) block's top
ROUND_FILL = 0.9  # a face filling less of its bounding rectangle is round (a disc fills pi/4 of it)
CUP_TOP_BAND = 0.01  # an upturned cup on the table shows its base within this of its height (a block's top: 4 or 8 cm)
DISC_ROUNDNESS = 0.8  # a face filling more of its enclosing circle is a disc (a square fills 2/pi of it)
FACE_SEEN = 0.6  # a top face less complete than this is hidden: fit the sides instead
WIDTH_BIAS = 0.002  # a face measured between pixel centres is about one pixel narrower than it is
MAX_PILE = 8  # layers peeled off a bowl's contents at most
PILE_MARGIN = 0.004  # beyond a block's face: its sides, seen from aslant
SQUARE_SIDES = 0.7  # a block's face seen whole is about square: its shorter side at least this of its longer
PLATEAU = 0.006  # a large object's top face: points this close below its height
TOP_HEIGHTS = {"box": BOX_SIZE[2], "crate": CRATE_HEIGHT, "drawer": CABINET_SIZE[2]}
SQUARE_FACE = 0.7  # a large object's top face seen this wide at least, of its footprint's width
PANEL_BAND = (0.025, 0.065)  # |y - centre| of the drawer front's points that find it, clear of the knob's post
MAT_FACE = 0.6 * MAT_SIZE[0]  # a flat blob this wide at least; narrower ones are specks of colour
SIZE_WIDTHS = {word: BLOCK_SIZE * scale for word, scale in SIZES.items()}


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


Box = tuple[int, int, int, int]


def describe_small(
    colour: str, blob: np.ndarray, box: Box, camera_xy: np.ndarray, sized: bool, camera: str
) -> Detection | None:
    """A block or an upturned cup standing on something, or None (a patch of a bowl's floor).

    Args:
        colour: the blob's palette colour.
        blob: its world points (N x 3).
        box: its pixel bounds.
        camera_xy: where the camera is, over the table (its sides of a block face it).
        sized: whether the scene names its blocks with size words.
        camera: the camera's name.
    """
    top = float(blob[:, 2].max())
    if top < MIN_TOP:
        return None
    face = blob[blob[:, 2] > top - TOP_FACE_DEPTH][:, :2].astype(np.float32)
    (cx, cy), (w, h), angle = cv2.minAreaRect(face)
    if sized:  # a large block's face is as wide as a cup's base, but a square's fills less of its enclosing circle
        is_cup = min(w, h) > CUP_FACE and _roundness(face) > DISC_ROUNDNESS
    else:  # and an upturned cup's top is 6 cm up: a block's face seen in part past the block on it is no cup
        is_cup = max(w, h) > CUP_FACE and abs(top - CUP_HEIGHT) < CUP_TOP_BAND
    kind = "cup" if is_cup else "block"
    size = _size_word(max(w, h)) if sized and kind == "block" else NO_SIZE
    spec = kind_spec(kind, size)
    face_width = CUP_TOP_SIZE if kind == "cup" else spec.size[0]
    coverage = (w * h) / face_width**2
    centre = np.array([cx, cy])
    if coverage < FACE_SEEN:  # the top face is hidden (a lower block of a tower): fit the sides instead
        angle, axes, low, high = _sides(blob[:, :2])
        if sized and kind == "block":
            size = _size_word(float((high - low).max()))
            spec = kind_spec(kind, size)
        centre = _square_behind(axes, low, high, camera_xy, spec.size[0])
        coverage = 0.3
    position = np.array([*centre, top - spec.half_height])
    return Detection(_estimate(colour, spec, size, position, _yaw(angle), camera, len(blob)), box, min(1.0, coverage))


def square_kind(blob: np.ndarray) -> str | None:
    """The kind of a large blob with a square top face at a box's, crate's or cabinet's height
    (the highest first), or None: no such face, a bowl (its rim is a ring)."""
    for kind in ("drawer", "crate", "box"):
        height = TOP_HEIGHTS[kind]
        face = blob[np.abs(blob[:, 2] - height) < PLATEAU][:, :2].astype(np.float32)
        if len(face) < MIN_PIXELS:
            continue
        _, (w, h), _ = cv2.minAreaRect(face)
        if max(w, h) > SQUARE_FACE * KINDS[kind].size[0] and _fill(face, w * h) > ROUND_FILL:
            return kind
    return None


def describe_bowl(
    colour: str, blob: np.ndarray, box: Box, camera_xy: np.ndarray, sized: bool, camera: str
) -> list[Detection]:
    """A bowl, a block of its own colour lying in it if one shows its face, and one touching it from outside."""
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
    bowl = _estimate(colour, KINDS["bowl"], NO_SIZE, position, 0.0, camera, len(blob))
    detections = [Detection(bowl, box, quality=coverage)]
    if coverage > 0.6:
        inside = high[np.hypot(*(high[:, :2] - centre).T) < BOWL_INNER_RADIUS - RIM_BELOW_RADIUS]
        detections += inner_blocks(colour, inside, box, sized, camera)
    outside = blob[np.hypot(*(blob[:, :2] - centre).T) > radius + OUTSIDE_BOWL]
    if len(outside) >= MIN_PIXELS:
        leaning = describe_small(colour, outside, box, camera_xy, sized, camera)
        detections += [leaning] if leaning else []
    return detections


def inner_blocks(colour: str, raised: np.ndarray, box: Box, sized: bool, camera: str) -> list[Detection]:
    """Blocks of a bowl's own colour lying in it (raised points inside its rim), peeled off from the
    top: each a level square face of a block's width, whose sides, and what lies under it, are within
    its footprint and go with it. Without a level face (a block leaning in the bowl), the points are
    one block if they form one block's square footprint (a sliver of the bowl's inner wall does not)."""
    found: list[Detection] = []
    rest = raised
    for _ in range(MAX_PILE):
        if len(rest) < MIN_PIXELS:
            break
        top = float(rest[:, 2].max())
        in_face = rest[:, 2] > top - TOP_FACE_DEPTH
        face, rest = rest[in_face][:, :2], rest[~in_face]
        block = _block_in_bowl(colour, face, top, box, sized, camera) if len(face) >= MIN_PIXELS else None
        if block is not None:
            found.append(block)
            half = spec_of(block.estimate.name).size[0] / 2 + PILE_MARGIN
            rest = rest[~_within_square(rest[:, :2], block.estimate.position[:2], block.estimate.orientation[2], half)]
    if found or len(raised) < MIN_PIXELS:
        return found
    leaning = _block_in_bowl(colour, raised[:, :2], float(raised[:, 2].max()), box, sized, camera)
    return [leaning] if leaning else []


def _block_in_bowl(colour: str, xy: np.ndarray, top: float, box: Box, sized: bool, camera: str) -> Detection | None:
    """The block whose footprint (or top face) is the points ``xy``, its top at ``top``; None
    if they are no block's square."""
    (cx, cy), (w, h), angle = cv2.minAreaRect(xy.astype(np.float32))
    widths = list(SIZE_WIDTHS.values()) if sized else [BLOCK_SIZE]
    if min(w, h) < 0.6 * min(widths) or max(w, h) > 1.5 * max(widths) or min(w, h) < SQUARE_SIDES * max(w, h):
        return None
    size = _size_word(max(w, h)) if sized else NO_SIZE
    spec = kind_spec("block", size)
    position = np.array([cx, cy, top - spec.half_height])
    return Detection(_estimate(colour, spec, size, position, _yaw(angle), camera, len(xy)), box, quality=0.5)


def _within_square(xy: np.ndarray, centre: np.ndarray, yaw: float, half: float) -> np.ndarray:
    """Which of the points ``xy`` lie in the square of half-width ``half`` about ``centre``, turned ``yaw``."""
    theta = yaw
    axes = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    return (np.abs((xy - centre) @ axes.T) < half).all(axis=1)


def describe_square(
    colour: str, kind: str, blob: np.ndarray, box: Box, camera_xy: np.ndarray, camera: str
) -> list[Detection]:
    """A box, a crate or a drawer's cabinet (``kind``, see :func:`square_kind`) on the table; a drawer's knob too."""
    spec = KINDS[kind]
    face = blob[blob[:, 2] > TOP_HEIGHTS[kind] - PLATEAU][:, :2].astype(np.float32)
    (cx, cy), (w, h), angle = cv2.minAreaRect(face)
    coverage = (w * h) / spec.size[0] ** 2
    centre = np.array([cx, cy])
    if coverage < FACE_SEEN:
        angle, axes, low, high = _sides(blob[:, :2])
        centre = _square_behind(axes, low, high, camera_xy, spec.size[0])
        coverage = 0.3
    yaw = 0.0 if kind == "drawer" else _yaw(angle)  # a cabinet always faces the robot
    position = np.array([*centre, spec.half_height])
    found = [Detection(_estimate(colour, spec, NO_SIZE, position, yaw, camera, len(blob)), box, min(1.0, coverage))]
    if kind == "drawer":
        found += _drawer_handle(colour, blob, position, box, coverage, camera)
    return found


def _drawer_handle(
    colour: str, blob: np.ndarray, cabinet: np.ndarray, box: Box, quality: float, camera: str
) -> list[Detection]:
    """The knob, ``HANDLE_STANDOFF`` in front (-x) of the drawer's front panel, which is the
    nearest part of the drawer beside the knob's post (the fingers holding the knob hide the knob,
    not the panel)."""
    beside = np.abs(blob[:, 1] - cabinet[1])
    panel = blob[(beside > PANEL_BAND[0]) & (beside < PANEL_BAND[1])]
    if len(panel) < MIN_PIXELS:
        return []
    position = np.array([float(panel[:, 0].min()) - HANDLE_STANDOFF, cabinet[1], cabinet[2]])
    handle = _estimate(colour, KINDS["handle"], NO_SIZE, position, 0.0, camera, len(panel))
    return [Detection(handle, box, quality)]


def describe_mat(colour: str, blob: np.ndarray, box: Box, camera: str) -> Detection | None:
    """A mat: a flat square of colour on the table, at least ``MAT_FACE`` wide; None for anything else."""
    xy = blob[:, :2].astype(np.float32)
    (cx, cy), (w, h), _ = cv2.minAreaRect(xy)
    if min(w, h) < MAT_FACE or max(w, h) > 1.2 * MAT_SIZE[0] or _fill(xy, w * h) < ROUND_FILL:
        return None
    spec = KINDS["mat"]
    position = np.array([cx, cy, spec.half_height])
    mat = _estimate(colour, spec, NO_SIZE, position, 0.0, camera, len(blob))
    return Detection(mat, box, min(1.0, (w * h) / spec.size[0] ** 2))


def _size_word(width: float) -> str:
    """The size word whose block width is nearest a measured face width."""
    return min(SIZE_WIDTHS, key=lambda word: abs(SIZE_WIDTHS[word] - (width + WIDTH_BIAS)))


def _fill(xy: np.ndarray, rect_area: float) -> float:
    """How much of its bounding rectangle (area ``rect_area``) the convex hull of ``xy`` fills."""
    if rect_area <= 0:
        return 1.0
    return float(cv2.contourArea(cv2.convexHull(xy))) / rect_area


def _roundness(xy: np.ndarray) -> float:
    """How much of its smallest enclosing circle the convex hull of ``xy`` fills (a disc 1, a square 2/pi)."""
    _, radius = cv2.minEnclosingCircle(xy)
    return float(cv2.contourArea(cv2.convexHull(xy))) / max(np.pi * radius**2, 1e-12)


def _yaw(degrees: float) -> float:
    """A square's yaw in (-45, 45] degrees, in radians."""
    return float(np.radians((degrees + 45.0) % 90.0 - 45.0))


def _sides(points: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """The yaw (degrees) at which a square's visible sides ``points`` hug their bounding box,
    with that box: its axes (2 x 2) and low and high corners in them.

    Tries yaws a degree apart; at the right one the points lie along the box's edges.
    """
    best = (np.inf, 0.0, np.eye(2), points.min(axis=0), points.max(axis=0))
    for degrees in range(0, 90):
        theta = np.radians(degrees)
        axes = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
        local = points @ axes.T
        low, high = local.min(axis=0), local.max(axis=0)
        spread = float(np.minimum(np.abs(local - low), np.abs(local - high)).min(axis=1).mean())
        if spread < best[0]:
            best = (spread, float(degrees), axes, low, high)
    return best[1], best[2], best[3], best[4]


def _square_behind(
    axes: np.ndarray, low: np.ndarray, high: np.ndarray, camera_xy: np.ndarray, size: float
) -> np.ndarray:
    """Centre of a square footprint ``size`` wide whose camera-facing sides span low..high along ``axes``:
    along each axis it extends ``size`` away from the camera."""
    eye = camera_xy @ axes.T
    middle = np.where(eye < low, low + size / 2, np.where(eye > high, high - size / 2, (low + high) / 2))
    return middle @ axes


def _estimate(
    colour: str, spec: ObjectKind, size: str, position: np.ndarray, yaw: float, camera: str, pixels: int
) -> ObjectEstimate:
    half = np.array(spec.size) / 2
    if spec.name != "bowl":
        c, s = abs(np.cos(yaw)), abs(np.sin(yaw))
        half[:2] = [c * half[0] + s * half[1], s * half[0] + c * half[1]]
    name = object_name(colour, spec.name, size)
    if spec.part_of is not None:  # a part is named after what it is part of: "red drawer handle"
        name = f"{object_name(colour, spec.part_of)} {spec.name}"
    return ObjectEstimate(
        name=name,
        kind=spec.name,
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
