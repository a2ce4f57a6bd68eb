"""Videos a person can read: the video camera's left is the robot's left, the task and the turn are
drawn on every frame; the scene's poses recorded while actions run change nothing about the
episode and are drawn only for the videos that are kept, in frames checked against the configured
shape; an evaluation keeps the videos it was asked for next to its store, where the viewer finds
them."""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest
import yaml
from fake_openai_server import FakeOpenAIServer
from PIL import Image
from pydantic import ValidationError
from test_cli import assert_usage_error, cli
from test_viewer import get_json, request, serving

from codeact_robot.agent.video import END_S, START_S, TURN_S, VIDEO_FPS, Caption, EpisodeVideo, VideoFailed
from codeact_robot.cli import main
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.physics import SIM_RATE_HZ
from codeact_robot.errors import UsageError
from codeact_robot.eval.results.rows import EpisodeKey
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.running.runner import video_path
from codeact_robot.eval.running.suite import load_suite
from codeact_robot.worker.client import WorkerCrashed
from codeact_robot.worker.protocol import (
    ActionReport,
    ProtocolError,
    ScenePose,
    receive_frames,
    receive_reply,
    send_frames,
)

CHROMIUM = Path("/usr/bin/chromium")
STATE = {
    "version": 1,
    "time_step": 1 / 240,
    "step_count": 0,
    "objects": [],
    "robot": {"positions": [], "velocities": [], "arm_targets": [], "gripper_target": 0.04},
}
INSTRUCTION = "put the red block on the left and the blue block on the right of the table"
SIZE = (320, 240)


