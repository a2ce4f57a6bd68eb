"""Hand-built scenes for success checks: objects teleported into place with the world API, then settled."""

from __future__ import annotations

from codeact_robot.envs.objects import spec_of
from codeact_robot.envs.world import TabletopWorld

Goal = dict[str, tuple[float, float, float]]


def arrange(world: TabletopWorld, goal: Goal) -> None:
    """Park every object off the workspace, teleport the goal's objects, let them settle."""
    for i, name in enumerate(world.object_names):
        half = spec_of(name).half_height
        world.sim.set_pose(name, (0.95 + 0.2 * (i % 2), -0.6 + 0.17 * (i // 2), half), (0, 0, 0, 1))
        world.sim.set_velocity(name, (0, 0, 0), (0, 0, 0))
    for name, position in goal.items():
        world.sim.set_pose(name, position, (0, 0, 0, 1))
    world.step(480)
