"""The scripted expert on the families of many moves, through the real agent loop, worker and sandbox.

Slow: one held-out episode per family (unseen colours, a seed the other tests do not use),
so CI runs each family once; ``benchmarks/families.py`` measures the success rate.
"""

from __future__ import annotations

import pytest

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import ARRANGEMENT_FAMILIES
from codeact_robot.expert import ExpertBackend

CASES = [(task.name, 200 + index) for index, task in enumerate(ARRANGEMENT_FAMILIES)]


@pytest.mark.parametrize(("task", "seed"), CASES)
def test_the_expert_solves_a_held_out_episode(task: str, seed: int) -> None:
    env = CodeActEnv(task=task, perception="state", colours="unseen", renderer="tiny")
    try:
        record = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
    finally:
        env.close()
    assert record.success, f"{task} seed {seed}: {record.outcome}; {record.check}"
    assert record.turns[0].code and "solve(" in record.turns[0].code
