"""The sandbox at its own level, in process and fast: the compiler's rewrites, the policy's fast
path against its slow path, the import hook, the output cap, numpy's checks, the copies made
at the skill boundary, help() and dir(), the learned-skill rule and the sandbox's end.

In the style of RestrictedPython's own tests: compile a snippet, run it with the hooks it
needs, and look at what the hooks saw.
"""

from __future__ import annotations

import collections
import contextlib
import re
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from codeact_robot.sandbox import arrays, compiler
from codeact_robot.sandbox.arrays import Checked, Positions, SafeUfunc, checked_dtype, checked_result, view_of
from codeact_robot.sandbox.classes import STR, ClassView, SelfCheckedMethod, StrView
from codeact_robot.sandbox.compiler import CHECK_SELF, DISPLAY, SELF_TYPES, TYPE, CompileError, compile_action
from codeact_robot.sandbox.executor import Sandbox
from codeact_robot.sandbox.output import KEEP_FACTOR, CappedOutput, Printer, plain_text
from codeact_robot.sandbox.policy import ATTRIBUTES, MAX_CACHED_NAME, MAX_CACHED_VERDICTS, MUTABLE, Policy
from codeact_robot.sandbox.refusals import Refusal, RefusedAttribute, RefusedImport, RefusedOperation
from codeact_robot.sandbox.safemodule import SafeModule
from codeact_robot.sandbox.skill_rule import MAX_SKILL_CHARS, SkillRejected, check_skill_source
from codeact_robot.sandbox.values import MAX_DEPTH, from_skill, to_skill
from codeact_robot.worker.config import Limits

# --- helpers ---------------------------------------------------------------------------------


def run_compiled(source: str, **hooks: Any) -> dict[str, Any]:
    """Compile under the sandbox's rules and run with plain builtins and the given hooks."""
    namespace = {
        "__builtins__": __builtins__,
        "__metaclass__": type,
        "__name__": "__sandbox__",
        "_getattr_": getattr,
        "_getitem_": lambda obj, index: obj[index],
        "_getiter_": iter,
        "_write_": lambda obj: obj,
        **hooks,
    }
    exec(compile_action(source, "<test>").code, namespace)
    return namespace


def make_sandbox(skills: dict[str, Callable[..., Any]] | None = None, **limits: Any) -> Sandbox:
    return Sandbox(skills or {}, Limits(**{"time_limit_s": 5.0, **limits}))


def point(x: float = 1.0) -> Any:
    return np.array([x, 2.0, 3.0])


# --- the compiler's rewrites -----------------------------------------------------------------


class Stop(BaseException):
    """Stands in for the exception a limit raises: not an Exception."""


def test_a_bare_except_catches_exceptions_but_not_what_stops_the_program() -> None:
    def raise_(kind: type[BaseException]) -> None:
        raise kind("x")

    caught = run_compiled("try:\n    fail(ValueError)\nexcept:\n    caught = True", fail=raise_)
    assert caught["caught"] is True
    with pytest.raises(Stop):
        run_compiled("try:\n    fail(Stop)\nexcept:\n    pass", fail=raise_, Stop=Stop)


def test_a_final_expression_is_displayed_and_nothing_else() -> None:
    shown: list[Any] = []
    run_compiled("x = 2\nx * 21", **{DISPLAY: shown.append})
    assert shown == [42]
    run_compiled("x = 2\nif x:\n    x * 3\ny = x", **{DISPLAY: shown.append})
    assert shown == [42]


def test_in_place_operators_on_names_need_no_hook() -> None:
    namespace = run_compiled("n = 1\nn += 41\ns = 'a'\ns *= 3")
    assert namespace["n"] == 42 and namespace["s"] == "aaa"
    with pytest.raises(CompileError, match="Augmented assignment of object items"):
        compile_action("a[0] += 1", "<test>")


def method_hooks(reads: list[tuple[Any, str]], checked: list[Any]) -> dict[str, Any]:
    def read(obj: Any, name: str) -> Any:
        reads.append((type(obj).__name__, name))
        return getattr(obj, name)

    def check(obj: Any) -> None:
        checked.append(type(obj).__name__)
        types_seen.add(type(obj))

    types_seen: set[type] = set()
    return {"_getattr_": read, CHECK_SELF: check, SELF_TYPES: types_seen, TYPE: type}


def test_self_attributes_are_read_natively_after_one_check_per_type() -> None:
    reads: list[tuple[Any, str]] = []
    checked: list[Any] = []
    source = """
class P:
    def __init__(self, x, other):
        self.x = x
        self.other = other
    def total(self):
        return self.x + self.other.x
a = P(1, P(2, None))
t = a.total() + a.total()
"""
    namespace = run_compiled(source, **method_hooks(reads, checked))
    assert namespace["t"] == 6
    assert checked == ["P"]  # once: the type is remembered
    assert ("P", "x") in reads  # self.other.x: the guard reads x of another object
    assert reads.count(("P", "total")) == 2 and ("P", "other") not in reads


@pytest.mark.parametrize(
    "method",
    [
        "def get(self):\n        self = self.other\n        return self.x",
        "@staticmethod\n    def get(self):\n        return self.x",
        "def get(self):\n        return [self.x for self in [self.other]][0]",
        "def get(self):\n        def inner(self):\n            return self.x\n        return inner(self.other)",
    ],
    ids=["rebound", "decorated", "comprehension", "nested-def"],
)
def test_a_self_that_may_be_another_object_is_read_through_the_guard(method: str) -> None:
    reads: list[tuple[Any, str]] = []
    source = f"class P:\n    x = 1\n    other = None\n    {method}\np = P()\np.other = P()\nv = P.get(p)"
    run_compiled(source, **method_hooks(reads, []))
    assert ("P", "x") in reads


