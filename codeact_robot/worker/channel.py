"""The channel between an episode's executor and its simulator: plain data, checked, capped.

The host makes a socket pair for each executor it starts, passes one end to the executor
and hands the other to the simulator. Over it:

- simulator -> executor: ``start`` (seed, learned skill sources), ``run`` (a program);
- executor -> simulator: ``call`` (a skill's name and arguments), then ``started`` or
  ``finished`` (what the program did);
- simulator -> executor, for each call: ``answer`` (the value), ``raise`` (the exception's
  type and arguments) or ``limit`` (the action hit the simulator's step or time limit, or the user stopped it),
  each with what the skill printed.

A message is one frame: a 4-byte length, a JSON header, then the raw bytes of every array
it carries, each declared in the header by dtype and shape. Nothing is ever unpickled, and
values are rebuilt only as ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``,
``list``, ``tuple``, ``dict`` and numeric numpy arrays. Both sides read the other as
untrusted: a message that breaks these rules raises :class:`ChannelError`.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codeact_robot.sandbox.skill_rule import MAX_SKILL_CHARS
from codeact_robot.skills.episode import MAX_SAID, MAX_SAID_CHARS
from codeact_robot.worker.protocol import (
    MAX_ERROR_CHARS,
    MAX_NAME_CHARS,
    MAX_NOTE_CHARS,
    MAX_NOTES,
    MAX_OUTPUT_CHARS,
    MAX_SAVED_SKILLS,
    ProtocolError,
    SavedSkill,
)

MAX_CALL_BYTES = 16 * 2**20  # a skill call's arguments: far more than any valid call needs
MAX_ANSWER_BYTES = 80 * 2**20  # a skill's answer: the largest camera's depth image as float64, and more
MAX_DEPTH = 20  # nesting of a value (the sandbox passes at most 16 levels)
MAX_DIMENSIONS = 8
MAX_INT_BITS = 1024  # floats end below 2**1024: a longer integer is no position (and JSON stops at 4300 digits)
MAX_CODE_CHARS = 1_000_000
MAX_SKILLS = 1000
MAX_COUNT = 2**53  # what the executor alone can count: far more than an action does, exact as a float
DTYPES = frozenset(
    np.dtype(name).str
    for name in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float16", "float32", "float64", "complex64", "complex128",
    )
)  # fmt: skip
RAISABLE = {
    kind.__name__: kind
    for kind in (
        ValueError, TypeError, RuntimeError, KeyError, IndexError, LookupError, ZeroDivisionError,
        ArithmeticError, OverflowError, AttributeError, NotImplementedError, AssertionError,
    )
}  # fmt: skip
"""The exceptions a skill's ``raise`` recreates in the executor; any other arrives as RuntimeError."""
_LENGTH = struct.Struct("!I")
_TOO_LONG = f"an integer of more than {MAX_INT_BITS} bits cannot be passed to or from a skill; use a float"


class ChannelError(ProtocolError):
    """A message on the executor channel that breaks its rules."""


class _Plain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Start:
    """Simulator -> executor: start the episode's sandbox (seeded), loading these learned skills.

    Checked by hand rather than by a schema library: sources and programs are any Python
    text, lone surrogates included, which the sandbox reports as an ordinary error.
    """

    seed: int
    skills: tuple[str, ...] = ()

    def header(self) -> dict[str, Any]:
        return {"op": "start", "seed": self.seed, "skills": list(self.skills)}

    @classmethod
    def of(cls, header: dict[str, Any]) -> Start:
        _keys(header, {"op", "seed", "skills"})
        seed, skills = header["seed"], header["skills"]
        if type(seed) is not int or type(skills) is not list or len(skills) > MAX_SKILLS:
            raise ChannelError(f"a start message needs an integer seed and at most {MAX_SKILLS} skill sources")
        if not all(type(source) is str and len(source) <= MAX_SKILL_CHARS for source in skills):
            raise ChannelError(f"a skill source must be a string of at most {MAX_SKILL_CHARS} characters")
        return cls(seed, tuple(skills))


@dataclass(frozen=True)
class Run:
    """Simulator -> executor: run one program (checked by hand, as :class:`Start`)."""

    code: str
    turn: int

    def header(self) -> dict[str, Any]:
        return {"op": "run", "code": self.code, "turn": self.turn}

    @classmethod
    def of(cls, header: dict[str, Any]) -> Run:
        _keys(header, {"op", "code", "turn"})
        code, turn = header["code"], header["turn"]
        if type(code) is not str or len(code) > MAX_CODE_CHARS or type(turn) is not int or turn < 0:
            raise ChannelError(f"a run message needs a program of at most {MAX_CODE_CHARS} characters and a turn")
        return cls(code, turn)


