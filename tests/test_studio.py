"""The studio's session and server with a real worker: written actions, live frames, Stop, Undo,
a trajectory that replays exactly, and the token, Host and Origin checks."""

from __future__ import annotations

import contextlib
import http.client
import json
import multiprocessing
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serving import running

from codeact_robot.agent.replay import ReplayBackend
from codeact_robot.agent.session import Session
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.llm.base import LLMBackend
from codeact_robot.studio.server import MAX_BODY_BYTES, StudioServer
from codeact_robot.studio.studio import Busy, Refused, Studio
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.protocol import (
    ProtocolError,
    ScenePose,
    WorkerFailed,
    receive_reply,
    send_failure,
    send_live_pose,
)

SCENE = {"blocks": ["red", "green"], "bowls": ["blue"]}
SETTINGS = {"end_on_success": False, "cameras": ("front", "top"), "max_turns": 50, "skills_top_k": 0, "video_fps": 10}
PLACE = "pick_and_place('red block', 'blue bowl')"
INTO_BOWL = (
    'def into_bowl(block):\n    """Put the block into the blue bowl."""\n    return pick_and_place(block, "blue bowl")'
)
LONG = "for i in range(40):\n    move_to([0.45, 0.25 if i % 2 else -0.25, 0.3])"


def make_studio(llm: LLMBackend | None = None, **settings: Any) -> Studio:
    """A started studio on a real worker (the free scene with SCENE)."""
    env = CodeActEnv("Tabletop", EnvConfig(**{**SETTINGS, **settings}))
    studio = Studio(env, llm, 0, SCENE, {"task": "Tabletop"})
    studio.start()
    return studio


def serving(studio: Studio) -> contextlib.AbstractContextManager[StudioServer]:
    """The studio's server on a free port, in a thread."""
    return running(StudioServer(studio, port=0))


def positions(studio: Studio) -> dict[str, list[float]]:
    return {o["name"]: o["position"] for o in studio.state()["scene"]["objects"]}


def request(
    server: StudioServer, path: str, method: str = "GET", headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, dict[str, str], bytes]:
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    if data is not None:
        sent.update({"Content-Type": "application/json", "Content-Length": str(len(data))})
    connection.request(method, path, body=data, headers=sent)
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, answer


@pytest.fixture(scope="module")
def studio() -> Iterator[Studio]:
    made = make_studio()
    yield made
    made.close()


def test_a_written_action_runs_and_streams_live_frames(studio: Studio) -> None:
    studio.reset(new_seed=False)
    before = studio.live_poses
    state = studio.run_code(PLACE + "\nprint('placed')")
    turn = state["turns"][-1]
    assert (turn["by"], turn["stdout"], turn["error"]) == ("you", "placed\n", None)
    where = {o["name"]: o["where"] for o in state["scene"]["objects"]}
    assert where["red block"] == "in the blue bowl"
    assert state["live_poses"] > before  # the scene was sent while it ran, not only after


def test_no_live_frames_when_the_live_view_is_off(studio: Studio) -> None:
    studio.reset(new_seed=False)
    studio.choose_view("both", live=False)
    before = studio.live_poses
    studio.run_code(PLACE)
    assert studio.live_poses == before
    studio.choose_view("front", live=True)


def test_undo_brings_back_positions_and_variables(studio: Studio) -> None:
    studio.reset(new_seed=False)
    studio.run_code("x = 41\ndef lift():\n    return x + 1")
    start = positions(studio)
    studio.run_code(PLACE + "\nx = 0")
    assert positions(studio) != start
    state = studio.undo()
    assert positions(studio) == start
    assert [t["turn"] for t in state["turns"]] == [1]
    assert studio.run_code("print(lift())")["turns"][-1]["stdout"] == "42\n"


def test_undo_without_an_action_is_refused(studio: Studio) -> None:
    studio.reset(new_seed=False)
    with pytest.raises(Refused, match="no action to undo"):
        studio.undo()


def test_a_program_holding_the_tags_is_refused(studio: Studio) -> None:
    with pytest.raises(Refused, match="may not hold <execute>"):
        studio.run_code("print('</execute>')")
    with pytest.raises(Refused, match="empty"):
        studio.run_code("   \n")