def test_every_top_level_function_is_kept_with_its_source() -> None:
    compiled = compile_action("def a():\n    '''doc'''\n    return 1\nx = 1\ndef b(y=2):\n    return y", "<t>")
    assert compiled.functions == {"a": "def a():\n    '''doc'''\n    return 1", "b": "def b(y=2):\n    return y"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = '\ud800'", "not valid Unicode (a lone surrogate) at line 1"),
        ("x = 1\ny = 'a\udfffb'", "not valid Unicode (a lone surrogate) at line 2"),
        ("x = " + "+".join(["1"] * 50_000), "nested too deeply to compile"),
        ("x = " + "-" * 50_000 + "1", "nested too deeply to compile"),
        ("x = a" + ".b" * 50_000, "nested too deeply to compile"),
        ("x = " + "(" * 300 + ")" * 300, "too many nested parentheses"),
        ("x = 1\x00", "cannot contain null bytes"),
        ("def f(:\n    pass", "invalid syntax at line 1"),
    ],
    ids=[
        "surrogate",
        "surrogate-line-2",
        "deep-sum",
        "deep-negation",
        "deep-attribute",
        "parentheses",
        "nul",
        "syntax",
    ],
)
def test_every_compile_failure_is_a_compile_error(source: str, message: str) -> None:
    with pytest.raises(CompileError) as error:
        compile_action(source, "<t>")
    assert error.value.messages[0].startswith("SyntaxError: ")
    assert message in error.value.messages[0]


def test_rule_violations_are_sandbox_errors() -> None:
    with pytest.raises(CompileError) as error:
        compile_action("x.__class__\nimport os as _os", "<t>")
    assert [m.split(":")[0] for m in error.value.messages] == ["SandboxError", "SandboxError"]


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("x = b'a'", 1),
        ("x = rb'\\x00'", 1),
        ('def f():\n    b"""doc"""', 2),
        ("x = [1, (b'',)]", 1),
        ("y = 1\nx = 'a' if y else b'b'", 2),
    ],
)
def test_bytes_literals_are_refused_where_they_stand(source: str, line: int) -> None:
    with pytest.raises(CompileError) as error:
        compile_action(source, "<t>")
    assert error.value.messages == [
        f"SandboxError: Line {line}: bytes literals are not available in the sandbox; use str"
    ]


def test_whatever_else_the_compiler_raises_is_a_compile_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> Any:
        raise ModuleNotFoundError("No module named 'unicodedata'")

    monkeypatch.setattr(compiler, "_compile", fail)
    with pytest.raises(CompileError) as error:
        compile_action("x = 1", "<t>")
    assert error.value.messages == ["SyntaxError: the program could not be compiled (ModuleNotFoundError)"]


def test_what_the_parser_imports_late_is_loaded_with_the_compiler() -> None:
    # a confined worker cannot import it when a program first has a non-ASCII name
    assert compiler.unicodedata is sys.modules["unicodedata"]
    namespace = run_compiled("θ = 2\nclass Ü:\n    ä = θ\nx = Ü.ä * θ, '\\N{DEGREE SIGN}'")
    assert namespace["x"] == (4, "\u00b0")


# --- the policy: fast path and slow path agree -------------------------------------------------


def samples(policy: Policy) -> list[Any]:
    """One instance of every type the policy offers attributes of, and of the open-ended kinds."""
    Program = policy.make_class((object, Exception))("Program", (object,), {"value": 1, "__module__": "__sandbox__"})
    instance = Program()
    instance.extra = 2
    numpy = Sandbox({}, Limits()).modules["numpy"]
    by_type = {
        str: "a",
        StrView: STR,
        int: 1,
        float: 1.5,
        complex: 1j,
        bool: True,
        list: [1],
        tuple: (1,),
        dict: {"k": 1},
        set: {1},
        frozenset: frozenset({1}),
        range: range(3),
        slice: slice(1, 2),
        type({}.keys()): {}.keys(),
        type({}.items()): {}.items(),
        type({}.values()): {}.values(),
        collections.Counter: collections.Counter("ab"),
        collections.OrderedDict: collections.OrderedDict(a=1),
        collections.defaultdict: collections.defaultdict(int),
        collections.deque: collections.deque([1]),
        np.ndarray: point(),
        SafeUfunc: numpy._member("add"),
        np.random.Generator: np.random.default_rng(0),
    }
    assert set(by_type) == set(ATTRIBUTES), "a type was added to ATTRIBUTES: give it a sample here"
    return [
        *by_type.values(),
        np.float64(1.5),
        np.int64(2),
        np.bool_(True),
        point().dtype,
        np.zeros(1, np.int32).dtype,
        instance,
        ValueError("x"),
        numpy,
        print,
        Program,
    ]


def outcome(read: Callable[[], Any]) -> tuple[str, Any]:
    try:
        value = read()
    except Exception as error:
        return "raises", type(error)
    if isinstance(value, Checked):
        return "checked", (value._function.__self__ is not None, value._name)
    return "value", type(value)


def test_the_fast_path_agrees_with_the_slow_path_for_every_allowlisted_type() -> None:
    policy = Policy()
    guard = policy.attribute_guard()
    compared = 0
    for obj in samples(policy):
        for name in sorted(n for n in dir(obj) if not n.startswith("_")):
            slow = outcome(lambda obj=obj, name=name: policy.getattr(obj, name))
            first = outcome(lambda obj=obj, name=name: guard(obj, name))
            cached = outcome(lambda obj=obj, name=name: guard(obj, name))  # the verdict is remembered now
            assert slow == first == cached, (type(obj).__name__, name, slow, first, cached)
            assert (slow[0] != "raises") == policy.allows_attribute(obj, name) or slow[1] is AttributeError
            compared += 1
    assert compared > 500


def test_checked_methods_never_take_the_fast_path() -> None:
    policy = Policy()
    guard = policy.attribute_guard()
    a = point()
    for _ in range(3):
        assert isinstance(guard(a, "astype"), Checked)
        assert not isinstance(guard(a, "reshape"), Checked)
    assert "astype" not in policy._allowed[np.ndarray] and "reshape" in policy._allowed[np.ndarray]


