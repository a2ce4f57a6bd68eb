"""Tasks about blocks of different sizes: small (3 cm), medium (4 cm) and large (5 cm).

Each block's name carries its size (``"large red block"``), and ``get_object_bbox``
gives its extents.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codeact_robot.envs.objects import SIZES
from codeact_robot.envs.state import ObjectPlacement, ObjectState
from codeact_robot.envs.tasks import checks
from codeact_robot.envs.tasks.arrangements import starts_unsolved
from codeact_robot.envs.tasks.base import CheckResult, Sample, Task
from codeact_robot.envs.tasks.sampling import Layout, choose_colours
from codeact_robot.envs.workspace import DIRECTIONS_RULE

SIZE_ORDER = tuple(SIZES)  # smallest first
SIZE_RULE = "Block sizes: small blocks are 3 cm wide, medium 4 cm, large 5 cm; the name says which."


def sized_blocks(
    rng: np.random.Generator, colours: tuple[str, ...], layout: Layout, count: int
) -> list[ObjectPlacement]:
    """``count`` blocks of distinct colours with every size at least once, at random free spots."""
    sizes = [*SIZE_ORDER, *(str(s) for s in rng.choice(SIZE_ORDER, size=count - len(SIZE_ORDER)))]
    sizes = [str(s) for s in rng.permutation(sizes)]
    return [layout.add("block", c, size=s) for c, s in zip(choose_colours(rng, colours, count), sizes)]


def rank(state: ObjectState | ObjectPlacement) -> int:
    """0 for a small block, 1 for a medium one, 2 for a large one."""
    return SIZE_ORDER.index(state.size)


def is_sorted(ranks: Sequence[int]) -> bool:
    """Whether ``ranks`` never decrease."""
    return all(a <= b for a, b in itertools.pairwise(ranks))


class SortBySize(Task):
    """The blocks in one left-to-right row ordered by size, the smallest at a given end.

    Tolerances: a row as in :func:`checks.row_left_to_right` (on the table, within 2.5 cm of
    the row's line, neighbours 5-12 cm apart along y); read from the named end, no block
    is smaller than the one before it (blocks of one size may stand in either order).
    """

    name = "SortBySize"
    split = "unseen"
    description = "line blocks of three sizes up in a row ordered by size"
    template = (
        "line up the blocks in one left-to-right row ordered by size, the smallest on the {end} and the largest on "
        "the {other}, with neighbouring blocks 5 to 12 cm apart centre to centre"
    )
    paraphrases = (
        "arrange the blocks in a single left-to-right row by size, smallest on the {end}, largest on the {other}, "
        "neighbouring blocks 5 to 12 cm apart centre to centre",
        "sort the blocks by size into one left-to-right row: the smallest at the {end} end, the largest at the "
        "{other} end, 5 to 12 cm between neighbouring centres",
        "make one left-to-right row of the blocks ordered from the smallest on the {end} to the largest on the "
        "{other}, with neighbouring blocks 5 to 12 cm apart centre to centre",
    )
    held_out_paraphrases = (
        "the blocks should stand in one left-to-right row ordered by size, smallest on the {end} and largest on the "
        "{other}, neighbouring centres 5 to 12 cm apart",
        "from the smallest on the {end} to the largest on the {other}, line the blocks up by size in a single "
        "left-to-right row, neighbouring blocks 5 to 12 cm apart centre to centre",
    )
    rules = (
        SIZE_RULE
        + " Blocks of the same size may stand in either order. A row runs left to right (along y); every block's "
        "centre within 2.5 cm of the row's line. " + DIRECTIONS_RULE
    )

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        end = str(rng.choice(["left", "right"]))
        layout = Layout(rng)
        placements = sized_blocks(rng, colours, layout, int(rng.integers(4, 6)))
        by_y = [rank(p) for p in sorted(placements, key=lambda p: -p.position[1] if end == "left" else p.position[1])]
        starts_unsolved(layout.placements, is_sorted(by_y))
        other = "right" if end == "left" else "left"
        fields = {"end": end, "other": other}
        return Sample(self.template.format(**fields), layout.placements, {"smallest": end}, fields)

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        ordered, results = checks.row_left_to_right(checks.blocks(objects))
        from_smallest = ordered if params["smallest"] == "left" else ordered[::-1]
        results.append(
            (
                is_sorted([rank(b) for b in from_smallest]),
                "the row reads " + ", ".join(b.name for b in ordered) + " from left to right",
            )
        )
        return checks.all_hold(results, f"the blocks stand in a row, smallest on the {params['smallest']}")


class StackBySize(Task):
    """One tower of all the blocks, no block on a smaller one.

    Tolerances: a tower as in :func:`checks.tower_of` (each block's centre within 2.5 cm of the
    one below horizontally, resting on it); sizes never grow from bottom to top.
    """

    name = "StackBySize"
    split = "seen"
    description = "stack blocks of three sizes into one tower, largest at the bottom"
    template = (
        "stack all the blocks into one tower ordered by size: the largest at the bottom, no block on a smaller one"
    )
    paraphrases = (
        "build one tower of all the blocks ordered by size, the largest at the bottom and never a block on a "
        "smaller one",
        "put every block into a single tower sorted by size: largest at the bottom, no block on top of a smaller one",
        "make one tower of all the blocks with the largest at the bottom, so that no block rests on a smaller one",
    )
    held_out_paraphrases = (
        "all the blocks should form one tower, largest at the bottom, with no block standing on a smaller one",
        "pile every block into one tower by size: the largest at the bottom, and no block on a smaller one",
    )
    rules = SIZE_RULE + " Blocks of the same size may go in either order."

    def sample_scene(self, rng: np.random.Generator, colours: tuple[str, ...]) -> Sample:
        layout = Layout(rng)
        for colour in choose_colours(rng, colours, int(rng.integers(0, 2))):
            layout.add("bowl", colour)
        sized_blocks(rng, colours, layout, int(rng.integers(3, 5)))
        return Sample(self.template, layout.placements, {})

    def check(self, objects: Mapping[str, ObjectState], params: Mapping[str, Any]) -> CheckResult:
        blocks_ = checks.blocks(objects)
        tower = checks.tower_of(blocks_)
        if tower is None:
            return CheckResult(False, checks.stack_failure(blocks_))
        listed = ", ".join(b.name for b in tower)
        if not is_sorted([rank(b) for b in reversed(tower)]):
            return CheckResult(False, f"a block stands on a smaller one; bottom to top: {listed}")
        return CheckResult(True, "one tower, largest at the bottom: " + listed)
