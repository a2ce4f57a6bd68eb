"""The viewer's HTTP API over real stores: pages, filters, search, and everything it refuses."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serving import running
from stores import HOSTILE, RealStore, episode_row, real_store, synthetic_store
from test_report import CLI, insert_corrupt_row, make_store

from codeact_robot.envs.tasks import TASKS
from codeact_robot.errors import UsageError
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.viewer import ViewerServer


def serving(folder: Path) -> contextlib.AbstractContextManager[ViewerServer]:
    """The viewer's server on a free port, in a thread."""
    return running(ViewerServer(folder, port=0))


def request(
    server: ViewerServer, path: str, method: str = "GET", host: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    port = server.server_address[1]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.putrequest(method, path, skip_host=True)
    connection.putheader("Host", host or f"127.0.0.1:{port}")
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def get_json(server: ViewerServer, path: str) -> Any:
    status, headers, body = request(server, path)
    assert status == 200, body
    assert headers["content-type"] == "application/json; charset=utf-8"
    return json.loads(body)


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealStore:
    return real_store(tmp_path_factory.mktemp("real") / "eval")


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ViewerServer]:
    with serving(synthetic_store(tmp_path_factory.mktemp("big") / "eval", 3000)) as server:
        yield server


def test_overview_lists_suites_runs_and_filter_values(real: RealStore) -> None:
    with serving(real.folder) as server:
        overview = get_json(server, "/api/overview")
    assert overview["episodes"] == 3
    assert [s["name"] for s in overview["suites"]] == ["real"]
    assert overview["suites"][0]["episodes"] == 3
    assert overview["runs"][0]["settings"] == {"workers": 1}
    assert overview["facets"]["agent"] == [["expert", 1], ["model", 2]]
    assert overview["facets"]["kind"] == [["gave_up", 1], ["success", 2]]


def test_episode_list_pages_filters_and_sorts(big: ViewerServer) -> None:
    first = get_json(big, "/api/episodes?limit=50")
    assert first["total"] == 3000 and len(first["episodes"]) == 50
    assert [e["id"] for e in first["episodes"]] == list(range(3000, 2950, -1))  # newest first
    assert "record" not in first["episodes"][0] and "search_text" not in first["episodes"][0]
    second = get_json(big, "/api/episodes?limit=50&offset=50")
    assert second["episodes"][0]["id"] == 2950
    narrowed = get_json(big, "/api/episodes?agent=json&task=StackBlocks&split=seen")
    # 3,000 episodes of 3 agents are 1,000 pairs, dealt round robin over the families
    stack_blocks = len(range(list(TASKS).index("StackBlocks"), 1000, len(TASKS)))
    assert narrowed["total"] == stack_blocks and {(e["agent"], e["task"]) for e in narrowed["episodes"]} == {
        ("json", "StackBlocks")
    }
    failed = get_json(big, "/api/episodes?agent=text&kind=api_misuse")
    assert failed["total"] > 0 and all(e["failure_kind"] == "api_misuse" for e in failed["episodes"])
    by_turns = get_json(big, "/api/episodes?sort=turns&order=asc&limit=200")
    turns = [e["turns"] for e in by_turns["episodes"]]
    assert turns == sorted(turns) and turns[0] == 1


def test_free_text_search_reads_code_output_and_errors(big: ViewerServer) -> None:
    found = get_json(big, "/api/episodes?q=seed_7%20turn%203")  # in the search text of seed 7's 3-turn episodes
    assert found["total"] > 0
    assert all(e["seed"] == 7 and e["turns"] == 3 for e in found["episodes"])
    # LIKE wildcards in the search are literal characters
    assert get_json(big, "/api/episodes?q=%25")["total"] == 0
    assert get_json(big, "/api/episodes?q=seed__")["total"] == 0


def test_one_episode_has_its_transcript_images_and_no_video(real: RealStore) -> None:
    with serving(real.folder) as server:
        episode = get_json(server, f"/api/episodes/{real.self_debug_id}")
        image = episode["images"][0]
        status, headers, jpeg = request(server, image["url"])
    assert episode["summary"]["agent"] == "model" and episode["summary"]["success"] is True
    turns = episode["record"]["turns"]
    assert turns[0]["code"] == "print(get_object_names())\npick('purple block')"
    assert "no object named 'purple block'" in turns[0]["report"]["error"]
    assert turns[1]["report"]["stdout"] == "placed True\n"
    assert [(i["turn"], i["camera"]) for i in episode["images"]] == [(1, "front"), (2, "front")]
    assert episode["video"] is None
    assert status == 200 and headers["content-type"] == "image/jpeg" and jpeg[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/episodes?sort=record", 400, "cannot sort by 'record'; sort by one of: id, agent"),
        ("/api/episodes?sort=id;DROP%20TABLE%20episodes", 400, "cannot sort by"),
        ("/api/episodes?order=sideways", 400, "order must be asc or desc"),
        ("/api/episodes?limit=100000", 400, "limit must be a whole number from 1 to 200"),
        ("/api/episodes?offset=-1", 400, "offset must be a whole number"),
        ("/api/episodes?agentt=a", 400, "unknown parameter 'agentt'"),
        ("/api/episodes?q=" + "x" * 300, 400, "at most 200 are allowed"),
        ("/api/episodes/99999", 404, "no episode 99999"),
        ("/api/episodes/1/images/1/back", 404, "has no back image after turn 1"),
        ("/api/episodes/1/video", 404, "no video"),
        ("/static/../server.py", 404, "nothing at"),
        ("/static/%2e%2e/data.py", 404, "nothing at"),
        ("/results.sqlite", 404, "nothing at"),
        ("/etc/passwd", 404, "nothing at"),
    ],
)
def test_bad_requests_get_4xx_with_a_reason(real: RealStore, path: str, status: int, message: str) -> None:
    with serving(real.folder) as server:
        code, headers, body = request(server, path)
    assert code == status
    assert message in json.loads(body)["error"]
    assert headers["x-content-type-options"] == "nosniff"