def test_denied_attributes_are_refusals_with_the_reason() -> None:
    policy = Policy()
    with pytest.raises(RefusedAttribute, match="'ndarray' object has no attribute 'view' available"):
        policy.getattr(point(), "view")
    with pytest.raises(RefusedAttribute, match="str.format is not available in the sandbox"):
        policy.getattr("", "format")
    with pytest.raises(RefusedAttribute, match='"_x" is an invalid attribute name'):
        policy.getattr(1, "_x")
    with pytest.raises(RefusedAttribute, match="'AttributeError' object has no attribute 'with_traceback'"):
        policy.getattr(RefusedAttribute("x"), "with_traceback")  # host exceptions show their builtin name
    assert policy.getattr(point(), "view", "fallback") == "fallback"


def test_the_verdict_caches_stay_bounded() -> None:
    policy = Policy()
    Program = policy.make_class((object,))("Program", (object,), {"__module__": "__sandbox__"})
    instance = Program()
    for i in range(MAX_CACHED_VERDICTS + 500):
        assert policy.getattr(instance, f"n{i}", None) is None
        assert policy.getattr(instance, "x" * (MAX_CACHED_NAME + 1) + str(i), None) is None
        assert policy.getattr(Program, f"c{i}", None) is None
    assert len(policy._verdicts) == MAX_CACHED_VERDICTS
    assert len(policy._class_verdicts) == MAX_CACHED_VERDICTS
    assert all(len(name) <= MAX_CACHED_NAME for _, name in policy._verdicts)
    assert sum(len(names) for names in policy._allowed.values()) <= MAX_CACHED_VERDICTS


def test_exceptions_carry_plain_values_and_program_objects_only() -> None:
    policy = Policy()
    Program = policy.make_class((object,))("Program", (object,), {"__module__": "__sandbox__"})
    mine, inner = Program(), KeyError("k")
    error = ValueError(None, 1, "s", (2.5, [np.float64(1)]), point(), point().dtype, inner, mine, Program)
    assert policy.getattr(error, "args") == error.args  # nothing here is a host object
    hostile = ValueError(np.add, [print, {"k": 1}], np.zeros(1, "V8"), np.ndarray, b"\x00", np.array([b"a"]))
    carried = policy.attribute_guard()(hostile, "args")
    assert carried == (
        "<ufunc 'add'>",
        ["<built-in function print>", "{'k': 1}"],
        repr(np.zeros(1, "V8")),
        repr(np.ndarray),
        "b'\\x00'",  # the sandbox has no bytes
        "array([b'a'], dtype='|S1')",
    )
    assert "args" not in policy._allowed.get(ValueError, set())  # filtered on every read


def test_type_hands_out_only_classes_a_program_could_name() -> None:
    policy = Policy()
    Program = policy.make_class((object,))("Program", (object,), {"__module__": "__sandbox__"})
    named = [(1, int), ("a", STR), ([], list), (None, type(None)), (Program(), Program), (KeyError(), KeyError)]
    for value, cls in named:
        assert policy.type_of(value) is cls
    for value in [point(), np.float64(1), point().dtype, print, policy, RefusedOperation("x"), (x for x in []), STR]:
        view = policy.type_of(value)
        assert isinstance(view, ClassView) and view is policy.type_of(value)
        assert repr(view) == repr(type(value))
    assert policy.type_of(np.float64(2)) is view_of(np.float64)


def test_writes_reach_only_what_the_program_owns() -> None:
    policy = Policy()
    assert policy.write([1]) == [1]
    a = point()
    policy.write(a)[0] = 5.0
    assert a[0] == 5.0
    with pytest.raises(RefusedOperation, match="cannot set attribute 'strides'"):
        policy.write(a).strides = (0,)
    with pytest.raises(RefusedOperation, match="cannot modify an array of dtype object"):
        policy.write(np.zeros(2, int) + [10**30, 1])
    for host in (np.float64(1), print, "text", view_of(np.ndarray)):
        with pytest.raises(RefusedOperation, match="cannot modify"):
            policy.write(host)


def test_class_statements_take_only_allowed_bases() -> None:
    policy = Policy()
    build = policy.make_class((object, Exception))
    Base = build("Base", (object,), {})
    assert policy.is_sandbox_class(build("Child", (Base,), {}))
    for base in (dict, np.ndarray, view_of(np.ndarray)):
        with pytest.raises(RefusedOperation, match="cannot derive from"):
            build("Bad", (base,), {})


def test_nothing_that_reads_or_makes_bytes_is_offered() -> None:
    policy = Policy()
    assert bytes not in ATTRIBUTES and bytearray not in MUTABLE
    for obj, name, message in [
        ("a", "encode", "str.encode is not available in the sandbox: there are no bytes in it"),
        (STR, "encode", "str.encode is not available"),
        (5, "from_bytes", "int.from_bytes is not available"),
        (int, "from_bytes", "int.from_bytes is not available"),
        (True, "to_bytes", "bool.to_bytes is not available"),
        (bool, "from_bytes", "bool.from_bytes is not available"),
    ]:
        assert not policy.allows_attribute(obj, name)
        with pytest.raises(RefusedAttribute, match=re.escape(message)):
            policy.getattr(obj, name)
    builtins = make_sandbox().namespace["__builtins__"]
    assert not {"bytes", "bytearray", "memoryview"} & set(builtins) and builtins["str"] is STR