def scene(seed: int = 0) -> np.ndarray:
    """A frame with texture, like a rendered scene (not one colour, so scaling shows)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(SIZE[1], SIZE[0], 3), dtype=np.uint8)


def mean_column(image: np.ndarray, colour: str) -> float:
    """The mean column of the pixels of a strongly red or blue object."""
    r, g, b = (image[:, :, i].astype(int) for i in range(3))
    mask = (r > 150) & (g < 80) & (b < 80) if colour == "red" else (b > 150) & (r < 80) & (g < 80)
    assert mask.sum() > 10, f"no {colour} object in view"
    return float(np.nonzero(mask)[1].mean())


# --- the caption ---------------------------------------------------------------------------------


def test_the_caption_is_drawn_above_the_scene_which_is_left_as_it_was() -> None:
    caption = Caption(INSTRUCTION, SIZE)
    frame = scene()
    drawn = caption.draw(frame, "Turn 3 of 10")
    assert caption.scale == 2 and drawn.shape == (caption.band_px + 480, 640, 3) == (caption.size[1], 640, 3)
    # Below the band: the scene itself, drawn twice its size.
    resized = np.asarray(Image.fromarray(frame).resize((640, 480), Image.Resampling.BICUBIC))
    assert np.array_equal(drawn[caption.band_px :], resized)
    # The band holds text: the label's line and the instruction's lines differ from a bare band.
    band = drawn[: caption.band_px].astype(int)
    background = np.array([28, 30, 36])
    inked = np.abs(band - background).sum(axis=2) > 60
    line = caption.line_px
    for index in range(1 + len(caption.lines)):
        top = caption.margin + index * line
        assert inked[top : top + line].sum() > 100, f"line {index} of the caption is empty"
    # The label and the instruction change what is drawn; the scene never does.
    other = caption.draw(frame, "Turn 4 of 10")
    assert not np.array_equal(other[: caption.band_px], drawn[: caption.band_px])
    assert np.array_equal(other[caption.band_px :], drawn[caption.band_px :])
    first_line = slice(caption.margin + line, caption.margin + 2 * line)
    stack = Caption("stack all the blocks", SIZE).draw(frame, "Turn 3 of 10")
    assert not np.array_equal(stack[first_line], drawn[first_line])


def test_a_long_instruction_is_wrapped_to_the_frame_and_cut_after_three_lines() -> None:
    caption = Caption(" ".join([INSTRUCTION] * 8), SIZE)
    assert len(caption.lines) == 3 and caption.lines[-1].endswith("…")
    assert all(caption.font.getlength(line) <= 640 - 2 * caption.margin for line in caption.lines)
    words = INSTRUCTION.split()
    assert " ".join(caption.lines[:2]).split() == (words * 8)[: len(" ".join(caption.lines[:2]).split())]
    short = Caption("stack", SIZE)
    assert short.lines == ["stack"] and short.band_px < caption.band_px


def test_wide_frames_are_drawn_at_their_own_size_and_odd_sides_are_padded() -> None:
    assert Caption(INSTRUCTION, (640, 240)).scale == 1
    odd = Caption(INSTRUCTION, (161, 121))
    drawn = odd.draw(np.zeros((121, 161, 3), np.uint8), "Start")
    assert odd.scale == 4 and drawn.shape[1] == 644 and drawn.shape[0] % 2 == 0 == drawn.shape[1] % 2
    with pytest.raises(ValueError, match="a video frame is 320x240; expected"):
        odd.draw(scene(), "Start")


# --- the worker's poses and frames ---------------------------------------------------------------

SIDES = {"blocks": ["red", "blue"], "positions": {"red block": [0.45, 0.2], "blue block": [0.45, -0.2]}}  # +y: left


@pytest.fixture(scope="module")
def both_env() -> Iterator[CodeActEnv]:
    env = CodeActEnv(renderer="tiny", video_fps=VIDEO_FPS, video_camera="both", cameras=("front", "top"))
    yield env
    env.close()


def test_the_video_cameras_left_is_the_robots_left_and_both_is_twice_as_wide(both_env: CodeActEnv) -> None:
    _, info = both_env.reset(seed=0, options=SIDES)
    (pose,) = info["poses"]  # after a reset: the scene
    (frame,) = both_env.render_video([pose])
    width, height = SIZE
    assert both_env.config.video_size == (2 * width, height) and frame.shape == (height, 2 * width, 3)
    front, top = frame[:, :width], frame[:, width:]
    assert mean_column(front, "red") < width / 2 < mean_column(front, "blue")
    assert mean_column(top, "red") < width / 2 < mean_column(top, "blue")
    assert np.array_equal(top, info["images"]["top"])  # the right half is the top camera, drawn from the pose
    # The agent's front camera faces the robot: its left is the robot's right. It is unchanged.
    agent_front = info["images"]["front"]
    assert mean_column(agent_front, "blue") < width / 2 < mean_column(agent_front, "red")


def test_every_action_records_its_motion_and_ends_with_the_scene_it_leaves(both_env: CodeActEnv) -> None:
    both_env.reset(seed=0, options=SIDES)
    *_, info = both_env.step("print('no motion')")
    assert len(info["poses"]) == 1
    *_, info = both_env.step("move_to([0.45, -0.2, 0.3])")
    poses = info["poses"]
    assert abs(len(poses) - (info["timings"].sim_s * VIDEO_FPS + 1)) <= 1 and len(poses) > 3  # 10 a second, + the end
    first, last = both_env.render_video([poses[0], poses[-1]])
    assert np.array_equal(last[:, SIZE[0] :], info["images"]["top"])
    assert not np.array_equal(first, last)  # the arm moved between
    with pytest.raises(RuntimeError, match="no episode is running"):  # drawing ended the episode
        both_env.step("print(1)")


def test_recording_poses_changes_nothing_about_the_episode() -> None:
    states = []
    for video_fps in (None, VIDEO_FPS):
        env = CodeActEnv("StackBlocks", renderer="tiny", video_fps=video_fps)
        try:
            env.reset(seed=2)
            *_, info = env.step("pick_and_place('red block', 'blue block')\nprint(get_object_position('red block'))")
            states.append((info["stdout"], env.world_state))
            end = env.world_state["step_count"]
            every = SIM_RATE_HZ // VIDEO_FPS  # a pose at every multiple of this step, then the end
            recorded = end // every - (end - info["timings"].sim_steps) // every + 1
            assert len(info["poses"]) == (0 if video_fps is None else recorded) and recorded > 50
        finally:
            env.close()
    assert states[0] == states[1]  # the same printout and the same exact world state, bit for bit


def test_poses_of_another_scene_or_without_video_are_refused(both_env: CodeActEnv) -> None:
    _, info = both_env.reset(seed=0, options=SIDES)
    wrong = info["poses"][0].model_copy(update={"objects": info["poses"][0].objects[:1]})
    with pytest.raises(WorkerCrashed, match="the poses are of another scene: this one has 2 objects"):
        both_env.render_video([wrong])
    with pytest.raises(ValueError, match="at most 100 poses can be rendered at once, got 101"):
        both_env.render_video(info["poses"] * 101)
    with pytest.raises(UsageError, match="this environment records no video; set video_fps"):
        CodeActEnv(renderer="tiny").render_video(info["poses"])


# --- the video file ------------------------------------------------------------------------------


def test_each_frame_says_which_turn_it_belongs_to(both_env: CodeActEnv, tmp_path: Path) -> None:
    _, info = both_env.reset(seed=0, options=SIDES)
    video = EpisodeVideo(both_env.config.video_size)
    video.start(INSTRUCTION, 10, info["poses"])
    *_, info = both_env.step("print('an action that does not move: held so that its label can be read')")
    video.turn(1, info["poses"])
    video.turn(2, ())  # a message: no frames
    *_, info = both_env.step("move_to([0.45, -0.2, 0.3])")
    video.turn(3, info["poses"])
    moved = len(info["poses"])
    video.end(False, "turn_limit")
    path = tmp_path / "episode.mp4"
    assert video.write(path, both_env.render_video) == path
    frames = iio.imread(path)
    counts = [round(START_S * VIDEO_FPS), round(TURN_S * VIDEO_FPS), moved, round(END_S * VIDEO_FPS)]
    assert len(frames) == video.frames == sum(counts) and moved > round(TURN_S * VIDEO_FPS)
    caption = Caption(INSTRUCTION, both_env.config.video_size)
    assert frames.shape[1:] == (caption.size[1], caption.size[0], 3)
    labels = ["Start", "Turn 1 of 10", "Turn 3 of 10", "End: not solved (turn limit)"]
    blank = np.zeros((SIZE[1], 2 * SIZE[0], 3), np.uint8)
    bands = [caption.draw(blank, label)[: caption.band_px].astype(float) for label in labels]
    expected = [index for index, count in enumerate(counts) for _ in range(count)]
    for number, frame in enumerate(frames):
        band = frame[: caption.band_px].astype(float)
        closest = int(np.argmin([np.abs(band - b).mean() for b in bands]))
        assert closest == expected[number], f"frame {number} reads {labels[closest]!r}"


def test_a_video_that_cannot_be_made_says_why_and_leaves_nothing(both_env: CodeActEnv, tmp_path: Path) -> None:
    _, info = both_env.reset(seed=0, options=SIDES)
    video = EpisodeVideo(both_env.config.video_size)
    video.start(INSTRUCTION, 5, info["poses"])
    video.end(True, "success")
    with pytest.raises(VideoFailed, match="Error opening output|Is a directory|Invalid argument"):
        video.write(tmp_path, both_env.render_video)  # a folder: ffmpeg cannot write there
    assert tmp_path.is_dir()

    def broken(poses: Any) -> list[np.ndarray]:
        raise WorkerCrashed("the worker could not render the video: it died")

    with pytest.raises(VideoFailed, match="the frames could not be drawn: the worker could not render"):
        video.write(tmp_path / "crashed.mp4", broken)
    nothing = EpisodeVideo(SIZE)
    nothing.start(INSTRUCTION, 5, ())
    nothing.end(False, "message")
    with pytest.raises(VideoFailed, match="the episode recorded no frames"):
        nothing.write(tmp_path / "never.mp4", both_env.render_video)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- the protocol --------------------------------------------------------------------------------


def connected() -> tuple[Connection, Connection]:
    worker_end, host_end = socket.socketpair()
    return Connection(worker_end.detach()), Connection(host_end.detach())


@pytest.mark.parametrize(
    ("sent", "count", "error"),
    [
        ((24, 64, 3), 2, None),
        ((24, 32, 3), 2, "an image frame has 2304 bytes; (24, 64, 3) needs 4608"),
        ((24, 64, 3), 3, "a reply carried 2 video frame(s); 3 were asked for"),
    ],
    ids=["both", "one-camera-frames-for-both", "fewer-than-asked"],
)
def test_the_host_checks_rendered_frames_against_the_configured_shape(
    sent: tuple[int, int, int], count: int, error: str | None
) -> None:
    worker, host = connected()
    try:
        send_frames(worker, [np.full(sent, 7, np.uint8)] * 2)
        if error is None:
            frames = receive_frames(host, (24, 64, 3), count, time.monotonic() + 10)
            assert [f.shape for f in frames] == [(24, 64, 3)] * 2 and int(frames[1][0, 0, 0]) == 7
        else:
            with pytest.raises(ProtocolError) as raised:
                receive_frames(host, (24, 64, 3), count, time.monotonic() + 10)
            assert str(raised.value) == error
    finally:
        worker.close()
        host.close()


def test_poses_are_checked_like_the_rest_of_a_reply() -> None:
    pose = {"objects": [[0.4, 0.1, 0.02, 0.0, 0.0, 0.0, 1.0]], "joints": [0.0] * 9}
    assert ScenePose.model_validate(pose).objects[0][2] == 0.02
    for bad in ({**pose, "joints": [0.0] * 17}, {**pose, "objects": [[0.4, 0.1]]}, {**pose, "joints": [math.nan]}):
        with pytest.raises(ValidationError):
            ScenePose.model_validate_json(json.dumps(bad))
    worker, host = connected()
    try:
        header = {
            "status": "ok",
            "report": ActionReport().model_dump(mode="json"),
            "state": STATE,
            "scene": {"objects": {}, "gripper": {"position": [0.3, 0.0, 0.5], "width": 0.08, "state": "open"}},
            "images": [],
            "poses": [pose],
        }
        worker.send_bytes(json.dumps(header).encode())
        with pytest.raises(ProtocolError, match="a reply carried 1 pose"):
            receive_reply(host, (24, 32, 3), (), False, time.monotonic() + 10)
    finally:
        worker.close()
        host.close()


# --- the command line ----------------------------------------------------------------------------


def test_video_camera_without_a_video_is_a_usage_error(tmp_path: Path) -> None:
    result = cli("run", "--task", "PickPlace", "--agent", "reference", "--video-camera", "top")
    assert_usage_error(result, "--video-camera chooses what the video shows; give --video FILE too")
    result = cli("eval", "--suite", "smoke", "--out", str(tmp_path / "e"), "--video-camera", "both")
    assert_usage_error(result, "give --videos failures or --videos all too")
    assert not (tmp_path / "e").exists()
    result = cli("eval", "--suite", "smoke", "--out", str(tmp_path / "e"), "--videos", "some")
    assert result.returncode == 2 and "invalid choice: 'some' (choose from 'none', 'failures', 'all')" in result.stderr


def test_run_records_the_chosen_camera(tmp_path: Path) -> None:
    video = tmp_path / "top.mp4"
    scratch = Path(tempfile.mkdtemp(prefix="codeact-test-", dir="/tmp"))  # nobody (the worker) must pass through
    scratch.chmod(0o755)
    try:
        with FakeOpenAIServer([{"content": "<execute>print('hello')</execute>"}, {"content": "I stop."}]) as server:
            result = cli(
                *"run --task PickPlace --seed 1 --model fake-model --renderer tiny --json --video-camera top".split(),
                *("--llm", server.base_url, "--trajectory", str(tmp_path / "t.jsonl"), "--video", str(video)),
                env={"TMPDIR": str(scratch)},
            )
        assert list(scratch.iterdir()) == []  # the worker's scratch folder went with it
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    frames = iio.imread(video)
    assert summary["video_frames"] == len(frames) == (START_S + TURN_S + END_S) * VIDEO_FPS
    record = json.loads((tmp_path / "t.jsonl").read_text())
    assert record["config"]["env"]["video_camera"] == "top"
    # The scene part of the first frame is the top camera's view of the reset scene, drawn 2x.
    caption = Caption(record["instruction"], SIZE)
    env = CodeActEnv("PickPlace", renderer="tiny", cameras=("front", "top"))
    try:
        _, info = env.reset(seed=1)
        expected = caption.draw(info["images"]["top"], "Start")
    finally:
        env.close()
    assert np.abs(frames[0].astype(int) - expected.astype(int)).mean() < 3  # H.264 is lossy


# --- evaluation ----------------------------------------------------------------------------------


def test_video_paths_are_safe_for_any_name() -> None:
    assert video_path("0a12", EpisodeKey("expert", "PickPlace", 3, 1)).as_posix() == (
        "videos/0a12/expert/PickPlace-seed3-r1.mp4"
    )
    hostile = video_path("../x", EpisodeKey("../../etc/passwd", "a/b\x00c", 0, 0))
    assert hostile.parts[:1] == ("videos",) and ".." not in hostile.parts and len(hostile.parts) == 4
    assert all(part and not part.startswith(".") and "/" not in part and "\x00" not in part for part in hostile.parts)


def suite(tmp_path: Path, server: FakeOpenAIServer) -> Path:
    """The expert (solves PickPlace) and a model that looks once and gives up (fails it)."""
    agents = [
        {"name": "expert", "renderer": "tiny"},
        {
            "name": "quitter",
            "renderer": "tiny",
            "llm": {"backend": "openai", "base_url": server.base_url, "model": "fake-model"},
        },
    ]
    path = tmp_path / "videos.yaml"
    path.write_text(yaml.safe_dump({"name": "videos", "tasks": ["PickPlace"], "seeds": [0], "agents": agents}))
    return path


def quitting(request: dict[str, Any]) -> dict[str, Any]:
    looked = any(str(m["content"]).startswith("Observation:") for m in request["messages"])
    return {"content": "I give up." if looked else "<execute>print(get_object_names())</execute>"}


def stored(out: Path) -> dict[str, dict[str, Any]]:
    store = ResultsStore(out, read_only=True)
    try:
        return {row["agent"]: row for row in store.summaries()}
    finally:
        store.close()


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """One evaluation with ``--videos failures``: a success and a failure."""
    tmp_path = tmp_path_factory.mktemp("videos")
    made: list[Path] = []
    real_write = EpisodeVideo.write

    def write(video: EpisodeVideo, path: Path, render: Any) -> Path:  # the real one, remembering what it drew
        made.append(path)
        return real_write(video, path, render)

    with FakeOpenAIServer(respond=quitting) as server:  # running while the tests resume the evaluation
        path = suite(tmp_path, server)
        out = tmp_path / "eval"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(EpisodeVideo, "write", write)
            assert main(["eval", "--suite", str(path), "--out", str(out), "--videos", "failures"]) == 0
        # Only the failed episode's video was drawn (the success kept only its poses), once, straight
        # beside the store: what it was drawn into is gone (renamed into place).
        assert len(made) == 1 and made[0].parent == out / "videos" / load_suite(str(path)).hash / "quitter"
        assert not made[0].exists()
        yield path, out


def test_eval_keeps_videos_of_failed_episodes_only_and_links_them(evaluated: tuple[Path, Path]) -> None:
    _, out = evaluated
    rows = stored(out)
    assert rows["expert"]["success"] and rows["expert"]["video"] is None
    assert not rows["quitter"]["success"]
    link = rows["quitter"]["video"]
    assert link == video_path(rows["quitter"]["suite_hash"], EpisodeKey("quitter", "PickPlace", 0, 0)).as_posix()
    assert [p.relative_to(out).as_posix() for p in out.rglob("*.mp4")] == [link]
    assert not list(out.rglob("*.part"))
    frames = iio.imread(out / link)
    # The start, one turn that printed (held), a message turn (no frames), the verdict.
    assert len(frames) == (START_S + TURN_S + END_S) * VIDEO_FPS and frames.shape[2] == 640


def test_resume_does_not_record_what_is_stored(evaluated: tuple[Path, Path]) -> None:
    path, out = evaluated
    link = out / stored(out)["quitter"]["video"]
    before = (link.read_bytes(), link.stat().st_mtime_ns)
    assert main(["eval", "--suite", str(path), "--out", str(out), "--videos", "all"]) == 0
    rows = stored(out)
    assert rows["expert"]["video"] is None and (link.read_bytes(), link.stat().st_mtime_ns) == before


def test_videos_of_failures_when_nothing_failed_points_at_no_folder_and_leaves_no_scratch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="codeact-test-", dir="/tmp"))  # nobody (the worker) must pass through
    scratch.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    path = tmp_path / "expert.yaml"
    agents = [{"name": "expert", "renderer": "tiny"}]
    path.write_text(yaml.safe_dump({"name": "x", "tasks": ["PickPlace"], "seeds": [1], "agents": agents}))
    try:
        assert main(["eval", "--suite", str(path), "--out", str(tmp_path / "eval"), "--videos", "failures"]) == 0
        assert list(scratch.iterdir()) == []  # every worker's scratch folder is gone
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert "videos: none kept (no episode failed)\n" in capsys.readouterr().out
    assert not (tmp_path / "eval" / "videos").exists()


def test_videos_none_writes_none(tmp_path: Path) -> None:
    path = tmp_path / "expert.yaml"
    agents = [{"name": "expert", "renderer": "tiny"}]
    path.write_text(yaml.safe_dump({"name": "x", "tasks": ["PickPlace"], "seeds": [1], "agents": agents}))
    assert main(["eval", "--suite", str(path), "--out", str(tmp_path / "eval"), "--videos", "none"]) == 0
    assert stored(tmp_path / "eval")["expert"]["video"] is None and not (tmp_path / "eval" / "videos").exists()


def test_the_viewer_serves_the_video_and_says_when_it_is_missing(evaluated: tuple[Path, Path]) -> None:
    _, out = evaluated
    ids = {row["agent"]: row["id"] for row in stored(out).values()}
    link = out / stored(out)["quitter"]["video"]
    with serving(out) as server:
        episode = get_json(server, f"/api/episodes/{ids['quitter']}")
        assert episode["video"] == f"/api/episodes/{ids['quitter']}/video"
        status, headers, body = request(server, episode["video"])
        assert status == 200 and headers["content-type"] == "video/mp4" and body == link.read_bytes()
        assert get_json(server, f"/api/episodes/{ids['expert']}")["video"] is None
    moved = link.with_name("moved.bin")
    os.replace(link, moved)
    try:
        with serving(out) as server:
            assert get_json(server, f"/api/episodes/{ids['quitter']}")["video"] is None
            assert request(server, f"/api/episodes/{ids['quitter']}/video")[0] == 404
    finally:
        os.replace(moved, link)


def test_the_viewer_serves_byte_ranges_so_a_browser_can_seek(evaluated: tuple[Path, Path]) -> None:
    _, out = evaluated
    row = stored(out)["quitter"]
    data = (out / row["video"]).read_bytes()
    size = len(data)
    with serving(out) as server:
        port = server.server_address[1]
        asked = {
            "bytes=0-99": (206, data[:100], f"bytes 0-99/{size}"),
            "bytes=100-": (206, data[100:], f"bytes 100-{size - 1}/{size}"),
            "bytes=-50": (206, data[-50:], f"bytes {size - 50}-{size - 1}/{size}"),
            f"bytes=10-{size + 999}": (206, data[10:], f"bytes 10-{size - 1}/{size}"),
            "bytes=0-1,5-6": (200, data, None),  # several ranges: the whole file
            f"bytes={size}-": (416, b"", f"bytes */{size}"),
        }
        for header, (status, body, content_range) in asked.items():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", f"/api/episodes/{row['id']}/video", headers={"Range": header})
            response = connection.getresponse()
            assert (response.status, response.read()) == (status, body), header
            assert response.getheader("Content-Range") == content_range, header
            connection.close()


def polled(locator: Any, condition: str, timeout_s: float = 20.0) -> bool:
    """Whether ``condition`` (a JavaScript function of the element) holds within the time.

    Polled from here: the page's Content-Security-Policy forbids the eval that
    ``wait_for_function`` needs, as it should.
    """
    deadline = time.monotonic() + timeout_s
    while not locator.evaluate(condition):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_page_plays_the_video_and_seeks_in_it(evaluated: tuple[Path, Path]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    _, out = evaluated
    rows = stored(out)
    link = out / rows["quitter"]["video"]
    errors: list[str] = []
    with serving(out) as server, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(f"{server.url}#/episode/{rows['quitter']['id']}")
            video = page.locator("video#video")
            assert polled(video, "v => v.readyState >= 1 && v.seekable.length > 0")
            assert video.evaluate("v => v.duration") == pytest.approx(START_S + TURN_S + END_S, abs=0.2)
            assert video.evaluate("v => v.seekable.end(0)") == pytest.approx(START_S + TURN_S + END_S, abs=0.2)
            video.evaluate("v => { v.currentTime = 2.5; }")
            assert polled(video, "v => v.currentTime > 2 && !v.seeking")
            moved = link.with_name("moved.bin")
            os.replace(link, moved)
            try:
                page.reload()
                page.wait_for_selector("text=no video", timeout=20_000)
                assert page.locator("video").count() == 0
                assert f"no video ({rows['quitter']['video']} is missing)" in page.inner_text("dl.facts")
            finally:
                os.replace(moved, link)
        finally:
            browser.close()
    assert errors == []


def test_a_long_action_is_recorded_whole_at_a_lower_rate() -> None:
    from codeact_robot.worker.protocol import MAX_POSES

    env = CodeActEnv("PickPlace", renderer="tiny", video_fps=60, time_limit_s=120)
    try:
        env.reset(seed=1)
        program = (
            "for _ in range(12):\n    move_to([0.3, 0.25, 0.3])\n    move_to([0.6, -0.25, 0.05])\n"
            "move_to([0.45, 0.0, 0.35])\n"  # a place visited only at the very end
        )
        _, _, _, _, info = env.step(program)
    finally:
        env.close()
    steps, poses = info["timings"].sim_steps, len(info["poses"])
    every = round(SIM_RATE_HZ / 60)
    assert steps > MAX_POSES * every  # longer than the poses at the full rate could hold
    assert MAX_POSES // 2 <= poses <= MAX_POSES  # thinned, never over the cap
    last_recorded, final = info["poses"][-2], info["poses"][-1]  # the final one is the scene as the action ends
    assert np.allclose(last_recorded.joints, final.joints, atol=1e-2)  # the recording reached the end
