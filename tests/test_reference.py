"""The scripted expert solves every task family through the real agent loop, worker and sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codeact_robot.agent.session import run_episode
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import CAP_FAMILIES, TASKS
from codeact_robot.expert import ExpertBackend
from codeact_robot.expert.programs import reference_program, solve_call


@pytest.fixture(scope="module", params=["state", "vision"])
def envs(request: pytest.FixtureRequest) -> Iterator[dict[str, CodeActEnv]]:
    made: dict[str, CodeActEnv] = {}

    def get(task: str) -> CodeActEnv:
        if task not in made:
            made[task] = CodeActEnv(task=task, perception=request.param, renderer="tiny")
        return made[task]

    yield get  # type: ignore[misc]
    for env in made.values():
        env.close()


# Vision mode on the families whose scenes differ for the detector (towers, bowls, hidden blocks, lines);
# the others hold nothing these do not. The other families: test_reference_arrangements.py, test_tasks_interactive.py
VISION_SAMPLE = (
    "StackBlocks", "BlocksInBowl", "MatchingBowls", "PickByDirectionFromBowl",
    "PlaceRelativeToBowl", "BlocksInLine", "FindHiddenBlock", "SortHiddenBlocks",
)  # fmt: skip


@pytest.mark.parametrize("task", [task.name for task in CAP_FAMILIES])
def test_reference_program_solves_the_task(envs, task: str, request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params["envs"] == "vision" and task not in VISION_SAMPLE:
        pytest.skip("vision mode runs on a sample of the families (VISION_SAMPLE); benchmarks/reference.py runs all")
    env = envs(task)
    seed = 0 if env.config.perception == "state" else 2  # success rates: benchmarks/reference.py
    record = run_episode(env, ExpertBackend(env.instance_for(seed)), seed=seed)
    assert record.success, f"{task} seed {seed} ({env.config.perception}): {record.outcome}; {record.check}"
    assert record.turns[0].code and "solve(" in record.turns[0].code


def test_reference_programs_use_only_instruction_level_parameters() -> None:
    for task in TASKS.values():
        instance = task.sample(0)
        call = solve_call(instance)
        if "object" in instance.params and task.name.startswith("Pick") and task.name != "PickPlace":
            assert "object=" not in call, f"{task.name} passes the answer to its program"
        assert reference_program(instance).endswith(call + "\n")