def test_str_is_a_view_that_converts_one_value_and_decodes_nothing() -> None:
    policy = Policy()
    assert policy.type_of("text") is STR and isinstance("text", STR) and not isinstance(b"", STR)
    assert not issubclass(int, STR) and repr(STR) == "<class 'str'>"
    assert STR(3.5) == "3.5" and STR() == "" and STR(object=[1]) == "[1]" and type(STR(1)) is str
    assert policy.getattr(STR, "join")("-", ["a", "b"]) == "a-b"
    assert policy.getattr(STR, "lower")("AB") == "ab" and "upper" in dir(STR)
    refused = [((np.zeros(2), "latin-1"), {}), ((np.zeros(2),), {"errors": "strict"}), ((), {"encoding": "x"})]
    for args, kwargs in refused:
        with pytest.raises(RefusedOperation, match=r"str\(\) takes one value in the sandbox"):
            STR(*args, **kwargs)
    assert np.array(["ab", "c"], dtype=STR).dtype == np.dtype("U2") and np.zeros(1).astype(STR)[0] == "0.0"
    with pytest.raises(RefusedOperation, match="cannot modify"):
        policy.write(STR)
    with pytest.raises(RefusedOperation, match="class S cannot derive from str"):
        policy.make_class((object,))("S", (STR,), {})
    with pytest.raises(AttributeError):
        STR.__mro_entries__  # noqa: B018  (only public names pass through to str)


# --- no offered callable takes a foreign self ------------------------------------------------

SAMPLES = """
from collections import Counter, OrderedDict, defaultdict, deque
samples = [Counter("ab"), OrderedDict(a=1), defaultdict(int), deque([1]), np.zeros(2), np.float64(1.5),
           np.int64(2), np.zeros(1).dtype, np.random.default_rng(0), "a", 1, 1.5, 1j, True, None, [1], (1,), {1: 2},
           {1}, frozenset(), range(2), slice(1), {1: 2}.keys(), {1: 2}.values(), {1: 2}.items(), ValueError("x")]
"""


def takes_any_self(value: Any) -> bool:
    """Whether ``value`` is a function written in a class body: called unbound, it takes any ``self``."""
    if type(value) is not types.FunctionType:
        return False
    owner = value.__qualname__.rpartition(".")[0]
    return bool(owner) and not owner.endswith("<locals>")


def reachable(sandbox: Sandbox) -> dict[str, Any]:
    """Everything a program can reach by name, import, attribute, ``dir()`` and ``type()``, by the path
    that reached it first: builtins, modules and their members, the program's values of every offered
    type, their attributes and classes, recursively. Classes, modules and callables are visited once
    each, other values once per type (attributes are offered by type)."""
    policy = sandbox.policy
    roots = {**sandbox.namespace["__builtins__"], **sandbox.modules, **sandbox.namespace}
    found: dict[str, Any] = {}
    seen: set[Any] = set()
    stack = [(name, value) for name, value in roots.items() if not name.startswith("_")]
    while stack:
        path, value = stack.pop()
        key = value if isinstance(value, (type, SafeModule)) or callable(value) else ("instance", type(value))
        try:
            if key in seen:
                continue
            seen.add(key)
        except TypeError:  # an unhashable callable: visited by identity
            if any(other is value for other in found.values()):
                continue
        found[path] = value
        names = value._names() if isinstance(value, SafeModule) else dir(value)
        for name in names:
            if policy.allows_attribute(value, name):
                with contextlib.suppress(AttributeError):
                    stack.append((f"{path}.{name}", policy.getattr(value, name)))
        stack.append((f"type({path})", policy.type_of(value)))
    return found


def test_no_reachable_callable_takes_a_foreign_self() -> None:
    sandbox = make_sandbox({"pick": lambda obj: obj == "red block"})
    assert sandbox.run(SAMPLES, "<samples>").error is None
    found = reachable(sandbox)
    assert len(found) > 500 and "samples" in found and "np.linalg.norm" in found
    assert [path for path, value in found.items() if takes_any_self(value)] == []
    checked = [value for value in found.values() if type(value) is SelfCheckedMethod]
    assert {"<method 'copy' of 'Counter' objects>", "<method 'update' of 'Counter' objects>"} <= set(map(repr, checked))
    for method in checked:
        with pytest.raises(RefusedOperation, match=r"takes a \w+ as its first argument \(self\), not a type object"):
            method(int)
    # what the walk looks for is there without the policy's stand-in
    assert takes_any_self(collections.Counter.copy) and not takes_any_self(dict.copy)
    assert not takes_any_self(found["help"]) and not takes_any_self(found["statistics.mean"])


def test_a_python_method_of_a_host_class_runs_only_on_that_class() -> None:
    policy = Policy()
    copy = policy.getattr(collections.Counter, "copy")
    assert type(copy) is SelfCheckedMethod and repr(copy) == "<method 'copy' of 'Counter' objects>"
    assert copy(collections.Counter("aab")) == collections.Counter(a=2, b=1)
    assert policy.getattr(collections.Counter, "most_common")(collections.Counter("aab"), 1) == [("a", 2)]
    for foreign, name in [(int, "type"), (np.zeros(1), "ndarray"), ({}, "dict"), (policy, "Policy")]:
        with pytest.raises(RefusedOperation, match=rf"Counter.copy\(\) takes a Counter .* not a {name} object"):
            copy(foreign)
    with pytest.raises(RefusedOperation, match="not nothing"):
        copy()
    # C methods check self themselves and pass as they are; a program class's own methods check it when called
    assert policy.getattr(collections.Counter, "keys") is collections.Counter.keys
    cls = policy.make_class((object,))("A", (object,), {"m": lambda self: 1})
    assert policy.getattr(cls, "m") is cls.__dict__["m"]


def test_statistics_takes_plain_numbers_only(sandbox: Sandbox) -> None:
    statistics = sandbox.modules["statistics"]
    assert statistics.mean([1, 2, 3]) == 2 and statistics.mean(np.array([1.0, 2.0])) == 1.5
    assert statistics.stdev([1, 2, 3], 2) == 1.0 and statistics.mode("aab") == "a"

    class Ratio:
        def as_integer_ratio(self) -> tuple[int, int]:
            return (1, 1)

    with pytest.raises(RefusedOperation, match=r"statistics.mean\(\) takes numbers .*, not Ratio"):
        statistics.mean([Ratio()])
    with pytest.raises(RefusedOperation, match=r"statistics.variance\(\) takes numbers .*, not Ratio"):
        statistics.variance([1.0, 2.0], Ratio())