def _keys(header: dict[str, Any], expected: set[str]) -> None:
    if set(header) != expected:
        raise ChannelError(f"a {header['op']} message must have exactly the fields {sorted(expected)}")


class Started(_Plain):
    """Executor -> simulator: the sandbox is ready; what did not load."""

    op: Literal["started"]
    notes: tuple[Annotated[str, Field(max_length=MAX_NOTE_CHARS)], ...] = Field((), max_length=MAX_NOTES)


class Finished(_Plain):
    """Executor -> simulator: what a program did, as the executor saw it.

    Skill calls the simulator served it counts itself, and it measures the action's time;
    ``local_calls`` are the calls of the episode skills (``say``, ``done``, ``save_skill``),
    which the executor answers alone.
    """

    op: Literal["finished"]
    stdout: str = Field("", max_length=MAX_OUTPUT_CHARS)
    stdout_cut: int = Field(0, ge=0, le=MAX_COUNT)
    error: str | None = Field(None, max_length=MAX_ERROR_CHARS)
    error_type: Annotated[str, Field(max_length=MAX_NAME_CHARS)] | None = None
    limit: Literal["time", "sim_steps", "memory", "recursion", "stopped"] | None = None
    origin: Literal["syntax", "sandbox", "skill", "program", "limit"] | None = None
    said: tuple[Annotated[str, Field(max_length=MAX_SAID_CHARS)], ...] = Field((), max_length=MAX_SAID)
    done: bool = False
    local_calls: int = Field(0, ge=0, le=MAX_COUNT)
    saved_skills: tuple[SavedSkill, ...] = Field((), max_length=MAX_SAVED_SKILLS)


_MESSAGES: dict[str, Any] = {
    "start": Start.of,
    "run": Run.of,
    "started": Started.model_validate,
    "finished": Finished.model_validate,
}


# --- values -----------------------------------------------------------------------------------


def encode_value(value: Any, buffers: list[memoryview], depth: int = 0) -> Any:
    """``value`` as JSON-ready data; each array's bytes are appended to ``buffers``.

    Raises:
        TypeError: for a value of any other type (the message names the allowed ones).
        ValueError: for a value nested deeper than ``MAX_DEPTH``, or an integer longer than ``MAX_INT_BITS``.
    """
    if depth > MAX_DEPTH:
        raise ValueError(f"a value nested deeper than {MAX_DEPTH} levels cannot cross to the simulator")
    kind = type(value)
    if kind is int and value.bit_length() > MAX_INT_BITS:
        raise ValueError(_TOO_LONG)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is list:
        return [encode_value(v, buffers, depth + 1) for v in value]
    if kind is tuple:
        return {"t": [encode_value(v, buffers, depth + 1) for v in value]}
    if kind is dict:
        return {
            "d": [[encode_value(k, buffers, depth + 1), encode_value(v, buffers, depth + 1)] for k, v in value.items()]
        }
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if isinstance(value, np.generic):
        return encode_value(value.item(), buffers, depth + 1)
    if kind is np.ndarray and value.dtype.str in DTYPES:
        buffers.append(memoryview(np.ascontiguousarray(value)).cast("B"))
        return {"a": [value.dtype.str, list(value.shape)]}
    raise TypeError(
        f"a {kind.__name__} cannot be passed to or from a skill; "
        "use numbers, strings, lists, tuples, dicts or numeric numpy arrays"
    )


