"""Nothing the sandbox offers reads an array's raw memory, and nothing makes bytes.

An array exports its memory through the buffer protocol: an object array its pointers.
The policy module lists every callable the sandbox offers and says why none reads a
buffer; this file checks the claim by finding those callables the way a program would
(the builtins, the modules, and what the policy lets each type offer, on instances and
on classes) and calling each with arrays, alone and next to the arguments buffer readers
take ("latin-1", "little", ...). No result may carry the arrays' raw bytes, as text, as
an integer or as another array's data, and no result may be bytes.
"""

from __future__ import annotations

import collections
import itertools
import operator
import struct
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from codeact_robot.sandbox.classes import STR, ClassView
from codeact_robot.sandbox.executor import Sandbox
from codeact_robot.sandbox.policy import ATTRIBUTES, Policy
from codeact_robot.sandbox.safemodule import SafeModule
from codeact_robot.worker.config import Limits

BIG = 10**30  # too big for int64: an operator coerces a list holding it to an object array


def object_array() -> np.ndarray:
    """The object array an operator makes; its raw memory is two pointers: to BIG and to 1."""
    array = np.zeros(2, int) + [BIG, 1]
    array[0] = BIG  # the operator made a new int equal to BIG; the probe knows BIG's address
    return array


def float_array() -> np.ndarray:
    """A float array; its raw memory is the two numbers' bits, which no value equals."""
    return np.array([1.5, -2.25])


POINTERS = [id(BIG).to_bytes(8, "little"), id(1).to_bytes(8, "little")]
BITS = [struct.pack("<d", 1.5), struct.pack("<d", -2.25)]
BYTES_LIKE = (bytes, bytearray, memoryview, np.bytes_)

# next to an array, the arguments that buffer readers take: an encoding, a byte order, a size
COMPANIONS: list[tuple[Any, ...]] = [(), ("latin-1",), ("little",), (0,), ("latin-1", "strict"), (8, "little")]
# and plain values, for callables that could make bytes out of anything
PLAIN_ARGUMENTS: list[tuple[Any, ...]] = [
    (),
    ("utf-8",),
    (8, "little"),
    ("abc",),
    ("abc", "utf-8"),
    (3,),
    (3, 8, "little"),
    ([1, 2],),
    (np.array(["ab"]),),
    (np.array([1, 2]),),
]


def instances(policy: Policy) -> dict[type, Any]:
    """One value of every type the policy offers attributes of."""
    numpy = Sandbox({}, Limits()).modules["numpy"]
    by_type = {
        str: "abc",
        type(STR): STR,
        int: 3,
        float: 1.5,
        complex: 1j,
        bool: True,
        list: [1, 2],
        tuple: (1, 2),
        dict: {"k": 1},
        set: {1},
        frozenset: frozenset({1}),
        range: range(3),
        slice: slice(1, 2),
        type({}.keys()): {"k": 1}.keys(),
        type({}.items()): {"k": 1}.items(),
        type({}.values()): {"k": 1}.values(),
        collections.Counter: collections.Counter("ab"),
        collections.OrderedDict: collections.OrderedDict(a=1),
        collections.defaultdict: collections.defaultdict(int),
        collections.deque: collections.deque([1]),
        np.ndarray: np.arange(3.0),
        type(numpy._member("add")): numpy._member("add"),
        np.random.Generator: np.random.default_rng(0),
    }
    assert set(by_type) == set(ATTRIBUTES), "a type was added to ATTRIBUTES: give it a value here"
    return by_type


def offered(sandbox: Sandbox) -> Iterator[tuple[str, Callable[..., Any], Any]]:
    """Every callable a program reaches: (name, callable, an instance its unbound methods take)."""
    policy = sandbox.policy
    builtins = {n: v for n, v in sandbox.namespace["__builtins__"].items() if not n.startswith("_")}
    yield from ((f"builtins.{n}", v, None) for n, v in builtins.items() if callable(v))
    classes = {v for v in builtins.values() if isinstance(v, (type, ClassView))}
    modules = list(sandbox.modules.values())
    while modules:
        module = modules.pop()
        for name in module._names():
            member = module._member(name)
            if isinstance(member, SafeModule):
                modules.append(member)
            elif callable(member):
                yield f"{module._name}.{name}", member, None
                if isinstance(member, (type, ClassView)):
                    classes.add(member)
    values = {**instances(policy), np.float64: np.float64(1.5), np.int64: np.int64(3), np.bool_: np.True_}
    for value in [*values.values(), *classes]:
        # methods read from a class take an instance first
        owner = "abc" if value is STR else values.get(value) if isinstance(value, type) else None
        for name in dir(value):
            if policy.allows_attribute(value, name):
                member = policy.getattr(value, name)
                if callable(member):
                    yield f"{getattr(value, '__name__', type(value).__name__)}.{name}", member, owner