# --- the import hook -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return make_sandbox({"pick": lambda obj: obj == "red block", "echo": lambda value: value})


def test_imports_resolve_to_proxies(sandbox: Sandbox) -> None:
    importer = sandbox._import
    assert importer("math") is sandbox.modules["math"]
    assert importer("numpy.linalg") is sandbox.modules["numpy"]  # "import a.b" binds a
    members = importer("numpy.linalg", None, None, ("norm",))
    assert members.norm is sandbox.modules["numpy"]._member("linalg")._member("norm")
    assert importer("numpy", None, None, ("linalg",)).linalg is sandbox.modules["numpy"]._member("linalg")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("os",), "module 'os' is not available; available modules: collections, functools"),
        (("numpy.ctypeslib",), "module 'numpy.ctypeslib' is not available"),
        (("numpy.pi",), "module 'numpy.pi' is not available"),
        (("numpy", None, None, ("ctypeslib", "pi")), "cannot import ctypeslib from 'numpy'"),
        (("x", None, None, ("y",), 1), "relative imports are not available"),
    ],
    ids=["module", "submodule", "member-as-module", "from-import", "relative"],
)
def test_the_import_hook_refuses(sandbox: Sandbox, args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(RefusedImport, match=message):
        sandbox._import(*args)


def test_host_imports_through_the_hook_return_nothing(sandbox: Sandbox) -> None:
    # CPython's PyImport_Import (numpy importing a submodule lazily) passes fromlist as a list.
    assert sandbox._import("json.decoder", None, None, [], 0) is None


# --- output ----------------------------------------------------------------------------------


def test_output_is_kept_up_to_the_cap_and_counted_beyond() -> None:
    output = CappedOutput(10)
    for _ in range(100):
        output.write("0123456789")
    assert output.total == 1000 and len(output.text) == 10 * KEEP_FACTOR
    assert output.shown() == ("0123456789", 990)
    small = CappedOutput(10)
    small.write("abc")
    assert small.shown() == ("abc", 0)


def test_print_writes_to_the_sink_and_nowhere_else() -> None:
    output = CappedOutput(100)
    printer = Printer(output)
    printer._call_print(1, "a", sep="-", end="!")
    printer._call_print(None, sep=None, end=None)
    assert printer() == "1-a!None\n"
    with pytest.raises(TypeError, match="print\\(file=...\\) is not available"):
        printer._call_print("x", file=output)
    with pytest.raises(TypeError, match="sep and end must be strings"):
        printer._call_print("x", sep=1)


def test_lone_surrogates_become_replacement_characters() -> None:
    assert plain_text("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert plain_text("\U0001f600 ok") == "\U0001f600 ok"
    sandbox = make_sandbox()
    result = sandbox.run("print('x\\ud800y')\nraise ValueError('\\udfff')", "<action 1>")
    assert result.stdout == "x\ufffdy\n"
    assert result.error.endswith("ValueError: \ufffd")
    result.stdout.encode("utf-8")
    result.error.encode("utf-8")


# --- numpy's checks --------------------------------------------------------------------------


def test_dtype_positions_come_from_each_signature() -> None:
    assert Positions.of(np.zeros) == Positions(dtype=1, out=None)
    assert Positions.of(np.sum) == Positions(dtype=2, out=3)
    assert Positions.of(np.add) == Positions(dtype=None, out=2)
    assert Positions.of(np.add.reduce) == Positions(dtype=2, out=3)
    assert Positions.of(point().astype) == Positions(dtype=0, out=None)
    assert Positions.of(object()) == Positions()


@pytest.mark.parametrize("spec", [object, "O", "object", "V8", "i4,O", "(2,)O", [("a", "O")], "M8", "m8", "T", dict])
def test_unsafe_dtypes_are_refused(spec: Any) -> None:
    with pytest.raises(RefusedOperation, match="is not available in the sandbox"):
        checked_dtype("f", spec)


@pytest.mark.parametrize("spec", [float, int, bool, complex, str, STR, "f4", "int64", "U3", "=f8", "e", np.uint8])
def test_safe_dtypes_come_back_as_dtypes(spec: Any) -> None:
    assert checked_dtype("f", spec) == np.dtype(str if spec is STR else spec)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("S2", "a dtype of bytes (|S2)"),
        (bytes, "a dtype of bytes (|S0)"),
        ("g", "a dtype of extended precision (float128)"),
        (np.clongdouble, "a dtype of extended precision (complex256)"),
        (">f8", "a dtype of non-native byte order (>f8)"),
        (">U3", "a dtype of non-native byte order (>U3)"),
        ("O", "a dtype of Python objects (object)"),
        ("i4,O", "a dtype of raw or structured records"),
        ("T", "a dtype of dtype kind 'T'"),
    ],
)
def test_dtypes_other_than_the_plain_ones_are_refused(spec: Any, reason: str) -> None:
    with pytest.raises(RefusedOperation, match=rf"f\(\): {re.escape(reason)}"):
        checked_dtype("f", spec)


def test_what_is_no_dtype_is_left_for_numpy_to_refuse() -> None:
    assert checked_dtype("f", None) is None
    assert checked_dtype("f", "red block") == "red block"
    view = view_of(np.ndarray)
    assert checked_dtype("f", view) is view


def test_the_dtype_numpy_receives_is_the_one_checked() -> None:
    class Shifty:
        """Says float64 when checked, object when numpy asks again."""

        def __init__(self) -> None:
            self.reads = 0

        @property
        def dtype(self) -> Any:
            self.reads += 1
            return np.dtype("f8") if self.reads == 1 else np.dtype("O")

    zeros = Checked(np.zeros, "zeros")
    assert zeros(2, Shifty()).dtype == np.float64
    assert zeros(2, dtype=Shifty()).dtype == np.float64


