"""Results stores for the report, viewer and export tests: real episodes, and large synthetic ones.

``real_store`` runs a few real episodes (real worker processes, the scripted expert and the
fake OpenAI server) and writes them as the evaluation engine does: the engine's own
``episode_result`` and one ``write_episode`` per episode with the camera image after each
turn. ``synthetic_store`` writes thousands of realistic rows (transcripts of the same
shape) in one transaction, from a seeded random generator, for the scale tests; a row is
a dict of every column but ``id``, its facts checked by the engine's ``EpisodeFacts``.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio.v3 as iio
from fake_openai_server import FakeOpenAIServer

from codeact_robot.agent import make_backend, run_episode
from codeact_robot.agent.trajectory import TurnRecord
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import TASKS, get_task
from codeact_robot.eval.results.rows import EpisodeFacts, EpisodeKey, EpisodeResult, TurnImage
from codeact_robot.eval.results.store import COLUMNS, ResultsStore
from codeact_robot.eval.running.runner import episode_result
from codeact_robot.llm import LLMConfig

SUITE_HASH = "a" * 64
FINISHED_AT = "2026-11-25T12:00:00+0000"
HOSTILE = '<script>alert("x")</script><img src=x onerror="document.title=\'pwned\'">'
OUTCOME_OF_KIND = {
    "success": "success",
    "wrong_final_state": "done",
    "gave_up": "message",
    "turn_limit": "turn_limit",
    "worker_crash": "worker_crash",
    "model_error": "llm_error",
    "error": "error",
}


@dataclass(frozen=True)
class RealStore:
    """A store of real episodes and what each one is."""

    folder: Path
    expert_id: int  # the expert solving PickPlace seed 0 in one turn
    self_debug_id: int  # an API error in turn 1, then success in turn 2
    hostile_id: int  # code, output and instruction full of HTML


def suite_definition(name: str, tasks: Sequence[str], seeds: Sequence[int], agents: Sequence[str]) -> str:
    """A suite's canonical definition as the store keeps it."""
    return json.dumps(
        {"name": name, "tasks": list(tasks), "seeds": list(seeds), "agents": [{"name": a} for a in agents]},
        sort_keys=True,
    )


def _run(
    store: ResultsStore,
    run_id: int,
    task: str,
    seed: int,
    agent: str,
    llm: LLMConfig,
    options: dict | None = None,
) -> int:
    env = CodeActEnv(task, renderer="tiny", render_mode="rgb_array", time_limit_s=10.0)
    images: list[TurnImage] = []

    def keep_image(turn: TurnRecord) -> None:
        rgb = env.render()
        if rgb is not None:
            images.append(TurnImage(turn.turn, "front", iio.imwrite("<bytes>", rgb, extension=".jpeg")))

    try:
        backend = make_backend(llm, env.instance_for(seed, options))
        record = run_episode(env, backend, seed, options=options, on_turn=keep_image)
    finally:
        env.close()
    result = episode_result(EpisodeKey(agent, task, seed, 0), llm.label, env.config.api, record, 1, tuple(images))
    return store.write_episode(result, SUITE_HASH, run_id)


def real_store(folder: Path) -> RealStore:
    """Three real episodes of PickPlace seed 0 (blue block onto the green block), one suite."""
    store = ResultsStore(folder, create=True)
    store.add_suite(SUITE_HASH, "real", suite_definition("real", ["PickPlace"], [0], ["expert", "model"]), False)
    run_id = store.start_run(SUITE_HASH, {"workers": 1})
    expert = _run(store, run_id, "PickPlace", 0, "expert", LLMConfig(backend="reference"))
    replies = [
        {"content": "Let me look first.\n<execute>\nprint(get_object_names())\npick('purple block')\n</execute>"},
        {
            "content": "The block is blue.\n<execute>\nok = pick_and_place('blue block', 'green block')\n"
            "print('placed', ok)\n</execute>"
        },
    ]  # the episode ends at success, after the second turn
    hostile = [
        {"content": f"Reasoning {HOSTILE}\n<execute>\nprint({HOSTILE!r})\nx = 1 / 0\n</execute>"},
        {"content": f"I give up {HOSTILE}"},
    ]
    with FakeOpenAIServer(replies + hostile, model="fake-model") as server:
        llm = LLMConfig(backend="openai", base_url=server.base_url, model="fake-model")
        self_debug = _run(store, run_id, "PickPlace", 0, "model", llm)
        hostile_id = _run(store, run_id, "PickPlace", 1, "model", llm, options={"instruction": f"stack it {HOSTILE}"})
    store.close()
    return RealStore(folder, expert, self_debug, hostile_id)


