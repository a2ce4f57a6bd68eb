"""Shared fixtures: a world, CodeAct environments, the fake OpenAI server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import codeact_robot  # noqa: F401  (registers the environments)
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.world import TabletopWorld


@pytest.fixture
def world() -> Iterator[TabletopWorld]:
    """A tabletop world rendered with TinyRenderer (the same on every machine)."""
    world = TabletopWorld(renderer="tiny")
    yield world
    world.close()


@pytest.fixture(scope="module")
def free_env() -> Iterator[CodeActEnv]:
    """A free-scene CodeAct environment whose worker lives for the whole test module."""
    env = CodeActEnv(renderer="tiny", time_limit_s=5.0, max_turns=500)
    yield env
    env.close()