def test_results_are_checked_inside_tuples_lists_and_named_tuples() -> None:
    assert checked_result("f", (point(), [point()])) is not None
    svd = checked_result("svd", np.linalg.svd(np.eye(2)))
    assert type(svd) is tuple and len(svd) == 3
    masked = checked_result("f", [np.ma.masked_array(np.eye(2))])
    assert type(masked[0]) is np.ndarray
    for bad in ([np.array([None])], (point(), np.zeros(1, "V8")), np.zeros(1, "i4,f4")[0]):
        with pytest.raises(RefusedOperation):
            checked_result("f", bad)


def test_a_checked_call_refuses_before_numpy_runs() -> None:
    calls = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return point()

    spy_checked = Checked(spy, "spy", Positions(dtype=1, out=2))
    for args, kwargs in [
        ((1, object), {}),
        ((1, None, [0]), {}),
        ((1,), {"buffer": b"x"}),
        ((1,), {"offset": 8}),
        ((1,), {"strides": (0,)}),
        ((1,), {"like": point()}),
        ((np.zeros(2, int) + [10**30, 1],), {}),
    ]:
        with pytest.raises(RefusedOperation):
            spy_checked(*args, **kwargs)
    assert calls == []
    assert spy_checked(1, "f4", point()) is not None and calls[0][1] == np.dtype("f4")


def test_ufuncs_check_every_way_in() -> None:
    add = SafeUfunc(np.add)
    assert add(1, 2) == 3 and add.nin == 2 and add.nout == 1
    assert add.reduce([1, 2, 3]) == 6 and list(add.accumulate([1, 2])) == [1, 3]
    assert add.outer([1], [2]).tolist() == [[3]]
    for call in (
        lambda: add([1], [2], dtype=object),
        lambda: add.reduce([1], 0, object),
        lambda: add.accumulate([1], dtype="O"),
        lambda: add.outer([1], [2], dtype=object),
        lambda: add([1], [2], signature="ll->O"),
        lambda: add([1], [2], [0]),
    ):
        with pytest.raises(RefusedOperation):
            call()


def test_where_needs_out_where_it_would_leave_elements_unwritten() -> None:
    add, a, mask = SafeUfunc(np.add), np.arange(4.0), np.array([True, False, True, False])
    clip = Checked(np.clip, "clip", elementwise=True)
    for call in (
        lambda: add(a, 1, where=mask),
        lambda: add(a, 1, out=None, where=mask),
        lambda: add(a, 1, out=(None,), where=mask),
        lambda: add(a, 1, np.zeros(4), where=mask),  # out= by keyword only
        lambda: add.outer(a, a, where=False),
        lambda: clip(a, 0, 1, where=mask),
        lambda: arrays.checked_method(a, "clip")(0, 1, where=mask),
    ):
        with pytest.raises(RefusedOperation, match="where= leaves the elements it masks out unwritten"):
            call()
    assert add(a, 1, out=np.full(4, -1.0), where=mask).tolist() == [1.0, -1.0, 3.0, -1.0]
    assert clip(a, 0, 1, out=np.zeros(4), where=mask).tolist() == [0.0, 0.0, 1.0, 0.0]
    summed = Checked(np.sum, "sum")  # reductions start from the identity: every element is written
    assert summed(a, where=mask) == 2.0 and arrays.checked_method(a, "sum")(where=mask) == 2.0


def test_only_numeric_scalar_types_construct() -> None:
    assert view_of(np.float32)("1.5") == 1.5 and view_of(np.bool_)(1) is np.True_
    for cls in (np.str_, np.bytes_, np.void, np.longdouble, np.object_):
        with pytest.raises(RefusedOperation, match=f"{cls.__name__} objects cannot be created in the sandbox"):
            view_of(cls)(np.arange(3), "latin-1")
    assert np.zeros(1, view_of(np.str_)).dtype.kind == "U"  # still a dtype


def test_class_views_print_compare_and_check_instances_but_build_nothing() -> None:
    ndarray, float64 = view_of(np.ndarray), view_of(np.float64)
    assert view_of(np.ndarray) is ndarray and ndarray == view_of(np.ndarray) and ndarray != float64
    assert repr(ndarray) == "<class 'numpy.ndarray'>" and hash(ndarray) == hash(np.ndarray)
    assert isinstance(point(), ndarray) and isinstance(np.float64(1), (float64, int))
    assert issubclass(float64, view_of(np.floating)) and not issubclass(float64, ndarray)
    assert point().dtype == float64 and float64(3) == 3.0 and type(float64(3)) is np.float64
    assert np.zeros(1, float64).dtype == np.float64  # numpy reads the view's dtype
    with pytest.raises(RefusedOperation, match="ndarray objects cannot be created in the sandbox"):
        ndarray((1,), object, b"\0" * 8)
    with pytest.raises(RefusedOperation):
        float64(np.zeros(2, int) + [10**30, 1])


def test_checked_methods_refuse_an_object_array_itself() -> None:
    objects = np.zeros(2, int) + [10**30, 1]  # an operator made it; it exists, so nothing may use it
    assert objects.dtype == object
    for name in ("sum", "astype", "fill", "dot"):
        with pytest.raises(RefusedOperation, match="an array of Python objects"):
            arrays.checked_method(objects, name)


# --- copies at the skill boundary ------------------------------------------------------------


def test_values_cross_into_skills_as_copies() -> None:
    a, nested = point(), {"k": [1, 2]}
    copied_a, copied_nested = to_skill(a), to_skill(nested)
    copied_a[0], copied_nested["k"][0] = 99.0, 99
    assert a[0] == 1.0 and nested == {"k": [1, 2]}
    assert to_skill(np.float64(2.5)) == 2.5 and type(to_skill(np.float64(2.5))) is float
    assert to_skill(np.zeros(2, int) + [10**30, 1]) == [10**30, 1]

    def f() -> None:
        pass

    assert to_skill(f) is f  # the program's own functions (save_skill)


