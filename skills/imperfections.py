"""Imperfect physics: grasps that slip, noisy object state, varied objects, disturbances between turns.

Each effect draws from its own numpy Generator seeded from the episode seed, in a fixed
order (one draw per grasp, per object at the start, per turn), so the same seed and the
same actions give the same slips, variations and disturbances, and a replay reproduces
the final state. State noise is a function of the seed, the physics step and the object's
name, so it does not depend on how often, or whether, the scene was perceived before.
An episode restored into a fresh simulator continues the slip and disturbance streams
where its snapshot left them (:meth:`Imperfections.streams`); the variations are drawn
again from the start, and so scale the rebuilt objects as before. All are off at 0.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from codeact_robot.envs.bullet import pybullet
from codeact_robot.envs.objects import KINDS
from codeact_robot.envs.workspace import WORKSPACE
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.skills.estimates import ObjectEstimate

SLIP, NOISE, VARIATION, DISTURBANCE = range(4)  # each effect's generator stream (noise: one per look)
RESUMED = (SLIP, DISTURBANCE)  # the streams a restored episode continues (see streams())
NUDGE = (0.04, 0.08)  # metres an object is moved by a disturbance
NUDGE_ROOM = 0.07  # a nudged object lands at least this far (centre to centre) from every other
NUDGE_MARGIN = 0.03  # and this far inside the workspace
SETTLE_STEPS = 120  # physics steps after a disturbance (half a simulated second)
MOVABLE = ("block", "cup")


class Imperfections:
    """The imperfect-physics effects of one episode.

    Args:
        seed: the episode seed.
        grasp_slip: probability that a closing grasp slips (the object stays behind when the arm moves).
        state_noise: standard deviation, metres, of the offset added to each perceived
            object's position and box (one offset per object per physics step, however often it is read).
        variation: relative variation of each object's mass and friction (uniform in ±variation).
        disturbance: probability per turn that an object is nudged (or knocked off a tower)
            after the program ends.
        streams: where the slip and disturbance streams stood (:meth:`streams` of the episode
            being restored); empty: at the seed's start.

    Raises:
        ValueError: ``streams`` that are not two PCG64 states.
    """

    def __init__(
        self,
        seed: int,
        grasp_slip: float,
        state_noise: float,
        variation: float,
        disturbance: float,
        streams: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.grasp_slip = grasp_slip
        self.state_noise = state_noise
        self.variation = variation
        self.disturbance = disturbance
        self._seed = seed
        self._random = {stream: np.random.default_rng([seed, stream]) for stream in (SLIP, VARIATION, DISTURBANCE)}
        if streams:
            if len(streams) != len(RESUMED):
                raise ValueError(f"an episode continues {len(RESUMED)} random streams, got {len(streams)}")
            for stream, state in zip(RESUMED, streams):
                try:
                    self._random[stream].bit_generator.state = dict(state)
                except (TypeError, ValueError, KeyError) as error:
                    raise ValueError(f"not a PCG64 random stream's state: {error}") from None

    def streams(self) -> list[dict[str, Any]]:
        """Where the slip and disturbance streams stand now, as plain data (for a restore to continue them)."""
        return [self._random[stream].bit_generator.state for stream in RESUMED]

    def slips(self) -> bool:
        """Whether the grasp that just closed slips (one draw per grasp when slips are on)."""
        return self.grasp_slip > 0 and bool(self._random[SLIP].random() < self.grasp_slip)

    def noisy(self, estimates: dict[str, ObjectEstimate], step: int) -> dict[str, ObjectEstimate]:
        """The estimates, each shifted by its own Gaussian offset, drawn from the seed, ``step`` and its name.

        Args:
            estimates: fresh estimates, by name.
            step: the physics step count at which they were perceived.
        """
        if self.state_noise <= 0:
            return estimates
        noisy = {}
        for name in sorted(estimates):
            e = estimates[name]
            look = np.random.default_rng([self._seed, NOISE, step, zlib.crc32(name.encode())])
            offset = look.normal(0.0, self.state_noise, 3)
            noisy[name] = ObjectEstimate(
                e.name, e.kind, e.colour, e.position + offset, e.orientation,
                (e.bbox[0] + offset, e.bbox[1] + offset), e.camera, e.pixels,
            )  # fmt: skip
        return noisy

    def vary(self, world: TabletopWorld) -> None:
        """Scale each object's mass and friction by its own factor in [1 - variation, 1 + variation]."""
        if self.variation <= 0:
            return
        for name in world.object_names:
            mass_factor, friction_factor = 1.0 + self.variation * self._random[VARIATION].uniform(-1.0, 1.0, 2)
            info = world.sim.client.getDynamicsInfo(world.sim.body_id(name), -1)
            world.sim.set_dynamics(name, mass=info[0] * mass_factor, lateralFriction=info[1] * friction_factor)

    def disturb(self, world: TabletopWorld, visible: set[str]) -> str | None:
        """Maybe nudge one visible block or cup with nothing on it; says what happened, or None.

        Five numbers are drawn every turn whatever happens, so one turn's outcome never
        shifts the next turn's draws.
        """
        if self.disturbance <= 0:
            return None
        happens, pick, angle, distance, turn = self._random[DISTURBANCE].random(5)
        held = world.held_object()
        candidates = [
            n for n in world.object_names if n in visible and n != held and world.placement(n).kind in MOVABLE
        ]
        candidates = [n for n in candidates if not _carries_something(world, n)]
        if happens >= self.disturbance or not candidates:
            return None
        name = candidates[int(pick * len(candidates))]
        position, orientation = world.sim.get_pose(name)
        heading = 2 * math.pi * angle
        spot = position[:2] + (NUDGE[0] + distance * (NUDGE[1] - NUDGE[0])) * np.array(
            [math.cos(heading), math.sin(heading)]
        )
        low, high = np.array(WORKSPACE.low[:2]) + NUDGE_MARGIN, np.array(WORKSPACE.high[:2]) - NUDGE_MARGIN
        spot = np.clip(spot, low, high)
        others = [world.sim.get_pose(n)[0][:2] for n in world.object_names if n != name]
        if any(np.hypot(*(spot - other)) < NUDGE_ROOM for other in others):
            return None
        yaw = pybullet.getEulerFromQuaternion(orientation)[2] + (turn - 0.5)
        kind = KINDS[world.placement(name).kind]
        was_raised = position[2] > kind.half_height + 0.01
        world.sim.set_pose(name, (*spot, kind.half_height + 0.002), pybullet.getQuaternionFromEuler((0.0, 0.0, yaw)))
        world.sim.set_velocity(name, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
        world.step(SETTLE_STEPS)
        return "knocked off what it stood on" if was_raised else "nudged"


def _carries_something(world: TabletopWorld, name: str) -> bool:
    """Whether another object rests on ``name``."""
    position = world.sim.get_pose(name)[0]
    for other in world.object_names:
        if other != name:
            above = world.sim.get_pose(other)[0]
            if above[2] > position[2] + 0.01 and np.hypot(*(above[:2] - position[:2])) < 0.03:
                return True
    return False
