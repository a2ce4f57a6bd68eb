"""``codeact-robot eval`` and ``export`` end to end: real workers, real SQLite, a real HTTP model server."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_openai_server import FakeOpenAIServer, detail_error, old_vllm_error, overflow_message, vllm_error
from rich.console import Console

from codeact_robot.agent.trajectory import EpisodeRecord
from codeact_robot.cli import main
from codeact_robot.eval.results.rows import EpisodeKey
from codeact_robot.eval.results.store import STORE_FILE, ResultsStore
from codeact_robot.eval.running.evaluation import EvalOptions, run_evaluation
from codeact_robot.eval.running.runner import Retries
from codeact_robot.eval.running.suite import load_suite, parse_suite
from codeact_robot.llm.batching import BatchingEngine, SharedEngines

CLEAN = "I will look first.\n<execute>print('looking')</execute>"
FAST = Retries(attempts=3, backoff_s=0.05)


def acting(turns: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A model that runs clean actions, then ends with a message at turn ``turns``."""

    def respond(request: dict[str, Any]) -> dict[str, Any]:
        observed = sum(str(m["content"]).startswith("Observation:") for m in request["messages"])
        return {"content": "The task is done."} if observed >= turns - 1 else {"content": CLEAN}

    return respond


act_then_stop = acting(2)


def suite_file(tmp_path: Path, name: str = "mini", **settings: Any) -> Path:
    data = {"name": name, "tasks": ["PickPlace"], "seeds": [0], "agents": [{"name": "expert"}], **settings}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def model_agent(server: FakeOpenAIServer, **settings: Any) -> dict[str, Any]:
    llm = {"backend": "openai", "base_url": server.base_url, "model": "fake-model", **settings.pop("llm", {})}
    return {"name": "model", "renderer": "tiny", "llm": llm, **settings}


def evaluate(path: Path, out: Path, **options: Any) -> tuple[int, str]:
    """Run a suite in this process; returns the exit status and what it printed."""
    console = Console(file=io.StringIO(), width=200)
    engines = options.pop("engines", None)
    status = run_evaluation(load_suite(str(path)), out, EvalOptions(**options), console, engines)
    return status, console.file.getvalue()


def rows(out: Path) -> list[dict[str, Any]]:
    store = ResultsStore(out)
    try:
        return sorted(store.summaries(), key=lambda r: (r["agent"], r["task"], r["seed"], r["repeat"]))
    finally:
        store.close()


