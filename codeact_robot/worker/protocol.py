"""What crosses the process boundary between the host and the simulator: plain data only.

Every message is one length-prefixed frame on the socket (``send_bytes``/``recv_bytes``
of :mod:`multiprocessing.connection`; nothing is pickled). A request is one JSON frame.
A reply is a JSON header followed by one raw frame per camera image it announces
(``height x width x 3`` bytes each); a reply to ``render`` is a JSON header followed by
one raw frame per video frame. The host reads every frame with a size cap, validates
the header against :class:`ReplyHeader` or :class:`FramesHeader` (a cap on every
field), and checks each image's length against the configured camera size and each
video frame's against the configured video frame size. While an action runs with a live
view (``execute`` with ``live``), the simulator sends the scene's pose a few times a
second before its reply, each one JSON frame (:class:`PoseHeader`), read with the same
checks and only when asked for; the host draws them where it likes (drawing in the
simulator would slow the action down by the drawing time). The host may send one
request while an action runs: ``stop``, which the simulator honours between physics
steps. A reply that fails any check
raises :class:`ProtocolError`, which the host treats as a crashed worker
(restart, restore): a taken-over worker can lie about its own episode, but it cannot
make the host run code or exhaust its memory. Requests that attach an executor carry the
simulator's end of its channel as a file descriptor (``SCM_RIGHTS``) right after them; a
reply says in ``executor_lost`` when the simulator lost that executor.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from codeact_robot.errors import problem_text
from codeact_robot.sandbox.skill_rule import MAX_SKILL_CHARS, MAX_SKILL_NAME_CHARS
from codeact_robot.skills.episode import MAX_SAID, MAX_SAID_CHARS
from codeact_robot.worker.config import Camera

MAX_HEADER_BYTES = 16 * 2**20  # a header holds the exact world state (about 250 kB) and printed output
MAX_REQUEST_BYTES = 64 * 2**20  # a request can carry a whole skill library
MAX_OBJECTS = 64
MAX_EVENTS = 16  # scene events of one episode
MAX_POSES = 1800  # scene poses per action; a longer action is recorded at a lower rate (see the runtime)
MAX_RENDER_POSES = 100  # poses one render request turns into frames (tens of MB of frames at most)
MAX_ERROR_CHARS = 8000  # an error's traceback is cut to this, keeping its end
MAX_OUTPUT_CHARS = 100_000
MAX_NOTES = 32
MAX_NOTE_CHARS = 1000
MAX_SAVED_SKILLS = 16
MAX_LIVE_FPS = 30.0
STOP_GRACE_S = 2.0  # after a stop, for a program that calls no skill, before its executor is ended

MAX_NAME_CHARS = 64
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
Text = Annotated[str, Field(max_length=MAX_ERROR_CHARS)]
Vector3 = tuple[float, float, float]


class ProtocolError(Exception):
    """A message that breaks the protocol: malformed, oversized, truncated or late."""


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Timings:
    """How long an action took. Wall time is a measurement, not state: equality ignores it.

    Attributes:
        exec_s: wall-clock seconds the code ran in the worker.
        sim_steps: physics steps it ran.
        sim_s: simulated seconds it ran.
    """

    exec_s: float = field(default=0.0, compare=False)
    sim_steps: int = 0
    sim_s: float = 0.0


class ActionReport(_Plain):
    """What one code action did: the single record of it (``info`` and turn records are built from it).

    Attributes:
        stdout: printed output, at most the configured number of characters.
        stdout_cut: how many printed characters were not shown.
        error: the error as the model sees it (traceback cut to its own lines), or None.
        error_type: the exception's class name (``"ValueError"``), or the limit's kind.
        limit: the limit that stopped the program (``"stopped"``: the user stopped it), or None.
        said: what the program said to the user with ``say()``.
        done: whether the program called ``done()``.
        origin: where the error came from (``"syntax"``, ``"sandbox"``, ``"skill"``,
            ``"program"``, ``"limit"``, ``"crash"``), None without an error.
        skill_calls: skill calls the action made.
        skill_false: skill calls that returned False (physical failures such as a missed grasp).
        restarted: whether the worker had to be restarted (the namespace is lost).
        timings: wall-clock and simulated time the action took.
    """

    stdout: str = Field("", max_length=MAX_OUTPUT_CHARS)
    stdout_cut: int = Field(0, ge=0)
    error: Text | None = None
    error_type: Name | None = None
    limit: Literal["time", "sim_steps", "memory", "recursion", "crash", "stopped"] | None = None
    said: tuple[Annotated[str, Field(max_length=MAX_SAID_CHARS)], ...] = Field((), max_length=MAX_SAID)
    origin: Literal["syntax", "sandbox", "skill", "program", "limit", "crash"] | None = None
    skill_calls: int = Field(0, ge=0)
    skill_false: int = Field(0, ge=0)
    done: bool = False
    restarted: bool = False
    timings: Timings = Timings()


Pose7 = tuple[float, float, float, float, float, float, float]


class ScenePose(_Plain):
    """Where everything that moves is at one moment: enough to draw the scene again.

    Recorded for videos while an action runs (a fraction of a millisecond each, where
    rendering a frame takes tens), and rendered only for the videos that are kept.

    Attributes:
        objects: (x, y, z, qx, qy, qz, qw) of each object, in the world's creation order.
        joints: the Panda's arm and finger joint angles, radians.
    """

    objects: tuple[Pose7, ...] = Field(max_length=MAX_OBJECTS)
    joints: tuple[float, ...] = Field(max_length=16)


class ObjectStateData(_Plain):
    """One object's state, as :class:`codeact_robot.envs.state.ObjectState` writes it."""

    name: Name
    kind: Name
    colour: Name
    position: Vector3
    orientation: tuple[float, float, float, float]
    linear_velocity: Vector3
    angular_velocity: Vector3
    size: Name
    opening: float | None = Field(None, ge=-0.01, le=1.0)  # a drawer's, metres