class _Buffers:
    """The raw bytes after a header, handed out array by array, each exactly as long as declared."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> memoryview:
        if self.offset + size > len(self.data):
            raise ChannelError("an array is longer than the bytes the message carries")
        piece = self.data[self.offset : self.offset + size]
        self.offset += size
        return piece


def decode_value(data: Any, buffers: _Buffers) -> Any:
    """The value :func:`encode_value` described, rebuilt from plain types only.

    Raises:
        ChannelError: for anything :func:`encode_value` does not write.
    """
    try:
        return _decode(data, buffers, 0)
    except ChannelError:
        raise
    except (TypeError, ValueError) as error:  # a form the checks below missed: still the sender's fault
        raise ChannelError(f"a value that cannot be rebuilt: {str(error)[:200]}") from None


def _decode(data: Any, buffers: _Buffers, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ChannelError(f"a value is nested deeper than {MAX_DEPTH} levels")
    kind = type(data)
    if kind is int and data.bit_length() > MAX_INT_BITS:
        raise ChannelError(_TOO_LONG)
    if data is None or kind in (bool, int, float, str):
        return data
    if kind is list:
        return [_decode(v, buffers, depth + 1) for v in data]
    if kind is not dict or len(data) != 1:
        raise ChannelError(f"a value of an unknown form: {type(data).__name__}")
    ((tag, body),) = data.items()
    if tag == "t" and type(body) is list:
        return tuple(_decode(v, buffers, depth + 1) for v in body)
    if tag == "d" and type(body) is list:
        pairs = [_pair(item) for item in body]
        return {_key(_decode(k, buffers, depth + 1)): _decode(v, buffers, depth + 1) for k, v in pairs}
    if tag == "c" and type(body) is list and len(body) == 2 and all(type(x) in (int, float) for x in body):
        return complex(body[0], body[1])
    if tag == "a":
        return _array(body, buffers)
    raise ChannelError(f"a value of an unknown form: tag {str(tag)[:20]!r}")


def _pair(item: Any) -> tuple[Any, Any]:
    if type(item) is not list or len(item) != 2:
        raise ChannelError("a dict entry must be a [key, value] pair")
    return item[0], item[1]


def _key(key: Any) -> Any:
    try:
        hash(key)  # a list, a dict or an array, or a tuple holding one
    except TypeError:
        raise ChannelError("a dict key must be a number, a string or a tuple of them") from None
    return key


def _array(body: Any, buffers: _Buffers) -> np.ndarray:
    declared = type(body) is list and len(body) == 2 and type(body[0]) is str and type(body[1]) is list
    if not declared or body[0] not in DTYPES:
        raise ChannelError("an array must be declared as [dtype, shape] with a numeric dtype")
    dtype, shape = np.dtype(body[0]), body[1]
    if len(shape) > MAX_DIMENSIONS or not all(type(n) is int and 0 <= n <= MAX_ANSWER_BYTES for n in shape):
        raise ChannelError(f"an array shape must be at most {MAX_DIMENSIONS} sizes >= 0")
    size = math.prod(shape) * dtype.itemsize
    return np.frombuffer(buffers.take(size), dtype=dtype).reshape(shape).copy()


# --- frames -----------------------------------------------------------------------------------


def send_message(connection: Connection, header: dict[str, Any], buffers: list[memoryview] = ()) -> None:  # type: ignore[assignment]
    """One frame: the header's length, the header as JSON, then every buffer's bytes."""
    encoded = json.dumps(header).encode()
    if not buffers:
        connection.send_bytes(_LENGTH.pack(len(encoded)) + encoded)
        return
    connection.send_bytes(b"".join((_LENGTH.pack(len(encoded)), encoded, *buffers)))


def receive_message(connection: Connection, limit: int) -> tuple[dict[str, Any], _Buffers]:
    """The next frame's header (a JSON object with an ``op``) and its raw bytes.

    Raises:
        ChannelError: an oversized or malformed frame.
        EOFError, OSError: the other side went away.
    """
    try:
        frame = memoryview(connection.recv_bytes(limit))
    except OSError as error:
        if "bad message length" in str(error):
            raise ChannelError(f"a message is longer than the {limit} bytes allowed") from None
        raise
    if len(frame) < _LENGTH.size:
        raise ChannelError("a message shorter than its header")
    (length,) = _LENGTH.unpack_from(frame)
    if length > len(frame) - _LENGTH.size:
        raise ChannelError("a message header longer than the message")
    try:
        header = json.loads(bytes(frame[_LENGTH.size : _LENGTH.size + length]))
    except (ValueError, RecursionError):
        raise ChannelError("a message header that is not JSON") from None
    if type(header) is not dict or type(header.get("op")) is not str:
        raise ChannelError("a message header must be a JSON object with an op")
    return header, _Buffers(frame[_LENGTH.size + length :])


def send_model(connection: Connection, message: Start | Run | Started | Finished) -> None:
    """Send one of the checked messages (:class:`Start`, :class:`Run`, :class:`Started`, :class:`Finished`)."""
    send_message(connection, message.header() if isinstance(message, Start | Run) else message.model_dump(mode="json"))


def checked(header: dict[str, Any], expected: tuple[str, ...]) -> Any:
    """The header as its message class, when its ``op`` is one of ``expected``.

    Raises:
        ChannelError: another op, or fields that break the message's schema.
    """
    op = header["op"]
    if op not in expected or op not in _MESSAGES:
        raise ChannelError(f"a {op[:20]!r} message where {' or '.join(expected)} was expected")
    try:
        return _MESSAGES[op](header)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ChannelError(f"a malformed {op} message: {where}: {first['msg']}") from None
