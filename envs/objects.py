"""Object kinds (block, bowl, cup, box, mat, crate, drawer), the colour palette and its seen/unseen split.

Objects are named ``"<colour> <kind>"``. Their geometry lives in ``assets/*.urdf``
(written by ``assets/generate.py`` from the sizes below); colour is applied at load.
"""

from __future__ import annotations

from dataclasses import dataclass
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
CUP_SIZE = 0.064  # outer diameter at the rim; the cup is upside down, a tapered tube that can hide a block
CUP_TOP_SIZE = 0.05  # outer diameter of its (upturned) base, so it looks like a cup, not a block
CUP_HEIGHT = 0.06
CUP_WALL = 0.006
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


def object_name(colour: str, kind: str) -> str:
    """The name of a ``kind`` object of ``colour``: ``"red block"``."""
    return f"{colour} {kind}"


def split_name(name: str) -> tuple[str, str]:
    """Split ``"red block"`` into (colour, kind)."""
    colour, _, kind = name.rpartition(" ")
    return colour, kind