class RobotStateData(_Plain):
    """The Panda's joints and motor targets."""

    positions: tuple[float, ...] = Field(max_length=16)
    velocities: tuple[float, ...] = Field(max_length=16)
    arm_targets: tuple[float, ...] = Field(max_length=16)
    gripper_target: float


class SceneEventData(_Plain):
    """A scene event still to happen, as ``SceneEvent.to_dict`` writes it (checked again before it is used)."""

    when_in: Name
    kind: Name
    move_to: tuple[float, float]


class PCG64Data(_Plain):
    """The two 128-bit numbers of a PCG64 generator."""

    state: int = Field(ge=0, lt=2**128)
    inc: int = Field(ge=0, lt=2**128)


class RandomStreamData(_Plain):
    """Where a numpy random stream stands (``Generator.bit_generator.state``)."""

    bit_generator: Literal["PCG64"]
    state: PCG64Data
    has_uint32: int = Field(ge=0, le=1)
    uinteger: int = Field(ge=0, lt=2**32)


class EpisodeProgress(_Plain):
    """What a restore continues besides the world, so that a restored episode goes on as the lost one would have.

    Attributes:
        pending_events: the scene events still to happen, in order.
        events_done: how many of the episode's scene events have happened.
        streams: where the imperfect physics' slip and disturbance streams stand (empty: perfect physics).
        slipping: a grasp has slipped, and the next arm motion leaves the object behind.
    """

    pending_events: tuple[SceneEventData, ...] = Field((), max_length=MAX_EVENTS)
    events_done: int = Field(0, ge=0, le=MAX_EVENTS)
    streams: tuple[RandomStreamData, ...] = Field((), max_length=2)  # slip, disturbance
    slipping: bool = False


class WorldState(_Plain):
    """The world's exact state (``TabletopWorld.get_state``) and the episode's progress: a restore's snapshot."""

    version: int
    time_step: float = Field(gt=0)
    step_count: int = Field(ge=0)
    objects: tuple[ObjectStateData, ...] = Field(max_length=MAX_OBJECTS)
    robot: RobotStateData
    bullet: str | None = Field(None, max_length=8 * 2**20)
    episode: EpisodeProgress = EpisodeProgress()


