"""Shared fixtures: a world, CodeAct environments, the fake OpenAI server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import codeact_robot  # noqa: F401  (registers the environments)
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.world import TabletopWorld


@pytest.fixture(autouse=True, scope="session")
def own_user_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A user data folder of the tests' own: episodes never read or write the real user's skill library."""
    previous = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("user-data"))
    yield
    if previous is None:
        del os.environ["XDG_DATA_HOME"]
    else:
        os.environ["XDG_DATA_HOME"] = previous


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
