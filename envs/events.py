"""Scene events: the scene changes while the agent works, deterministically, as a task scripts it.

An event is plain data (it crosses the process boundary with the scene's layout)::

    {"when_in": "blue bowl", "kind": "block", "move_to": [0.35, -0.2]}

reads: the first time an object of ``kind`` comes to rest inside ``when_in`` (a bowl) and
the gripper lets go of it, that object is taken out and put down upright at ``move_to``
(x, y on the table). Each event happens at most once, in the order given; the worker looks
every ``CHECK_EVERY`` physics steps, so it happens within a tenth of a simulated second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from codeact_robot.envs.objects import BOWL_INNER_RADIUS, PLACEABLE_KINDS
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.errors import UsageError

if TYPE_CHECKING:  # the task that declares an event needs none of the world
    from codeact_robot.envs.world import TabletopWorld

CHECK_EVERY = 24  # physics steps between looks (0.1 s at 240 Hz)
RESTING_SPEED = 0.05  # m/s
IN_CONTAINER_MAX_Z = 0.12


@dataclass(frozen=True)
class SceneEvent:
    """Move an object of ``kind`` to ``move_to`` once one rests in ``when_in``."""

    when_in: str
    kind: str
    move_to: tuple[float, float]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SceneEvent:
        """Checked from plain data.

        Raises:
            UsageError: a malformed event, saying what is valid.
        """
        try:
            when_in, kind, (x, y) = str(data["when_in"]), str(data["kind"]), data["move_to"]
            move_to = (float(x), float(y))
        except (KeyError, TypeError, ValueError):
            raise UsageError(
                f"a scene event is {{'when_in': name, 'kind': kind, 'move_to': [x, y]}}, got {data!r}"
            ) from None
        if kind not in PLACEABLE_KINDS or not WORKSPACE.contains(move_to):
            raise UsageError(f"a scene event moves a {', '.join(PLACEABLE_KINDS)} within the workspace, got {data!r}")
        return cls(when_in, kind, move_to)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form."""
        return {"when_in": self.when_in, "kind": self.kind, "move_to": list(self.move_to)}


class SceneScript:
    """The pending events of an episode, checked as the physics steps.

    Args:
        world: the world they happen in.
        events: the events still to happen, in order.
        done: how many of the episode's events have happened already (those of an episode
            restored into a fresh world, which are not pending any more).
    """

    def __init__(self, world: TabletopWorld, events: Sequence[SceneEvent], done: int = 0) -> None:
        self.world = world
        self.pending = list(events)
        self.done = done
        self.happened: list[str] = []  # what happened since the observation last said

    def on_step(self, step: int) -> None:
        """Let the next event happen if its moment has come (called after every physics step)."""
        if not self.pending or step % CHECK_EVERY:
            return
        event = self.pending[0]
        mover = self._resting_in(event)
        if mover is None:
            return
        self.pending.pop(0)
        self.done += 1
        x, y = event.move_to
        self.world.sim.set_pose(mover, (x, y, self.world.placement(mover).spec.half_height), (0.0, 0.0, 0.0, 1.0))
        self.world.sim.set_velocity(mover, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
        self.happened.append(f"the {mover} was taken out of the {event.when_in} and put at ({x:.2f}, {y:.2f})")

    def told(self) -> tuple[str, ...]:
        """What happened since the last call, as notes for the observation (then forgotten)."""
        happened, self.happened = tuple(self.happened), []
        return happened

    def _resting_in(self, event: SceneEvent) -> str | None:
        world = self.world
        if event.when_in not in world.object_names:
            return None
        container = np.array(world.object_state(event.when_in).position[:2])
        held = world.held_object()
        for name in world.object_names:
            state = world.object_state(name)
            if state.kind != event.kind or name == held:
                continue
            inside = np.hypot(*(np.array(state.position[:2]) - container)) < BOWL_INNER_RADIUS
            if (
                inside
                and state.position[2] < IN_CONTAINER_MAX_Z
                and np.linalg.norm(state.linear_velocity) < RESTING_SPEED
            ):
                return name
        return None