class GripperSummary(_Plain):
    """Where the gripper is, how open (its width, and ``state`` in words), what it holds."""

    position: Vector3
    width: float
    state: Literal["open", "closed", "partly open"]
    holding: Name | None = None


class SceneSummary(_Plain):
    """What perception reports: the visible objects' positions, how far each visible drawer is open, the gripper."""

    objects: dict[Name, Vector3] = Field(max_length=MAX_OBJECTS)
    gripper: GripperSummary
    openings: dict[Name, Annotated[float, Field(ge=-0.01, le=1.0)]] = Field(
        default_factory=dict, max_length=MAX_OBJECTS
    )


class SavedSkill(_Plain):
    """A function a program saved with ``save_skill``, for the host to store."""

    name: str = Field(max_length=MAX_SKILL_NAME_CHARS)
    source: str = Field(max_length=MAX_SKILL_CHARS)


class Hello(_Plain):
    """The worker's first message: how it confined itself before running any program."""

    confinement: str = Field(max_length=2000)
    missing: tuple[Annotated[str, Field(max_length=500)], ...] = Field((), max_length=8)


class ExecutorLoss(_Plain):
    """How the simulator lost the executor during a request (the host replaces the executor).

    Attributes:
        kind: ``"crash"`` (it went away), ``"time"`` (no answer within the time limit and
            its grace), ``"protocol"`` (it broke the channel's rules) or ``"stopped"`` (the
            user stopped the action and it did not end within ``STOP_GRACE_S``).
        detail: what the simulator saw.
    """

    kind: Literal["crash", "time", "protocol", "stopped"]
    detail: str = Field("", max_length=500)


class ReplyHeader(_Plain):
    """The JSON part of a reply; the images follow as raw frames."""

    status: Literal["ok"]
    report: ActionReport
    state: WorldState
    scene: SceneSummary
    images: tuple[Camera, ...] = Field(max_length=2)
    poses: tuple[ScenePose, ...] = Field((), max_length=MAX_POSES)
    notes: tuple[Annotated[str, Field(max_length=MAX_NOTE_CHARS)], ...] = Field((), max_length=MAX_NOTES)
    saved_skills: tuple[SavedSkill, ...] = Field((), max_length=MAX_SAVED_SKILLS)
    executor_lost: ExecutorLoss | None = None


class FramesHeader(_Plain):
    """The JSON part of a reply to ``render``; the video frames follow as raw frames."""

    status: Literal["frames"]
    frames: int = Field(ge=0, le=MAX_RENDER_POSES)


class LiveView(_Plain):
    """A live view of an action: the scene's pose about ``fps`` times a second of wall time while it runs.

    A pose is read between two physics steps (a fraction of a millisecond) and never
    moves the world: an action with a live view ends exactly where it would without one.
    """

    fps: float = Field(gt=0, le=MAX_LIVE_FPS)


class PoseHeader(_Plain):
    """A live pose of the scene, sent while an action runs."""

    status: Literal["pose"]
    pose: ScenePose


class FailureHeader(_Plain):
    """A reply saying the worker itself failed at a request (not the program)."""

    status: Literal["error"]
    message: str = Field(max_length=2000)


_HEADER: TypeAdapter[ReplyHeader | PoseHeader | FailureHeader] = TypeAdapter(
    Annotated[ReplyHeader | PoseHeader | FailureHeader, Field(discriminator="status")]
)
PoseCallback = Callable[[ScenePose], None]
"""Takes a live pose of the scene."""
_FRAMES_HEADER: TypeAdapter[FramesHeader | FailureHeader] = TypeAdapter(
    Annotated[FramesHeader | FailureHeader, Field(discriminator="status")]
)