def synthetic_record(
    task: str, seed: int, instruction: str, turns: int, success: bool, rng: random.Random, outcome: str | None = None
) -> str:
    """A transcript of the shape real episodes have (system prompt shortened), as JSON."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You control a Franka Panda robot arm on a table by writing Python programs."},
        {"role": "user", "content": f"Task: {instruction}\nScene: objects on the table.\n{turns} turns left."},
    ]
    turn_records = []
    for turn in range(1, turns + 1):
        code = f"x, y, z = get_object_position('red block')\nprint('turn {turn}', round(x, 3), seed_{seed})"
        failed = turn < turns or not success
        error = None
        if failed and rng.random() < 0.5:
            error = f'Traceback (most recent call last):\n  File "<turn {turn}>", line 2\nNameError: seed_{seed}'
        stdout = "" if error else f"turn {turn} 0.512 {seed}\n"
        observation = f"Observation:\n{stdout}{error or ''}\nScene: ...\n{turns - turn} turns left."
        assistant = f"I check the block.\n<execute>\n{code}\n</execute>"
        messages += [{"role": "assistant", "content": assistant}, {"role": "user", "content": observation}]
        turn_records.append(
            {
                "turn": turn,
                "kind": "action",
                "assistant": assistant,
                "code": code,
                "observation": observation,
                "report": {"stdout": stdout, "error": error, "origin": "program" if error else None},
                "success": success and turn == turns,
            }
        )
    record = {
        "version": 2,
        "config": {},
        "task": task,
        "seed": seed,
        "instruction": instruction,
        "mode": "codeact",
        "messages": messages,
        "turns": turn_records,
        "outcome": outcome or ("success" if success else "turn_limit"),
        "success": success,
        "check": "synthetic",
        "final_objects": {"red block": {"position": [0.5, 0.0, 0.02]}},
    }
    return json.dumps(record)


def stored_row(
    facts: EpisodeFacts,
    record: str,
    search_text: str,
    suite_hash: str = SUITE_HASH,
    finished_at: str = FINISHED_AT,
    video: str | None = None,
) -> dict[str, Any]:
    """Every column of a stored episode but ``id``: its facts and what the store adds (run 1)."""
    return {
        **facts.model_dump(),
        "suite_hash": suite_hash,
        "run_id": 1,
        "finished_at": finished_at,
        "video": video,
        "search_text": search_text,
        "record": record,
    }


def synthetic_rows(
    count: int,
    agents: Sequence[str] = ("codeact", "json", "text"),
    success_rates: Sequence[float] = (0.7, 0.5, 0.4),
    seed: int = 0,
    suite_hash: str = SUITE_HASH,
) -> list[dict[str, Any]]:
    """``count`` episodes spread over the agents, every task family and consecutive seeds.

    Each agent runs the same (task, seed) pairs, so agents are paired; successes are drawn
    with the agent's rate, failure kinds from the vocabulary.
    """
    rng = random.Random(seed)
    tasks = list(TASKS)
    kinds = ["wrong_final_state", "gave_up", "turn_limit", "syntax_error", "api_misuse", "physical_failure"]
    rows = []
    for index in range(count):
        agent_index = index % len(agents)
        pair = index // len(agents)
        task = tasks[pair % len(tasks)]
        episode_seed = pair // len(tasks)
        success = rng.random() < success_rates[agent_index]
        turns = rng.randint(1, 6)
        kind = "success" if success else rng.choice(kinds)
        instruction = _instruction(task, episode_seed % 5)
        facts = EpisodeFacts(
            agent=agents[agent_index],
            task=task,
            seed=episode_seed,
            repeat=0,
            split=TASKS[task].split,
            mode=agents[agent_index] if agents[agent_index] in ("codeact", "json", "text") else "codeact",
            api="high",
            model="fake-model",
            outcome=OUTCOME_OF_KIND.get(kind, "done"),
            success=success,
            failure_kind=kind,
            turns=turns,
            prompt_tokens=900 * turns,
            completion_tokens=80 * turns,
            llm_s=0.5 * turns,
            exec_s=0.2 * turns,
            sim_s=2.0 * turns,
            wall_s=3.0 * turns,
            instruction=instruction,
            error=None,
            attempts=1,
        )
        record = synthetic_record(
            task, episode_seed, instruction, turns, success, rng, OUTCOME_OF_KIND.get(kind, "done")
        )
        search = f"get_object_position('red block') seed_{episode_seed} turn {turns}"
        finished_at = f"2026-11-25T12:{index // 600 % 60:02d}:{index // 10 % 60:02d}+0000"
        rows.append(stored_row(facts, record, search, suite_hash, finished_at))
    return rows


def hand_result(
    agent: str,
    task: str,
    seed: int,
    success: bool,
    kind: str | None = None,
    turns: int = 1,
    mode: str = "codeact",
    repeat: int = 0,
    record: str | None = None,
    **facts: Any,
) -> EpisodeResult:
    """A hand-made episode: ``turns`` turns, 100 prompt and 10 completion tokens per turn, 1 s of each time."""
    kind = kind or ("success" if success else "wrong_final_state")
    instruction = facts.pop("instruction", f"do {task}")
    checked = EpisodeFacts(
        agent=agent,
        task=task,
        seed=seed,
        repeat=repeat,
        split=TASKS[task].split,
        mode=mode,
        api=facts.pop("api", "high"),
        model=facts.pop("model", "model-x"),
        outcome=OUTCOME_OF_KIND.get(kind, "done"),
        success=success,
        failure_kind=kind,
        turns=turns,
        prompt_tokens=100 * turns,
        completion_tokens=10 * turns,
        llm_s=1.0,
        exec_s=1.0,
        sim_s=1.0,
        wall_s=1.0,
        instruction=instruction,
        error="worker did not start" if kind == "error" else None,
        attempts=1,
        **facts,
    )
    transcript = record or synthetic_record(
        task, seed, instruction, turns, success, random.Random(seed), OUTCOME_OF_KIND.get(kind, "done")
    )
    return EpisodeResult(checked, transcript, f"code of {agent} {task} {seed}")


def episode_row(*args: Any, suite_hash: str = SUITE_HASH, video: str | None = None, **facts: Any) -> dict[str, Any]:
    """The stored row, in suite ``suite_hash``, of the :func:`hand_result` episode of the same arguments."""
    result = hand_result(*args, **facts)
    return stored_row(result.facts, result.record, result.search_text, suite_hash, video=video)


@functools.cache
def _instruction(task: str, seed: int) -> str:
    return get_task(task).instance(seed, None).instruction


def write_rows(store: ResultsStore, rows: Sequence[dict[str, Any]]) -> None:
    """Write many rows in one transaction (``write_episode`` commits each, too slow for 10,000)."""
    statement = f"INSERT INTO episodes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    with store.transaction() as db:
        db.executemany(statement, [[row[c] for c in COLUMNS] for row in rows])


def synthetic_store(
    folder: Path,
    count: int,
    agents: Sequence[str] = ("codeact", "json", "text"),
    name: str = "action-modes",
    heldout: bool = False,
    **options: Any,
) -> Path:
    """A store of ``count`` synthetic episodes of one suite (see :func:`synthetic_rows`)."""
    store = ResultsStore(folder, create=True)
    suite_hash = options.pop("suite_hash", SUITE_HASH)
    store.add_suite(suite_hash, name, suite_definition(name, list(TASKS), [], agents), heldout)
    store.start_run(suite_hash, {"workers": 2})
    write_rows(store, synthetic_rows(count, agents, suite_hash=suite_hash, **options))
    store.close()
    return folder