def test_values_come_out_of_skills_as_fresh_plain_copies() -> None:
    kept = {"position": point(), "names": ["a"]}
    out = from_skill(kept)
    out["position"][0], out["names"][0] = 99.0, "z"
    assert kept["position"][0] == 1.0 and kept["names"] == ["a"]
    assert type(from_skill((np.int64(3),))[0]) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (object(), "a object cannot be passed to a skill"),
        (np.zeros(1, "V8"), "a ndarray cannot be passed to a skill"),
        ({1, 2}, "a set cannot be passed to a skill"),
        (print, "a builtin_function_or_method cannot be passed"),
    ],
)
def test_values_skills_cannot_take_are_refused(value: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        to_skill(value)


def test_values_nested_too_deeply_are_refused() -> None:
    value: Any = 1
    for _ in range(MAX_DEPTH + 1):
        value = [value]
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_DEPTH} levels"):
        to_skill(value)


def test_skill_calls_copy_both_ways_and_are_counted(sandbox: Sandbox) -> None:
    result = sandbox.run("a = np.array([1.0, 2.0])\nb = echo(a)\nb[0] = 5.0\nprint(a[0], pick('red block'))", "<a>")
    assert result.error is None and result.stdout == "1.0 True\n" and result.skill_calls == 2
    result = sandbox.run("pick('blue block')\npick('green block')", "<b>")
    assert result.skill_calls == 2 and result.skill_false == 2


# --- builtins: id, hash, type, dir, help -------------------------------------------------------


def test_id_and_hash_keep_their_meaning_without_revealing_addresses(sandbox: Sandbox) -> None:
    result = sandbox.run(
        "a = [1]\nb = [1]\nprint(id(a) == id(a), id(a) == id(b), hash('x') == hash('x'), hash(1) == hash(1.0))\n"
        "ids = (id(a), hash(pick))",
        "<ids>",
    )
    assert result.stdout == "True False True True\n"
    reported_id, reported_hash = sandbox.namespace["ids"]
    a, skill = sandbox.namespace["a"], sandbox.namespace["pick"]
    assert reported_id != id(a) and reported_hash != hash(skill)
    assert reported_id not in {id(a) >> k for k in range(8)} and reported_hash not in {hash(skill), id(skill) >> 4}
    assert 0 <= reported_id < 2**62
    assert make_sandbox().run("x = id(1)", "<a>").error is None


def test_dir_without_an_argument_lists_the_program_and_the_api() -> None:
    sandbox = make_sandbox({"pick": lambda obj: True})
    result = sandbox.run("total = 3\ndef helper():\n    pass\nprint(dir())", "<a>")
    assert result.stdout == "['helper', 'math', 'np', 'pick', 'total']\n"
    listed = sandbox.run("print(dir(np)[:3], dir(1.5)[:2])", "<b>").stdout
    assert listed == "['abs', 'absolute', 'add'] ['as_integer_ratio', 'conjugate']\n"


def skill_function(ctx: Any, obj: str, target: str | list[float], speed: float = 0.5) -> bool:
    """Pick an object and place it.

    Args:
        obj: what to move.
    """
    return True


def test_help_shows_signatures_and_docstrings() -> None:
    import inspect

    def bound(*args: Any, **kwargs: Any) -> bool:
        return skill_function(None, *args, **kwargs)

    bound.__name__ = "pick_and_place"
    bound.__doc__ = skill_function.__doc__
    signature = inspect.signature(skill_function)
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])  # type: ignore[attr-defined]
    sandbox = make_sandbox({"pick_and_place": bound})
    shown = sandbox.run("help(pick_and_place)", "<a>").stdout
    assert shown == (
        "pick_and_place(obj: str, target: str | list[float], speed: float = 0.5) -> bool\n"
        "    Pick an object and place it.\n\n    Args:\n        obj: what to move.\n"
    )
    program = sandbox.run(
        "def f(a, b=2, *rest, key=None):\n    '''Add.'''\nhelp(f)\nhelp('len')\nhelp(np.linalg.norm)\nhelp(np.add)",
        "<b>",
    ).stdout
    lines = program.splitlines()
    assert lines[:3] == ["f(a, b=2, *rest, key=None)", "    Add.", "len(obj, /)"]
    assert "norm(x, ord=None, axis=None, keepdims=False)" in lines
    assert any(line.startswith("add(x1, x2, /, out=None, *, where=True") for line in lines)
    assert sandbox.run("help(math)", "<c>").stdout.startswith("module math (sandboxed): ")
    assert sandbox.run("help()", "<d>").stdout.startswith("help(name) shows how to call a function")
    missing = sandbox.run("help('nothing_here')", "<e>")
    assert missing.error.endswith("NameError: help(): no name 'nothing_here' is defined; dir() lists the names")
    hooks = sandbox.run("help('_getattr_')\nhelp('__builtins__')", "<f>").stdout  # names programs cannot use
    assert hooks.startswith("'_getattr_' is a str value") and "'__builtins__' is a str value" in hooks


# --- the learned-skill rule ------------------------------------------------------------------

GOOD_SKILL = '''def stack(names, height=0.02, *, retries=(1, 2), label: str | None = None) -> bool:
    """Stack the named blocks."""
    for lower, upper in zip(names, names[1:]):
        pick_and_place(upper, lower)
    return True
'''