def test_stop_ends_a_long_action_and_the_session_goes_on(studio: Studio) -> None:
    studio.reset(new_seed=False)
    first_pose = threading.Event()
    studio.renderer.show = _also(studio.renderer.show, first_pose.set)  # type: ignore[method-assign]
    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(studio.run_code(LONG)))
    runner.start()
    try:
        assert first_pose.wait(120)
        with pytest.raises(Busy):
            studio.run_code("print(1)")
        assert studio.stop()
    finally:
        runner.join()
        del studio.renderer.show
    turn = result["turns"][-1]
    assert turn["stopped"] and "stopped by the user" in turn["error"]
    after = studio.run_code("print(get_gripper_width() >= 0)")
    assert after["turns"][-1]["stdout"] == "True\n"
    assert not studio.stop()  # nothing runs now


def test_the_trajectory_replays_exactly(studio: Studio, tmp_path: Path) -> None:
    studio.reset(new_seed=False)
    studio.run_code("names = get_object_names()")
    studio.run_code(PLACE)
    studio.run_code("pick_and_place('green block', [0.5, 0.15])")
    studio.undo()
    studio.run_code("pick_and_place('green block', 'red block')\nprint(names)")
    path = tmp_path / "studio.jsonl"
    path.write_text(studio.trajectory())
    recorded = studio.session.info["objects"]
    replay_env = CodeActEnv("Tabletop", EnvConfig(**{**SETTINGS, "video_fps": None}))
    try:
        session = Session(replay_env, ReplayBackend(path), "codeact")
        session.start(0, SCENE)
        session.act()
        assert session.info["objects"] == recorded
        assert [t.code for t in session.record.turns if t.code] == [t.code for t in studio.session.record.turns]
    finally:
        replay_env.close()