def leaks(result: Any, depth: int = 0) -> str | None:
    """What in ``result`` carries raw memory of the probe arrays, or is bytes (None: nothing)."""
    if isinstance(result, BYTES_LIKE):
        return f"bytes: {result!r:.80}"
    if isinstance(result, str):
        if any(chunk.decode("latin-1") in result for chunk in POINTERS + BITS):
            return f"raw memory as text: {result!r:.80}"
    elif isinstance(result, (int, np.integer)) and not isinstance(result, (bool, np.bool_)):
        value = int(result)
        size = max(8, (value.bit_length() + 8) // 8)
        if -(2**4096) < value < 2**4096:
            encoded = [value.to_bytes(size, order, signed=True) for order in ("little", "big")]
            if any(chunk in text or chunk[::-1] in text for chunk in POINTERS + BITS for text in encoded):
                return f"raw memory as an integer: {value:#x}"
    elif isinstance(result, (float, np.floating)):
        if struct.pack("<d", float(result)) in POINTERS:
            return f"a pointer as a float: {result!r}"
    elif isinstance(result, np.ndarray) and result.dtype.kind != "O":
        if any(chunk in result.tobytes() for chunk in POINTERS):
            return "a pointer in an array's data"
    elif isinstance(result, (tuple, list)) and depth < 3:
        return next((found for item in result if (found := leaks(item, depth + 1))), None)
    elif isinstance(result, dict) and depth < 3:
        return next((found for item in result.items() if (found := leaks(item, depth + 1))), None)
    return None


def call(function: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    try:
        return function(*args)
    except Exception:
        return None


def argument_lists(owner: Any) -> Iterator[tuple[Any, ...]]:
    """The arrays in every position next to the companions, then the plain values."""
    for make in (object_array, float_array):
        for companions in COMPANIONS:
            for position in range(len(companions) + 1):
                args = [*companions[:position], make(), *companions[position:]]
                yield tuple(args)
                if owner is not None:
                    yield (owner, *args)
        yield (make(), make())
        yield ([make()],)
    for args in PLAIN_ARGUMENTS:
        yield args
        if owner is not None:
            yield (owner, *args)


SKIPPED = {
    # an int too big for int64 to the power of itself: a result of 10**31 digits
    ("builtins.pow", 2),
}


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox({}, Limits(time_limit_s=60.0))


def test_the_probe_sees_raw_memory_where_python_reads_it() -> None:
    # what the probe looks for, through the readers the sandbox withholds
    assert leaks(bytes(object_array())) and leaks(str(object_array(), "latin-1"))
    assert leaks(int.from_bytes(object_array(), "little")) and leaks(int.from_bytes(float_array(), "big"))
    assert leaks([np.frombuffer(object_array(), np.int64)]) and leaks(str(float_array(), "latin-1"))
    assert not leaks((repr(object_array()), object_array().tolist(), float_array(), 1.5, "latin-1"))


def test_no_callable_the_sandbox_offers_reads_an_array_or_makes_bytes(sandbox: Sandbox) -> None:
    found: list[str] = []
    names: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, function, owner in offered(sandbox):
            names.add(name)
            for args in argument_lists(owner):
                if (name, sum(isinstance(a, np.ndarray) for a in args)) in SKIPPED:
                    continue
                leak = leaks(call(function, args))
                if leak:
                    found.append(f"{name}{tuple(type(a).__name__ for a in args)}: {leak}")
    assert found == []
    # the enumeration reaches what it should: builtins, modules, numpy, methods, class attributes
    expected = {"builtins.str", "builtins.int", "math.fsum", "json.loads", "numpy.array", "numpy.linalg.norm"}
    expected |= {"str.join", "int.bit_length", "dict.fromkeys", "ndarray.astype", "Generator.choice", "float64.item"}
    assert expected <= names and len(names) > 500


OPERATORS = [
    operator.add,
    operator.sub,
    operator.mul,
    operator.truediv,
    operator.floordiv,
    operator.mod,
    operator.matmul,
    operator.and_,
    operator.or_,
    operator.xor,
    operator.rshift,
    operator.eq,
    operator.lt,
    operator.contains,
    operator.getitem,
]  # not ** or <<: an object array's huge element to a huge power


def test_no_operator_on_an_offered_value_reads_an_array(sandbox: Sandbox) -> None:
    values = [*instances(sandbox.policy).values(), np.float64(1.5), np.int64(3), "%s%s", "%b"]
    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for value, op, make in itertools.product(values, OPERATORS, (object_array, float_array)):
            for args in ((value, make()), (make(), value)):
                leak = leaks(call(op, args))
                if leak:
                    found.append(f"{op.__name__}{tuple(type(a).__name__ for a in args)}: {leak}")
    assert found == []