def test_a_skill_that_only_defines_a_function_is_accepted() -> None:
    assert check_skill_source(GOOD_SKILL, {"pick_and_place"}).name == "stack"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(x=pick_and_place('a', 'b')):\n    '''d'''", "has the default value \"pick_and_place('a', 'b')\""),
        ("def f(*, x=[i for i in range(9)]):\n    '''d'''", "defaults must be literals"),
        ("@decorate\ndef f():\n    '''d'''", "has a decorator"),
        ("def f(x: pick()):\n    '''d'''", "has the annotation 'pick()'"),
        ("def f() -> g()[0]:\n    '''d'''", "annotations may only be names"),
        ("def f():\n    return 1", "needs a docstring"),
        ("say('hi')\ndef f():\n    '''d'''", "exactly one top-level def and nothing else; found: Expr, FunctionDef"),
        ("def f():\n    '''d'''\ndef g():\n    '''d'''", "found: FunctionDef, FunctionDef"),
        ("import math\ndef f():\n    '''d'''", "found: Import, FunctionDef"),
        ("class F:\n    '''d'''", "found: ClassDef"),
        ("", "found: nothing"),
        ("def pick_and_place():\n    '''d'''", "cannot be named 'pick_and_place'"),
        ("def len():\n    '''d'''", "cannot be named 'len'"),
        ("def " + "f" * 65 + "():\n    '''d'''", "a skill's name is limited to 64 characters"),
        ("def θ_turn():\n    '''d'''", "a skill's name is limited to 64 characters"),
        ("def f():\n    '''d'''\n    return x.__class__", "does not compile in the sandbox: SandboxError: Line 3"),
        ("def f(:", "does not compile in the sandbox: SyntaxError"),
        ("async def f():\n    '''d'''", "does not compile in the sandbox"),
        ("def f():\n    '''\ud800'''", "not valid Unicode"),
        ("def f():\n    '''d'''\n" + "#" * MAX_SKILL_CHARS, "limited to 50,000 characters"),
    ],
    ids=[
        "call-default",
        "comprehension-kw-default",
        "decorator",
        "call-annotation",
        "subscript-return",
        "no-docstring",
        "statement-before",
        "two-defs",
        "import",
        "class",
        "empty",
        "shadows-skill",
        "shadows-builtin",
        "long-name",
        "non-ascii-name",
        "breaks-policy",
        "syntax",
        "async",
        "surrogate",
        "too-long",
    ],
)
def test_a_skill_that_could_run_code_when_loaded_is_rejected(source: str, message: str) -> None:
    with pytest.raises(SkillRejected) as rejected:
        check_skill_source(source, {"pick_and_place", "len"})
    assert message in str(rejected.value)


# --- errors and where they came from -----------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "origin", "last_line"),
    [
        ("x = (", "syntax", "SyntaxError: '(' was never closed at line 1: x = ("),
        ("x.__class__", "sandbox", 'SandboxError: Line 1: "__class__" is an invalid attribute name'),
        ("import os", "sandbox", "ImportError: module 'os' is not available"),
        ("np.zeros(2).view", "sandbox", "AttributeError: 'ndarray' object has no attribute 'view'"),
        ("open('f')", "sandbox", "NameError: name 'open' is not defined"),
        ("np.zeros(2, object)", "sandbox", "TypeError: zeros(): a dtype of Python objects"),
        ("undefined_name", "program", "NameError: name 'undefined_name' is not defined"),
        ("1 / 0", "program", "ZeroDivisionError: division by zero"),
        ("pick(1, 2)", "skill", "takes 1 positional argument but 2 were given"),
        ("raise ValueError(10**5000)", "program", "ValueError: <the message could not be shown: ValueError>"),
        ("l = []\ne = ValueError(l)\nl.append(e)\nraise e", "program", "ValueError: [ValueError([...])]"),
        (
            "e = KeyError()\nfor i in range(10**5):\n    e = KeyError(e)\nraise e",
            "program",
            "could not be shown: RecursionError>",
        ),
    ],
)
def test_errors_say_where_they_came_from(sandbox: Sandbox, source: str, origin: str, last_line: str) -> None:
    result = sandbox.run(source, "<action 1>")
    assert result.origin == origin, result.error
    assert last_line in result.error.splitlines()[-1] or result.error.startswith(last_line), result.error


def test_refusals_are_the_builtin_exceptions_programs_catch() -> None:
    assert issubclass(RefusedAttribute, AttributeError) and issubclass(RefusedImport, ImportError)
    assert issubclass(RefusedOperation, TypeError) and all(
        issubclass(k, Refusal) for k in (RefusedAttribute, RefusedImport, RefusedOperation)
    )
    result = make_sandbox().run("try:\n    np.zeros(1).view\nexcept AttributeError as e:\n    print('caught')", "<a>")
    assert result.stdout == "caught\n" and result.error is None


# --- the end of a sandbox --------------------------------------------------------------------


def test_closing_stops_skills_and_runs_finalizers_within_the_time_limit() -> None:
    calls: list[str] = []
    sandbox = make_sandbox({"act": lambda: calls.append("acted")}, time_limit_s=0.5)
    program = """
def polite():
    try:
        yield 1
    finally:
        act()
def stubborn():
    try:
        yield 1
    finally:
        while True:
            pass
class Holder:
    pass
h = Holder()
h.me = h
h.a = polite()
h.b = stubborn()
next(h.a)
next(h.b)
"""
    assert sandbox.run(program, "<a>").error is None
    sandbox.close()  # returns: the stubborn finally was stopped at the time limit
    assert calls == []  # the polite finally ran, and its skill call was refused
    assert sandbox.namespace == {} and sandbox.functions == {}
    assert not sandbox.policy._instance_types and not sandbox.policy._verdicts
    with pytest.raises(RuntimeError, match=r"act\(\) was called after its episode ended"):
        sandbox._copying("act", lambda: None)()


def test_a_module_proxy_offers_only_its_members() -> None:
    module = SafeModule("m", {"a": 1})
    assert module.a == 1 and module._names() == ["a"]
    with pytest.raises(RefusedAttribute, match="module 'm' has no attribute 'b' available"):
        module.b  # noqa: B018
    with pytest.raises(ValueError, match="cannot offer underscore names"):
        SafeModule("m", {"_a": 1})