@dataclass(frozen=True)
class WorkerReply:
    """Everything the host learns after a reset, a restore or a code action.

    Attributes:
        report: what the code action did (empty for resets and restores).
        state: the world's exact state (the next action's snapshot).
        scene: what perception reports.
        images: camera name -> RGB image, for the configured cameras.
        poses: the scene's poses recorded for a video during the action (``video_fps``
            a simulated second), the last one the scene as the reply leaves it; empty
            without video. ``render`` turns them into frames.
        notes: messages about the episode set-up (a learned skill that did not load).
        saved_skills: functions the program saved for later episodes.
        executor_lost: set when the simulator lost the executor during the request (the
            host starts a fresh one); the scene is as the request left it.
    """

    report: ActionReport
    state: WorldState
    scene: SceneSummary
    images: dict[str, np.ndarray]
    poses: tuple[ScenePose, ...] = ()
    notes: tuple[str, ...] = ()
    saved_skills: tuple[SavedSkill, ...] = ()
    executor_lost: ExecutorLoss | None = None


class WorkerFailed(Exception):
    """The worker answered that it could not carry out a request (its own failure)."""


# --- the worker's side ---------------------------------------------------------------------


def send_reply(connection: Connection, reply: WorkerReply) -> None:
    """Send a reply: the JSON header, then each image's raw bytes."""
    images = list(reply.images)
    header = ReplyHeader(
        status="ok",
        report=reply.report,
        state=reply.state,
        scene=reply.scene,
        images=tuple(images),
        poses=reply.poses,
        notes=reply.notes,
        saved_skills=reply.saved_skills,
        executor_lost=reply.executor_lost,
    )
    connection.send_bytes(header.model_dump_json().encode())
    for name in images:
        connection.send_bytes(np.ascontiguousarray(reply.images[name], dtype=np.uint8).reshape(-1).data)


def send_frames(connection: Connection, frames: list[np.ndarray]) -> None:
    """Answer ``render``: the JSON header, then each video frame's raw bytes."""
    connection.send_bytes(FramesHeader(status="frames", frames=len(frames)).model_dump_json().encode())
    for frame in frames:
        connection.send_bytes(np.ascontiguousarray(frame, dtype=np.uint8).reshape(-1).data)


def send_live_pose(connection: Connection, pose: ScenePose) -> None:
    """Send the scene's pose while an action runs with a live view."""
    connection.send_bytes(PoseHeader(status="pose", pose=pose).model_dump_json().encode())


def send_failure(connection: Connection, message: str) -> None:
    """Tell the host the worker could not carry out its request."""
    connection.send_bytes(FailureHeader(status="error", message=message[:2000]).model_dump_json().encode())


def receive_request(connection: Connection) -> dict[str, Any]:
    """The next request from the host (a JSON object with a ``verb``)."""
    request = json.loads(connection.recv_bytes(MAX_REQUEST_BYTES))
    if not isinstance(request, dict) or not isinstance(request.get("verb"), str):
        raise ProtocolError("a request must be a JSON object with a verb")
    return request


def receive_channel(connection: Connection) -> Connection:
    """The executor channel the host passes with ``reset``, ``restore`` and ``attach`` (a file descriptor)."""
    carrier = socket.socket(fileno=connection.fileno())
    try:
        _, fds, _, _ = socket.recv_fds(carrier, 1, 1)
    finally:
        carrier.detach()
    if len(fds) != 1:
        raise ProtocolError("a request that attaches an executor came without its channel")
    return Connection(fds[0])


# --- the host's side -----------------------------------------------------------------------


def send_request(connection: Connection, verb: str, channel: int | None = None, **payload: Any) -> None:
    """Send a request to the simulator, with the file descriptor of an executor channel if given."""
    connection.send_bytes(json.dumps({"verb": verb, **payload}).encode())
    if channel is not None:
        carrier = socket.socket(fileno=connection.fileno())
        try:
            socket.send_fds(carrier, [b"c"], [channel])
        finally:
            carrier.detach()