def test_writes_and_foreign_hosts_are_refused(real: RealStore) -> None:
    with serving(real.folder) as server:
        for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            assert request(server, "/api/episodes", method)[0] == 405
        # a page elsewhere that rebinds its name to 127.0.0.1 sends its own name as Host
        assert request(server, "/api/overview", host="evil.example:80")[0] == 403
        assert request(server, "/", host=f"localhost:{server.server_address[1]}")[0] == 200
        status, headers, body = request(server, "/", "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_every_response_carries_the_content_security_policy(real: RealStore) -> None:
    with serving(real.folder) as server:
        for path in ("/", "/static/viewer.js", "/api/overview", "/api/episodes/99999"):
            policy = request(server, path)[1]["content-security-policy"]
            assert "default-src 'none'" in policy and "script-src 'self'" in policy
            assert "'unsafe-inline'" not in policy


def test_videos_are_served_only_from_inside_the_store_folder(tmp_path: Path) -> None:
    folder = tmp_path / "eval"
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"not for the browser")
    (folder / "videos").mkdir(parents=True)
    (folder / "videos" / "1.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    rows = [
        episode_row("a", "PickPlace", 0, True, video="videos/1.mp4"),
        episode_row("a", "PickPlace", 1, True, video="../secret.mp4"),
        episode_row("a", "PickPlace", 2, True, video=str(outside)),
        episode_row("a", "PickPlace", 3, True, video="results.sqlite"),
    ]
    make_store(folder, rows)
    with serving(folder) as server:
        assert request(server, "/api/episodes/1/video")[:3:2] == (200, b"\x00\x00\x00\x18ftypmp42")
        assert get_json(server, "/api/episodes/1")["video"] == "/api/episodes/1/video"
        for episode in (2, 3, 4):
            assert request(server, f"/api/episodes/{episode}/video")[0] == 404
            assert get_json(server, f"/api/episodes/{episode}")["video"] is None


def test_corrupt_rows_are_reported_not_fatal(tmp_path: Path) -> None:
    folder = make_store(tmp_path / "eval", [episode_row("a", "PickPlace", s, True) for s in range(3)])
    insert_corrupt_row(folder, turns="many", record="{not json", agent=b"\xff\xfe")
    insert_corrupt_row(folder, seed=7, record=json.dumps({"turns": [{"code": 5, "report": [1]}], "success": "yes"}))
    with serving(folder) as server:
        page = get_json(server, "/api/episodes")
        overview = get_json(server, "/api/overview")
        broken = get_json(server, "/api/episodes/4")
        odd = get_json(server, "/api/episodes/5")
    assert page["total"] == 5 and len(page["episodes"]) == 4
    assert len(page["unreadable"]) == 1 and page["unreadable"][0].startswith("episode 4: ")
    assert ["\ufffd\ufffd", 1] in overview["facets"]["agent"]
    assert broken["summary"] is None and broken["problem"].startswith("episode 4: ")
    assert broken["record"] is None and "unreadable" in broken["record_problem"]
    assert odd["record"]["success"] == "yes"  # odd shapes reach the page as data, which shows them as text


def test_hostile_text_is_returned_as_data(real: RealStore) -> None:
    with serving(real.folder) as server:
        episode = get_json(server, f"/api/episodes/{real.hostile_id}")
        found = get_json(server, "/api/episodes?q=onerror")
    assert HOSTILE in episode["summary"]["instruction"]
    assert HOSTILE in episode["record"]["turns"][0]["report"]["stdout"]
    assert [e["id"] for e in found["episodes"]] == [real.hostile_id]


def test_the_viewer_never_writes_to_the_store(real: RealStore) -> None:
    database = real.folder / "results.sqlite"
    before = database.read_bytes()
    with serving(real.folder) as server:
        get_json(server, "/api/overview")
        get_json(server, f"/api/episodes/{real.expert_id}")
        with pytest.raises(Exception, match="readonly"):
            server.data.store.db.execute("DELETE FROM episodes")
    assert database.read_bytes() == before
    assert ResultsStore(real.folder, read_only=True).count() == 3


def test_a_folder_without_a_store_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="holds no results store"):
        ViewerServer(tmp_path, port=0)


def test_bound_to_every_address_the_address_to_open_is_one_a_browser_can_open(real: RealStore) -> None:
    server = ViewerServer(real.folder, "0.0.0.0", 0)
    try:
        port = server.server_address[1]
        assert server.url == f"http://127.0.0.1:{port}/" and not server.loopback
        assert server.remote_url == f"http://{socket.gethostname()}:{port}/"
    finally:
        server.server_close()


def test_the_view_command_serves_until_interrupted(real: RealStore) -> None:
    process = subprocess.Popen(
        [*CLI, "view", str(real.folder), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert url, line
        connection = http.client.HTTPConnection("127.0.0.1", int(url[1]), timeout=30)
        connection.request("GET", "/api/overview")
        assert json.loads(connection.getresponse().read())["episodes"] == 3
        connection.close()
        busy = subprocess.run(
            [*CLI, "view", str(real.folder), "--port", url[1]], capture_output=True, text=True, timeout=120
        )
        assert busy.returncode == 2
        assert busy.stderr.strip() == f"error: port {url[1]} is in use; choose another with --port (0 picks a free one)"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")