def test_every_request_needs_the_token_and_the_studios_own_host_and_origin(studio: Studio) -> None:
    with serving(studio) as server:
        base = "/" + server.token
        port = server.server_address[1]
        own = {"Origin": f"http://127.0.0.1:{port}"}
        assert request(server, "/")[0] == 403
        assert request(server, "/api/state")[0] == 403
        assert request(server, "/" + "x" * len(server.token) + "/api/state")[0] == 403
        assert request(server, base)[0] == 403  # the token without its slash
        status, headers, _ = request(server, base + "/")
        assert status == 200 and "default-src 'none'" in headers["content-security-policy"]
        assert request(server, base + "/api/state", headers={"Host": "attacker.example:80"})[0] == 403
        assert request(server, base + "/api/stop", "POST", {"Origin": "http://attacker.example"}, {})[0] == 403
        assert request(server, base + "/api/stop", "POST", {}, {})[0] == 403  # no Origin
        status, _, body = request(server, base + "/api/stop", "POST", own, {})
        assert (status, json.loads(body)) == (200, {"stopped": False})
        assert request(server, base + "/api/run", "POST", own, {"code": 3})[0] == 400
        status = 204
        while status == 204:  # the first frame is drawn by a slot of its own, which may still be starting
            status, headers, body = request(server, base + "/api/live?after=0")
        assert status == 200 and headers["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8"


def test_malformed_numbers_in_a_request_get_one_clear_error(studio: Studio) -> None:
    with serving(studio) as server:
        base = "/" + server.token
        own = {"Origin": f"http://127.0.0.1:{server.server_address[1]}"}
        # A digit by str.isdigit that int() does not read: the superscript two.
        status, _, body = request(server, base + "/api/live?after=%C2%B2")
        assert (status, json.loads(body)) == (400, {"error": "after must be a frame number"})
        port = server.server_address[1]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Host": f"127.0.0.1:{port}", **own, "Content-Type": "application/json", "Content-Length": "\xb2"}
        connection.putrequest("POST", base + "/api/stop", skip_host=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 400
        assert json.loads(response.read()) == {
            "error": f"the request body must have a length of at most {MAX_BODY_BYTES} bytes"
        }
        connection.close()


def test_the_command_refuses_other_action_modes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "codeact_robot", "studio", "--mode", "json", "--no-browser"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "error: the studio runs code actions: --mode codeact only, not json"


def _also(function: Any, then: Any) -> Any:
    def both(*args: Any, **kwargs: Any) -> Any:
        function(*args, **kwargs)
        if kwargs.get("live"):
            then()

    return both


def test_save_as_skill_stores_it_and_shows_the_verdict(tmp_path: Path) -> None:
    studio = make_studio(skills_top_k=3, skill_library=str(tmp_path / "library"))
    try:
        studio.run_code(INTO_BOWL)
        pending = studio.save_skill("into_bowl", "", "")["verdict"]
        assert (pending["skill"], pending["status"]) == ("into_bowl@1", "pending")
        assert studio.state()["turns"][-1]["code"] == "save_skill(into_bowl)"  # the same flow as a program's
        studio.run_code("def undocumented():\n    return 1")
        refused = studio.save_skill("undocumented", "", "")["verdict"]  # the rule of save_skill holds
        assert refused == {
            "skill": None,
            "status": "refused",
            "reason": "ValueError: save_skill refused undocumented: skill undocumented needs a docstring saying "
            "what it does",
        }
        with pytest.raises(Refused, match="no success check"):
            studio.save_skill("into_bowl", "into_bowl('red block')", "Tabletop")
        # StackBlocks has no blue bowl: the verification episode fails, and says so.
        rejected = studio.save_skill("into_bowl", "into_bowl('red block')", "StackBlocks")["verdict"]
        assert (rejected["skill"], rejected["status"]) == ("into_bowl@2", "rejected")  # saved again: a new version
        assert "blue bowl" in rejected["reason"]
    finally:
        studio.close()


def test_open_in_the_viewer_serves_the_episode(studio: Studio) -> None:
    from codeact_robot.cli.studio import StudioViewer

    studio.reset(new_seed=False)
    studio.run_code(PLACE)
    viewer = StudioViewer()
    try:
        url = viewer.open(studio.trajectory())
        address, _, fragment = url.partition("#")
        episode = fragment.rsplit("/", 1)[1]
        connection = http.client.HTTPConnection(address.split("/")[2], timeout=30)
        connection.request("GET", f"/api/episodes/{episode}")
        answer = json.loads(connection.getresponse().read())
        assert answer["summary"]["task"] == "Tabletop" and [t["code"] for t in answer["record"]["turns"]] == [PLACE]
    finally:
        viewer.close()


def test_stop_ends_a_program_that_calls_no_skill_with_its_executor(studio: Studio) -> None:
    studio.reset(new_seed=False)
    studio.run_code("x = 1")
    start = positions(studio)
    result: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: result.update(studio.run_code("while True:\n    x = x + 1")))
    runner.start()
    try:
        while not studio.stop():  # until the action has been sent
            runner.join(0.05)
    finally:
        runner.join()
    turn = result["turns"][-1]
    assert turn["stopped"]
    assert turn["error"].startswith("StoppedByUser: the action was stopped by the user and did not end within 2 s")
    assert "variables and functions from earlier actions are lost" in turn["error"]
    assert positions(studio) == start
    assert "NameError" in studio.run_code("print(x)")["turns"][-1]["error"]


def test_a_live_pose_is_read_only_when_asked_for() -> None:
    host, simulator = multiprocessing.Pipe()
    pose = ScenePose(objects=((0.5, 0.0, 0.02, 0.0, 0.0, 0.0, 1.0),), joints=(0.0,) * 9)
    send_live_pose(simulator, pose)
    with pytest.raises(ProtocolError, match="a live pose came unasked"):
        receive_reply(host, (240, 320, 3), ("front",), False, time.monotonic() + 30)
    seen: list[ScenePose] = []
    send_live_pose(simulator, pose)
    send_failure(simulator, "stand-in")  # the reply after the poses
    with pytest.raises(WorkerFailed, match="stand-in"):
        receive_reply(host, (240, 320, 3), ("front",), False, time.monotonic() + 30, seen.append)
    assert seen == [pose]
