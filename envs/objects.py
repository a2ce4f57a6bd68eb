"""Object kinds (block, bowl, cup, box, mat, crate, drawer), their sizes, the colour palette and its seen/unseen split.

Objects are named ``"<colour> <kind>"``, or ``"<size> <colour> <kind>"`` when the scene
gives the object a size (``"large red block"``). Their geometry lives in ``assets/*.urdf``
(written by ``assets/generate.py`` from the sizes below), scaled at load for a sized
object; colour is applied at load.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from codeact_robot.errors import unknown_name_error

# RGB in [0, 1]. Hues are spread so the vision detector can tell them apart.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.85, 0.10, 0.10),
    "orange": (0.95, 0.50, 0.05),
    "yellow": (0.95, 0.85, 0.10),
    "green": (0.10, 0.60, 0.20),
    "blue": (0.10, 0.25, 0.85),
    "purple": (0.50, 0.20, 0.70),
    "pink": (0.95, 0.50, 0.70),
    "cyan": (0.10, 0.80, 0.85),
    "brown": (0.45, 0.25, 0.08),
    "gray": (0.45, 0.45, 0.45),
}
SEEN_COLOURS: tuple[str, ...] = ("red", "green", "blue", "yellow", "orange")
UNSEEN_COLOURS: tuple[str, ...] = ("purple", "pink", "cyan", "brown", "gray")
COLOUR_SPLITS: dict[str, tuple[str, ...]] = {
    "seen": SEEN_COLOURS,
    "unseen": UNSEEN_COLOURS,
    "all": SEEN_COLOURS + UNSEEN_COLOURS,
}
DEFAULT_SPLIT = "seen"
TABLE_COLOUR = (0.80, 0.74, 0.62)
TABLE_SIZE = (1.6, 1.4, 0.05)
TABLE_CENTRE = (0.35, 0.0, -TABLE_SIZE[2] / 2)  # top surface at z = 0

BLOCK_SIZE = 0.04
BOWL_RADIUS = 0.07  # outer
BOWL_HEIGHT = 0.045
BOWL_WALL = 0.01
BOWL_INNER_RADIUS = BOWL_RADIUS - BOWL_WALL
BOWL_FLOOR = 0.008
CUP_SIZE = 0.07  # outer diameter at the rim; the cup is upside down, a round open-bottomed shell that can hide a block
CUP_TOP_SIZE = 0.05  # outer diameter of its (upturned) base, so it looks like a cup, not a block
CUP_HEIGHT = 0.06
CUP_WALL = 0.005  # inside, 6 cm across: a block (5.7 cm across its diagonal) fits under it at any yaw
CUP_INSIDE_HEIGHT = 0.045  # the straight wall stands this high; above it the cup tapers to its base
BOX_SIZE = (0.10, 0.10, 0.05)  # a box too wide for the gripper: it can only be pushed
MAT_SIZE = (0.16, 0.16, 0.002)  # a flat coloured square that marks a region (no collision)
CRATE_SIZE = 0.11  # an upside-down crate, too wide to grasp, that hides what is under it
CRATE_HEIGHT = 0.07
CRATE_WALL = 0.006
KNOB_SIZE = 0.02  # the cube on the crate's top by which the gripper lifts it
CABINET_SIZE = (0.16, 0.16, 0.11)  # the drawer's cabinet (fixed to the table), open towards the robot (-x)
CABINET_WALL = 0.008
DRAWER_TRAVEL = 0.12  # how far the drawer slides out
HANDLE_SIZE = (0.02, 0.02, 0.02)  # a knob on the drawer's front, on a post HANDLE_STANDOFF long
HANDLE_STANDOFF = 0.035


@dataclass(frozen=True)
class ObjectKind:
    """A kind of object the scenes are built from.

    Attributes:
        name: kind name, the second word of object names.
        urdf: file name in ``assets/``.
        size: bounding-box extents (x, y, z) in metres, in the object's frame.
        graspable: whether the gripper (8 cm opening) can hold it.
        fixed: whether it is fixed to the table (a drawer's cabinet).
        part_of: the kind of object this is a part of (a drawer's handle), which has no body of its own.
    """

    name: str
    urdf: str
    size: tuple[float, float, float]
    graspable: bool
    fixed: bool = False
    part_of: str | None = None

    @property
    def half_height(self) -> float:
        """Height of the object's frame above its bottom, in metres."""
        return self.size[2] / 2.0

    @property
    def footprint_radius(self) -> float:
        """Radius of the circle that holds the object's footprint, in metres."""
        return 0.5 * (self.size[0] ** 2 + self.size[1] ** 2) ** 0.5

    def scaled(self, factor: float) -> ObjectKind:
        """The same kind with every extent multiplied by ``factor``."""
        return replace(self, size=(self.size[0] * factor, self.size[1] * factor, self.size[2] * factor))


KINDS: dict[str, ObjectKind] = {
    "block": ObjectKind("block", "block.urdf", (BLOCK_SIZE,) * 3, graspable=True),
    "bowl": ObjectKind("bowl", "bowl.urdf", (2 * BOWL_RADIUS, 2 * BOWL_RADIUS, BOWL_HEIGHT), graspable=False),
    "cup": ObjectKind("cup", "cup.urdf", (CUP_SIZE, CUP_SIZE, CUP_HEIGHT), graspable=True),
    "box": ObjectKind("box", "box.urdf", BOX_SIZE, graspable=False),
    "mat": ObjectKind("mat", "mat.urdf", MAT_SIZE, graspable=False),
    "crate": ObjectKind("crate", "crate.urdf", (CRATE_SIZE, CRATE_SIZE, CRATE_HEIGHT + KNOB_SIZE), graspable=False),
    "drawer": ObjectKind("drawer", "drawer.urdf", CABINET_SIZE, graspable=False, fixed=True),
    "handle": ObjectKind("handle", "", HANDLE_SIZE, graspable=False, part_of="drawer"),
}
PLACEABLE_KINDS = tuple(k for k, v in KINDS.items() if v.part_of is None)
"""Kinds a scene is made of (a handle comes with its drawer)."""


SIZES: dict[str, float] = {"small": 0.75, "medium": 1.0, "large": 1.25}
"""Size words and the scale each applies to its kind's extents: a small block is 3 cm, a large one 5 cm."""
SIZED_KINDS = ("block",)
"""Kinds a scene may give a size."""
NO_SIZE = ""
"""The size of an object the scene gives none: its kind's own extents, and a name without a size word."""


def asset_path(file_name: str) -> Path:
    """Absolute path of a file in the installed ``assets/`` folder."""
    return Path(str(resources.files("codeact_robot.assets").joinpath(file_name)))


def check_colour(colour: str) -> str:
    """Return ``colour`` if it is in the palette, else raise with the valid ones."""
    if colour not in COLOURS:
        raise unknown_name_error("colour", colour, COLOURS)
    return colour


def check_kind(kind: str) -> ObjectKind:
    """Return the kind called ``kind`` (one a scene can hold), else raise with the valid ones."""
    if kind not in PLACEABLE_KINDS:
        raise unknown_name_error("object kind", kind, PLACEABLE_KINDS)
    return KINDS[kind]


def check_size(kind: str, size: str) -> str:
    """Return ``size`` if a ``kind`` object may have it, else raise with the valid ones."""
    if size == NO_SIZE:
        return size
    if kind not in SIZED_KINDS:
        raise ValueError(f"a {kind} has no size; kinds with sizes: {', '.join(SIZED_KINDS)}")
    if size not in SIZES:
        raise unknown_name_error("size", size, SIZES)
    return size


def kind_spec(kind: str, size: str = NO_SIZE) -> ObjectKind:
    """The extents of a ``kind`` object of ``size`` (the kind's own when it has no size)."""
    spec = check_kind(kind)
    return spec.scaled(SIZES[check_size(kind, size)]) if size else spec


def object_name(colour: str, kind: str, size: str = NO_SIZE) -> str:
    """The name of a ``kind`` object of ``colour`` and ``size``: ``"red block"``, ``"large red block"``."""
    return f"{size} {colour} {kind}" if size else f"{colour} {kind}"


def split_name(name: str) -> tuple[str, str]:
    """Split ``"red block"`` (or ``"large red block"``) into (colour, kind)."""
    words = name.split(" ")
    return words[-2] if len(words) > 1 else "", words[-1]


def size_of(name: str) -> str:
    """The size word of an object's name (``"large red block"`` -> ``"large"``), or ``NO_SIZE``."""
    words = name.split(" ")
    return words[0] if len(words) == 3 and words[0] in SIZES else NO_SIZE


def spec_of(name: str) -> ObjectKind:
    """The extents of the object called ``name``, its size word included (a part's: its kind's)."""
    kind = split_name(name)[1]
    if kind in KINDS and KINDS[kind].part_of is not None:
        return KINDS[kind]
    return kind_spec(kind, size_of(name))
