"""Geometric predicates over object states, with their tolerances.

All success checks are built from these. Tolerances (metres):

- resting: speed below 5 cm/s;
- on the table: bottom within 1 cm of z = 0, upright (a block on any face);
- on top of a block: centres within 2.5 cm horizontally, and vertically within 1 cm of the sum of the two
  half-heights (3-5 cm for two plain 4 cm blocks);
- in a bowl: centre within the bowl's inner radius (6 cm) horizontally, below 12 cm;
- at a place: centre within ``PLACE_RADIUS`` (8 cm) of the place horizontally.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from codeact_robot.envs.objects import BOWL_INNER_RADIUS, object_name
from codeact_robot.envs.state import ObjectState
from codeact_robot.envs.tasks.base import CheckResult

RESTING_SPEED = 0.05
TABLE_TOLERANCE = 0.01
STACK_XY_TOLERANCE = 0.025
STACK_Z_TOLERANCE = 0.01
IN_BOWL_MAX_Z = 0.12
PLACE_RADIUS = 0.08
UPRIGHT = 0.95  # z of the object's up axis; about 18 degrees of tilt


def xy(state: ObjectState) -> np.ndarray:
    """The object's (x, y)."""
    return np.array(state.position[:2])


def xy_distance(state: ObjectState, point: Sequence[float]) -> float:
    """Horizontal distance from the object's centre to ``point`` (x, y)."""
    return float(np.hypot(state.position[0] - point[0], state.position[1] - point[1]))


def describe(state: ObjectState) -> str:
    """``red block at (0.45, 0.10, 0.02)``."""
    x, y, z = state.position
    return f"{state.name} at ({x:.2f}, {y:.2f}, {z:.2f})"


def is_resting(state: ObjectState) -> bool:
    """Whether the object has (nearly) stopped moving."""
    return float(np.linalg.norm(state.linear_velocity)) < RESTING_SPEED


def is_upright(state: ObjectState) -> bool:
    """Whether the object rests the right way up (for a block, any face down will do)."""
    return (state.flatness if state.kind == "block" else state.up_z) > UPRIGHT


def is_on_table(state: ObjectState) -> bool:
    """Whether the object stands upright directly on the table."""
    return abs(state.position[2] - state.spec.half_height) < TABLE_TOLERANCE and is_upright(state) and is_resting(state)


def is_on_top_of(upper: ObjectState, lower: ObjectState) -> bool:
    """Whether ``upper`` rests on ``lower`` (stacked blocks)."""
    dz = upper.position[2] - lower.position[2]
    expected = upper.spec.half_height + lower.spec.half_height
    return (
        xy_distance(upper, lower.position) < STACK_XY_TOLERANCE
        and abs(dz - expected) <= STACK_Z_TOLERANCE
        and is_resting(upper)
    )


def is_in_bowl(state: ObjectState, bowl: ObjectState) -> bool:
    """Whether ``state`` lies inside ``bowl``."""
    return (
        xy_distance(state, bowl.position) < BOWL_INNER_RADIUS
        and state.position[2] < IN_BOWL_MAX_Z
        and is_resting(state)
    )


def is_at(state: ObjectState, point: Sequence[float], radius: float = PLACE_RADIUS) -> bool:
    """Whether the object rests within ``radius`` of ``point`` (x, y), on the table or on a stack."""
    return xy_distance(state, point) < radius and is_resting(state) and state.position[2] < 0.3


def tower_of(blocks: Sequence[ObjectState]) -> list[ObjectState] | None:
    """The blocks ordered bottom to top if they form one tower standing on the table, else None."""
    ordered = sorted(blocks, key=lambda s: s.position[2])
    if not ordered or not is_on_table(ordered[0]):
        return None
    for lower, upper in itertools.pairwise(ordered):
        if not is_on_top_of(upper, lower):
            return None
    return ordered


def blocks(objects: Mapping[str, ObjectState]) -> list[ObjectState]:
    """Every block, in name order."""
    return [objects[n] for n in sorted(objects) if objects[n].kind == "block"]


def all_hold(results: Iterable[tuple[bool, str]], success_detail: str) -> CheckResult:
    """Combine (ok, failure message) pairs: success when all are ok, else the first failures."""
    failures = [message for ok, message in results if not ok]
    if failures:
        more = f" (+{len(failures) - 3} more)" if len(failures) > 3 else ""
        return CheckResult(False, "; ".join(failures[:3]) + more)
    return CheckResult(True, success_detail)


def in_bowl(block: ObjectState, bowl: ObjectState) -> CheckResult:
    """The verdict for one object that should lie in one bowl."""
    if is_in_bowl(block, bowl):
        return CheckResult(True, f"{block.name} is in the {bowl.name}")
    return CheckResult(False, f"{describe(block)} is not in the {bowl.name} ({describe(bowl)})")


def in_own_colour_bowls(objects: Mapping[str, ObjectState], success_detail: str) -> CheckResult:
    """The verdict that every block lies in the bowl of its own colour."""
    pairs = [(block, objects[object_name(block.colour, "bowl")]) for block in blocks(objects)]
    return all_hold(((r.success, r.detail) for r in (in_bowl(b, w) for b, w in pairs)), success_detail)


def stack_failure(blocks_: Sequence[ObjectState]) -> str:
    """Why the given blocks are not one tower."""
    heights = ", ".join(f"{b.name} z={b.position[2]:.3f}" for b in sorted(blocks_, key=lambda s: s.position[2]))
    return (
        f"the blocks do not form one tower of {len(blocks_)} on the table ({heights}; each block must sit "
        f"within {STACK_XY_TOLERANCE * 100:.1f} cm of the one below and resting on it)"
    )


ROW_X_TOLERANCE = 0.025
ROW_SPACING = (0.05, 0.12)


def row_left_to_right(blocks_: Sequence[ObjectState]) -> tuple[list[ObjectState], list[tuple[bool, str]]]:
    """The blocks ordered left to right (+y to -y, as the top camera sees them) and what keeps them from a row.

    A row: every block standing on the table, each centre within ``ROW_X_TOLERANCE`` (2.5 cm)
    of the blocks' median x, neighbouring centres ``ROW_SPACING`` (5-12 cm) apart along y.

    Returns:
        The ordered blocks, and (ok, failure message) pairs for :func:`all_hold`.
    """
    ordered = sorted(blocks_, key=lambda s: -s.position[1])
    results = [(is_on_table(b), f"{describe(b)} is not standing on the table") for b in ordered]
    line_x = float(np.median([b.position[0] for b in ordered]))
    results += [
        (
            abs(b.position[0] - line_x) <= ROW_X_TOLERANCE,
            f"{describe(b)} is {abs(b.position[0] - line_x) * 100:.1f} cm off the row's line x = {line_x:.3f} "
            f"(at most {ROW_X_TOLERANCE * 100:.1f} cm)",
        )
        for b in ordered
    ]
    for left, right in itertools.pairwise(ordered):
        gap = left.position[1] - right.position[1]
        results.append(
            (
                ROW_SPACING[0] <= gap <= ROW_SPACING[1],
                f"the {left.name} and the {right.name} are {gap * 100:.1f} cm apart along the row "
                f"({ROW_SPACING[0] * 100:.0f}-{ROW_SPACING[1] * 100:.0f} cm needed)",
            )
        )
    return ordered, results