def test_a_suite_runs_in_parts_resumes_and_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = suite_file(tmp_path, tasks=["PickPlace", "StackBlocks"], seeds=[0, 1], agents=[{"name": "expert"}])
    out = tmp_path / "results"
    args = ["eval", "--suite", str(path), "--out", str(out), "--workers", "2"]
    assert main([*args, "--limit", "3"]) == 0
    assert len(rows(out)) == 3
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "4 episodes, 3 stored, 1 to run" in printed
    assert "1/1 done, 0 in flight; success: expert 1/1" in printed  # the plain progress line (not a terminal)
    assert re.search(r"expert\s+codeact\s+high\s+reference\s+4\s+100.0% \[51.0, 100.0\] 4/4", printed)  # the report
    assert main(args) == 0 and "4 stored, 0 to run" in capsys.readouterr().out

    stored = rows(out)
    assert [(r["task"], r["seed"]) for r in stored] == [
        ("PickPlace", 0),
        ("PickPlace", 1),
        ("StackBlocks", 0),
        ("StackBlocks", 1),
    ]
    assert all(r["success"] and r["failure_kind"] == "success" and r["attempts"] == 1 for r in stored)
    store = ResultsStore(out)
    (record_id,) = [r["id"] for r in stored if r["task"] == "StackBlocks" and r["seed"] == 1]
    record = store.record(record_id)
    assert record is not None and EpisodeRecord.model_validate({k: v for k, v in record.items() if k != "totals"})
    assert [(i.turn, i.camera) for i in store.images(record_id)] == [(0, "front"), (1, "front")]
    assert store.images(record_id)[1].jpeg.startswith(b"\xff\xd8")
    assert [r["status"] for r in store.runs()] == ["finished"] * 3
    store.close()

    assert main(["export", str(out), "--format", "jsonl", "--out", str(tmp_path / "e.jsonl")]) == 0
    exported = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert len(exported) == 4
    for line, row in zip(sorted(exported, key=lambda e: (e["task"], e["seed"])), stored):
        for key in ("agent", "mode", "task", "split", "seed", "repeat", "success", "outcome", "turns", "wall_s"):
            assert line[key] == row[key]
        assert line["suite"] == "mini" and line["tokens"] is None and line["failure_kind"] == "success"
        assert [m["role"] for m in line["messages"]] == ["system", "user", "assistant", "user"]
    assert main(["export", str(out), "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(table) == 4 and {t["outcome"] for t in table} == {"success"} and "messages" not in table[0]


def _count(out: Path) -> int:
    if not (out / STORE_FILE).exists():
        return 0
    db = sqlite3.connect(f"file:{out / STORE_FILE}?mode=ro", uri=True)
    try:
        return db.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is being created
        return 0
    finally:
        db.close()


def _wait_for(predicate: Callable[[], bool], timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the evaluation did not get that far"
        time.sleep(0.1)


def _left_behind(scratch: Path) -> list[str]:
    """Worker scratch folders under ``scratch``, and processes still running with one."""
    folders = [p.name for p in scratch.glob("codeact-worker-*")]
    running = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if str(scratch) in cmdline.read_text():
                running.append(cmdline.parent.name)
    return folders + running


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A temporary folder for the episode workers' scratch folders, that a worker run as nobody can reach."""
    folder = Path(tempfile.mkdtemp(prefix="codeact-robot-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_ctrl_c_and_kill_9_lose_at_most_the_episodes_in_flight(tmp_path: Path, scratch: Path) -> None:
    tasks, seeds = ["PickPlace", "StackBlocks", "BlocksInBowl", "PickNthFromDirection"], [0, 1, 2]
    total = len(tasks) * len(seeds)
    path = suite_file(tmp_path, tasks=tasks, seeds=seeds, agents=[{"name": "expert", "renderer": "tiny"}])
    out = tmp_path / "results"
    command = [sys.executable, "-m", "codeact_robot", "eval", "--suite", str(path), "--out", str(out), "--workers", "2"]

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            command,
            cwd=tmp_path,
            env={**os.environ, "TMPDIR": str(scratch)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    first = start()  # Ctrl-C at a terminal: the episodes in flight finish and are stored, then it stops
    _wait_for(lambda: _count(out) >= 2)
    os.killpg(first.pid, signal.SIGINT)  # to the whole process group, as a terminal sends it
    printed = first.communicate(timeout=120)[0]
    assert first.returncode == 130, printed
    assert "stopping:" in printed and "interrupted: run the same command again to resume" in printed
    after_interrupt = _count(out)
    assert 2 <= after_interrupt < total
    assert _left_behind(scratch) == []

    second = start()  # Ctrl-C twice: the episodes in flight are abandoned
    _wait_for(lambda: _count(out) >= after_interrupt + 1)
    os.killpg(second.pid, signal.SIGINT)
    time.sleep(0.3)
    with contextlib.suppress(ProcessLookupError):  # (unless its episodes in flight were already done)
        os.killpg(second.pid, signal.SIGINT)
    assert second.wait(timeout=60) == 130
    after_abandon = _count(out)
    assert _left_behind(scratch) == []  # the abandoned episodes' workers were ended and cleaned up

    third = start()  # kill -9: no chance to clean up at all
    _wait_for(lambda: _count(out) >= after_abandon + 2)
    third.kill()
    third.wait(timeout=30)
    after_kill = _count(out)
    assert after_abandon + 2 <= after_kill <= total

    last = start()
    printed = last.communicate(timeout=300)[0]
    assert last.returncode == 0, printed
    assert f"{total} episodes, {after_kill} stored, {total - after_kill} to run" in printed
    stored = rows(out)
    keys = [(r["task"], r["seed"]) for r in stored]
    assert len(keys) == len(set(keys)) == total  # never duplicated, never skipped
    assert all(r["success"] for r in stored)
    store = ResultsStore(out)
    assert [r["status"] for r in reversed(store.runs())] == ["interrupted", "interrupted", "running", "finished"]
    for row in stored:  # every row was written whole; no worker was hit by the Ctrl-C
        record = store.record(row["id"])
        assert record is not None and store.images(row["id"])
        assert not any(turn["report"]["restarted"] for turn in record["turns"])
    store.close()


def test_transient_model_failures_are_retried_then_stored_as_errors_and_rerun(tmp_path: Path) -> None:
    # the client's own retry: a 503, then the answer
    with FakeOpenAIServer([{"status": 503}], respond=act_then_stop) as server:
        path = suite_file(tmp_path, "client", agents=[model_agent(server)])
        assert evaluate(path, tmp_path / "client", retries=FAST)[0] == 0
        assert len(server.requests) == 3  # 503, the action, the message
    (row,) = rows(tmp_path / "client")
    assert row["outcome"] == "message" and row["attempts"] == 1 and row["failure_kind"] == "wrong_final_state"

    # no client retries: the episode itself is tried again after a backoff
    with FakeOpenAIServer([{"status": 503}], respond=act_then_stop) as server:
        path = suite_file(tmp_path, "episode", agents=[model_agent(server, llm={"max_retries": 0})])
        assert evaluate(path, tmp_path / "episode", retries=FAST)[0] == 0
    (row,) = rows(tmp_path / "episode")
    assert row["outcome"] == "message" and row["attempts"] == 2

    # a server that keeps failing: stored as an infrastructure error, exit 1, rerun on request
    out = tmp_path / "down"
    with FakeOpenAIServer(fallback={"status": 503}) as server:
        path = suite_file(tmp_path, "down", agents=[model_agent(server, llm={"max_retries": 0})])
        status, printed = evaluate(path, out, retries=FAST)
        assert len(server.requests) == 3
    assert status == 1 and "1 episode(s) ended in an infrastructure error" in printed and "--retry-errors" in printed
    assert "the most frequent (1): " in printed and "answered HTTP 503" in printed
    (row,) = rows(out)
    assert row["outcome"] == "error" and row["failure_kind"] == "error" and row["attempts"] == 3
    assert "answered HTTP 503" in row["error"] and not row["success"]
    with FakeOpenAIServer(respond=act_then_stop, port=int(server.base_url.split(":")[2].split("/")[0])) as server:
        assert evaluate(path, out, retries=FAST)[0] == 1  # without --retry-errors the error stays
        assert server.requests == []
        assert evaluate(path, out, retries=FAST, retry_errors=True)[0] == 0
    (row,) = rows(out)
    assert row["outcome"] == "message" and row["error"] is None


BROADCAST = "could not broadcast input array from shape (175,) into shape (105,)"
STREAM_ERROR = {"message": "The engine died while generating", "type": "InternalServerError", "code": 500}
OVERFLOW = overflow_message("old", 4096, 4300, 1024)
OVERFLOW_NEW = overflow_message("new", 4096, 4300, 1024)


def real_server_failures(request: dict[str, Any]) -> dict[str, Any]:
    """Each model (one per agent) fails as a real server did, after this many good turns."""
    model = request["model"]
    observed = sum(str(m["content"]).startswith("Observation:") for m in request["messages"])
    if model == "cut":
        return {"content": "I will pick it up.\n<execute>\npick_and_place('red block',", "finish_reason": "length"}
    if model == "stream" and observed == 1:
        return {"content": "I will", "stream_error": STREAM_ERROR}
    if model == "repeat" and observed == 2:
        return {"status": 500, "body": {"error": {"code": 500, "message": BROADCAST, "type": "server_error"}}}
    if model == "overflow":
        return old_vllm_error(OVERFLOW)
    if model == "overflow-new" and observed == 1:
        return vllm_error(OVERFLOW_NEW)
    if model == "detail":
        return detail_error("Model detail is not loaded", 404)
    return {"content": CLEAN}


def test_what_real_servers_do_is_stored_with_its_reason_and_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeOpenAIServer(respond=real_server_failures, model="listed-model") as server:
        agents = [
            {**model_agent(server, max_turns=2), "name": "cut", "llm": {**model_agent(server)["llm"], "model": "cut"}},
            {
                **model_agent(server),
                "name": "stream",
                "llm": {**model_agent(server)["llm"], "model": "stream", "stream": True},
            },
            {**model_agent(server), "name": "repeat", "llm": {**model_agent(server)["llm"], "model": "repeat"}},
            {**model_agent(server), "name": "overflow", "llm": {**model_agent(server)["llm"], "model": "overflow"}},
            {**model_agent(server), "name": "new", "llm": {**model_agent(server)["llm"], "model": "overflow-new"}},
            {**model_agent(server), "name": "detail", "llm": {**model_agent(server)["llm"], "model": "detail"}},
        ]
        path = suite_file(tmp_path, "servers", agents=agents)
        out = tmp_path / "out"
        with pytest.raises(Exception, match="no model named 'cut'"):  # the server lists only its loaded model
            evaluate(path, out, retries=FAST)
        assert evaluate(path, out, retries=FAST, skip_model_check=True)[0] == 0
    models = ("cut", "stream", "repeat", "overflow", "overflow-new", "detail")
    sent = {name: sum(r["model"] == name for r in server.requests) for name in models}
    # cut: 2 turns; stream: a turn, then the error event (not retried); repeat: 2 turns, then the
    # same 500 twice (not asked a third time); overflow: the 400, once; overflow-new: a turn, then
    # the 400; detail: the 404, once
    assert sent == {"cut": 2, "stream": 2, "repeat": 4, "overflow": 1, "overflow-new": 2, "detail": 1}
    stored = {r["agent"]: r for r in rows(out)}
    url = server.base_url
    assert {a: (r["outcome"], r["failure_kind"], r["turns"], r["attempts"]) for a, r in stored.items()} == {
        "cut": ("reply_cut_off", "reply_cut_off", 2, 1),
        "stream": ("llm_error", "model_error", 1, 1),
        "repeat": ("llm_error", "model_error", 2, 1),
        "overflow": ("context_overflow", "context_overflow", 0, 1),
        "new": ("context_overflow", "context_overflow", 1, 1),
        "detail": ("llm_error", "model_error", 0, 1),
    }
    assert stored["cut"]["error"] is None
    assert stored["stream"]["error"] == f"the model server at {url} failed while answering: {STREAM_ERROR['message']}"
    assert stored["repeat"]["error"] == (
        f"the model server at {url} answered HTTP 500: {BROADCAST} (the same answer 2 times in a row; not asked again)"
    )
    assert stored["overflow"]["error"] == f"the model server at {url} answered HTTP 400: {OVERFLOW}"
    assert stored["new"]["error"] == f"the model server at {url} answered HTTP 400: {OVERFLOW_NEW}"
    assert stored["detail"]["error"] == f"the model server at {url} answered HTTP 404: Model detail is not loaded"
    store = ResultsStore(out)
    record = store.record(stored["cut"]["id"])
    store.close()
    assert record is not None and [t["finish_reason"] for t in record["turns"]] == ["length", "length"]
    assert [t["kind"] for t in record["turns"]] == ["cut_off", "cut_off"]

    assert main(["export", str(out), "--format", "csv"]) == 0
    exported = {row["agent"]: row for row in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert exported["repeat"]["error"] == stored["repeat"]["error"]
    assert main(["report", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "context_overflow" in printed and "reply_cut_off" in printed


def test_a_folder_of_another_suite_is_refused_unless_new_or_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results"
    first = suite_file(tmp_path, "first", seeds=[0])
    second = suite_file(tmp_path, "second", seeds=[1])
    assert main(["eval", "--suite", str(first), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["eval", "--suite", str(second), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    hashes = load_suite(str(first)).hash, load_suite(str(second)).hash
    assert f"holds results of another suite: 'first' ({hashes[0]}), not of 'second' ({hashes[1]})" in error
    assert "use --new to start a fresh store there" in error and "or --force to add this suite's results" in error
    assert len(rows(out)) == 1

    assert main(["eval", "--suite", str(second), "--out", str(out), "--force"]) == 0
    assert {(r["suite_hash"], r["seed"]) for r in rows(out)} == {(hashes[0], 0), (hashes[1], 1)}
    assert main(["eval", "--suite", str(second), "--out", str(out)]) == 0  # its own results are there now

    assert main(["eval", "--suite", str(first), "--out", str(out), "--new"]) == 0
    (kept,) = out.glob("results-*.sqlite")
    assert f"kept as {kept}" in capsys.readouterr().out
    assert [(r["suite_hash"], r["seed"]) for r in rows(out)] == [(hashes[0], 0)]
    old = ResultsStore(out / "old", create=True)
    old.close()
    kept.rename(out / "old" / STORE_FILE)
    assert len(rows(out / "old")) == 2  # nothing of the old store was lost


def test_sixteen_episodes_in_flight_hide_a_slow_model(tmp_path: Path) -> None:
    with FakeOpenAIServer(latency_s=1.0, respond=acting(3)) as server:
        path = suite_file(tmp_path, seeds=list(range(16)), agents=[model_agent(server)])
        assert evaluate(path, tmp_path / "serial", workers=1, max_in_flight=1, limit=3)[0] == 0
        assert server.max_concurrent == 1
        assert evaluate(path, tmp_path / "parallel", workers=2, max_in_flight=16)[0] == 0
        # The model's waits overlap: at least four requests were answered at once. What that buys
        # in wall time depends on the machine's load; benchmarks/eval_throughput.py measures it.
        assert server.max_concurrent >= 4
    stored = rows(tmp_path / "parallel")
    assert len(stored) == 16 and all(r["turns"] == 3 and r["llm_s"] >= 3.0 for r in stored)


def test_cached_answers_cost_no_model_calls(tmp_path: Path) -> None:
    out = tmp_path / "results"
    with FakeOpenAIServer(respond=act_then_stop) as server:
        path = suite_file(tmp_path, seeds=[0, 1], agents=[model_agent(server)])
        status, printed = evaluate(path, out, cache=True)
        assert status == 0 and len(server.requests) == 4 and "response cache: 0 hit(s), 4 miss(es)" in printed
        first = rows(out)
        status, printed = evaluate(path, out, cache=True, new=True)
        assert status == 0 and len(server.requests) == 4 and "response cache: 4 hit(s), 0 miss(es)" in printed
    again = rows(out)
    assert [(r["seed"], r["outcome"], r["turns"]) for r in again] == [
        (r["seed"], r["outcome"], r["turns"]) for r in first
    ]


class FakeEngine:
    """Stands in for ``vllm.LLM`` (which needs a GPU): records the size of every batch."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def chat(self, conversations: list, sampling_params: list, use_tqdm: bool, chat_template: Any) -> list:
        self.batches.append(len(conversations))
        time.sleep(0.3)  # a forward pass
        return [_Output(act_then_stop({"messages": c})["content"]) for c in conversations]


class _Output:
    def __init__(self, text: str) -> None:
        generated = type("Generated", (), {"text": text, "token_ids": [0] * 5, "finish_reason": "stop"})
        self.outputs = [generated]
        self.prompt_token_ids = [0] * 7


def test_one_engine_answers_the_episodes_in_flight_in_batches(tmp_path: Path) -> None:
    engine = FakeEngine()
    made: list[str] = []

    def make(config: Any) -> BatchingEngine:
        made.append(config.model)
        return BatchingEngine(engine, None, sampling_params=lambda c, stop: (c.temperature, stop), window_s=0.05)

    agent = {"name": "engine", "renderer": "tiny", "llm": {"backend": "vllm", "model": "m"}}
    path = suite_file(tmp_path, seeds=list(range(6)), agents=[agent])
    status, _ = evaluate(path, tmp_path / "r", workers=2, max_in_flight=6, engines=SharedEngines(make))
    assert status == 0 and made == ["m"]  # one engine for every episode
    assert sum(engine.batches) == 12  # two turns in each of six episodes
    assert max(engine.batches) > 1 and len(engine.batches) < 12
    assert all(r["turns"] == 2 and r["completion_tokens"] == 10 for r in rows(tmp_path / "r"))

    direct = BatchingEngine(FakeEngine(), None, sampling_params=lambda c, stop: None, window_s=0.2)
    config = parse_suite(yaml.safe_load(path.read_text()), "x").agents["engine"].llm_config()
    answers: list[str] = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(direct.complete(config, [{"role": "user", "content": "hi"}], None).text)
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    direct.close()
    assert answers == [CLEAN] * 8 and direct.batch_sizes == [8]


def test_the_ray_backend_streams_results_into_the_same_store(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray", reason="Ray cannot be installed on this platform")
    path = suite_file(
        tmp_path, tasks=["PickPlace", "StackBlocks"], seeds=[0], agents=[{"name": "expert", "renderer": "tiny"}]
    )
    out = tmp_path / "results"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        status, printed = evaluate(path, out, backend="ray", limit=1)
        assert status == 0 and "(ray)" in printed
        assert len(rows(out)) == 1
        status, printed = evaluate(path, out, backend="ray")
        assert status == 0 and "2 episodes, 1 stored, 1 to run" in printed
    finally:
        ray.shutdown()
    stored = rows(out)
    assert [(r["task"], r["success"]) for r in stored] == [("PickPlace", True), ("StackBlocks", True)]
    assert set(ResultsStore(out).finished(load_suite(str(path)).hash)) == {
        EpisodeKey("expert", "PickPlace", 0, 0),
        EpisodeKey("expert", "StackBlocks", 0, 0),
    }


def test_without_vllm_the_engine_says_how_to_install_it_before_any_episode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    path = suite_file(tmp_path, agents=[{"name": "model", "llm": {"backend": "openai"}}])
    out = tmp_path / "r"
    assert main(["eval", "--suite", str(path), "--out", str(out), "--engine", "vllm", "--model", "m"]) == 2
    assert "pip install 'codeact-robot[vllm]'" in capsys.readouterr().err
    assert not out.exists()


def test_without_ray_the_ray_backend_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if it were not installed
    path = suite_file(tmp_path)
    assert main(["eval", "--suite", str(path), "--out", str(tmp_path / "r"), "--backend", "ray"]) == 2
    assert "pip install 'codeact-robot[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