def receive_reply(
    connection: Connection,
    image_shape: tuple[int, int, int],
    cameras: tuple[str, ...],
    video: bool,
    deadline: float,
    on_pose: PoseCallback | None = None,
) -> WorkerReply:
    """Read and check one reply (and the live poses before it).

    Args:
        connection: the host's end of the socket.
        image_shape: (height, width, 3) of every camera image.
        cameras: the cameras whose images every reply must carry, and no others.
        video: whether poses for a video are recorded (else a reply carrying some
            breaks the protocol).
        deadline: ``time.monotonic()`` by which the whole reply must have arrived.
        on_pose: what takes the live poses of an action with a live view; None: a pose breaks the protocol.

    Raises:
        TimeoutError: the reply did not arrive by the deadline.
        EOFError, OSError: the worker went away.
        ProtocolError: a malformed, oversized or truncated reply.
        WorkerFailed: the worker reported a failure of its own.
    """
    header = _reply_header(connection, deadline)
    while isinstance(header, PoseHeader):
        if on_pose is None:
            raise ProtocolError("a live pose came unasked")
        on_pose(header.pose)
        header = _reply_header(connection, deadline)
    if isinstance(header, FailureHeader):
        raise WorkerFailed(header.message)
    if len(set(header.images)) != len(header.images) or set(header.images) != set(cameras):
        raise ProtocolError(f"a reply carried the cameras {list(header.images)}; expected {list(cameras)}")
    if header.poses and not video:
        raise ProtocolError(f"a reply carried {len(header.poses)} pose(s) for a video; no video is recorded")
    images = [_image(connection, image_shape, deadline) for _ in header.images]
    return WorkerReply(
        report=header.report,
        state=header.state,
        scene=header.scene,
        images=dict(zip(header.images, images)),
        poses=header.poses,
        notes=header.notes,
        saved_skills=header.saved_skills,
        executor_lost=header.executor_lost,
    )


def _reply_header(connection: Connection, deadline: float) -> ReplyHeader | PoseHeader | FailureHeader:
    raw = _frame(connection, MAX_HEADER_BYTES, deadline)
    try:
        return _HEADER.validate_json(raw)
    except ValidationError as error:
        raise ProtocolError(
            f"malformed reply header: {error.error_count()} problem(s), first: {_first(error)}"
        ) from None


def receive_frames(
    connection: Connection, frame_shape: tuple[int, int, int], count: int, deadline: float
) -> list[np.ndarray]:
    """Read and check the reply to a ``render`` request of ``count`` poses.

    Args:
        connection: the host's end of the socket.
        frame_shape: (height, width, 3) of every video frame.
        count: how many frames the reply must carry.
        deadline: ``time.monotonic()`` by which the whole reply must have arrived.

    Raises:
        TimeoutError, EOFError, OSError, ProtocolError, WorkerFailed: as :func:`receive_reply`.
    """
    try:
        header = _FRAMES_HEADER.validate_json(_frame(connection, 8192, deadline))
    except ValidationError as error:
        raise ProtocolError(f"malformed frames header: {_first(error)}") from None
    if isinstance(header, FailureHeader):
        raise WorkerFailed(header.message)
    if header.frames != count:
        raise ProtocolError(f"a reply carried {header.frames} video frame(s); {count} were asked for")
    return [_image(connection, frame_shape, deadline) for _ in range(count)]


def receive_hello(connection: Connection, deadline: float) -> Hello:
    """Read and check the worker's first message.

    Raises:
        TimeoutError, EOFError, OSError, ProtocolError: as :func:`receive_reply`.
    """
    try:
        return Hello.model_validate_json(_frame(connection, 8192, deadline))
    except ValidationError as error:
        raise ProtocolError(f"malformed hello: {_first(error)}") from None


def _frame(connection: Connection, limit: int, deadline: float) -> bytes:
    if not connection.poll(max(0.0, deadline - time.monotonic())):
        raise TimeoutError("the worker did not answer in time")
    try:
        return connection.recv_bytes(limit)
    except OSError as error:
        if "bad message length" in str(error):
            raise ProtocolError(f"a reply frame is longer than the {limit} bytes allowed") from None
        raise


def _image(connection: Connection, shape: tuple[int, int, int], deadline: float) -> np.ndarray:
    size = int(np.prod(shape))
    data = _frame(connection, size, deadline)
    if len(data) != size:
        raise ProtocolError(f"an image frame has {len(data)} bytes; {shape} needs {size}")
    return np.frombuffer(data, dtype=np.uint8).reshape(shape).copy()


def _first(error: ValidationError) -> str:
    return problem_text(error.errors()[0])
