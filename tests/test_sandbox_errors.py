"""The error path: every way a program can fail to compile, fail to be formatted or flood the
reply becomes an ordinary error observation, never a worker crash, and what reaches the
host stays within the protocol's caps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codeact_robot.environments.codeact import MAX_CODE_CHARS, CodeActEnv
from codeact_robot.environments.observation import MAX_TEXT_CHARS
from codeact_robot.skills.episode import MAX_SAID, MAX_SAID_CHARS
from codeact_robot.worker.protocol import MAX_ERROR_CHARS

SCENE = {"blocks": ["red"], "bowls": ["blue"]}
UNSHOWN = "<the message could not be shown: "


@pytest.fixture(scope="module")
def env() -> Iterator[CodeActEnv]:
    env = CodeActEnv(renderer="tiny", time_limit_s=5.0, max_output_chars=100_000, max_turns=10_000)
    env.reset(seed=0, options=SCENE)
    yield env
    env.close()


def step(env: CodeActEnv, code: str) -> tuple[str, dict]:
    observation, _, _, _, info = env.step(code)
    return observation["text"], info


# (id, program, origin, text the error must end with)
FAILURES = [
    ("surrogate-in-code", "x = '\ud800'", "syntax", "not valid Unicode (a lone surrogate) at line 1"),
    ("deep-sum", "x = " + "+".join(["1"] * 49_000), "syntax", "the program is nested too deeply to compile"),
    ("deep-negation", "x = " + "-" * 99_000 + "1", "syntax", "the program is nested too deeply to compile"),
    ("deep-not", "x = " + "not " * 24_000 + "1", "syntax", "the program is nested too deeply to compile"),
    ("deep-lambda", "f = " + "lambda: " * 12_000 + "1", "syntax", "the program is nested too deeply to compile"),
    ("deep-conditional", "x = 1" + " if 1 else 1" * 8000, "syntax", "the program is nested too deeply to compile"),
    ("huge-number-message", "raise ValueError(10**5000)", "program", f"ValueError: {UNSHOWN}ValueError>"),
    ("huge-number-key", "raise KeyError(10**5000)", "program", f"KeyError: {UNSHOWN}ValueError>"),
    ("args-contain-themselves", "l = []\ne = ValueError(l)\nl.append(e)\nraise e", "program", "[ValueError([...])]"),
    (
        "exception-chain-100000-deep",
        "e = ValueError()\nfor i in range(10**5):\n    e = ValueError(e)\nraise e",
        "program",
        f"ValueError: {UNSHOWN}RecursionError>",
    ),
    (
        "list-100000-deep",
        "x = [1]\nfor i in range(10**5):\n    x = [x]\nraise ValueError(x)",
        "program",
        f"ValueError: {UNSHOWN}RecursionError>",
    ),
    ("print-huge-number", "print(10**5000)", "program", "Exceeds the limit (4300 digits) for integer string"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "code", "origin", "ending"), FAILURES, ids=[f[0] for f in FAILURES])
def test_a_failure_to_compile_or_format_is_an_ordinary_error(
    env: CodeActEnv, name: str, code: str, origin: str, ending: str
) -> None:
    assert len(code) <= MAX_CODE_CHARS
    text, info = step(env, code)
    assert not info["restarted"] and info["limit"] is None, info["error"]
    assert info["origin"] == origin, info["error"]
    assert ending in info["error"].splitlines()[-1], info["error"]
    assert ending in text
    follow_up = step(env, "print('alive')")[1]
    assert follow_up["stdout"] == "alive\n" and not follow_up["restarted"]


def test_non_ascii_names_and_named_escapes_compile_in_a_confined_worker(env: CodeActEnv) -> None:
    # the parser imports unicodedata for these, which a confined worker cannot import late
    program = "θ = 0.5\nclass Ü:\n    größe = 2\ndef f(ä=θ):\n    return ä * Ü.größe\nprint(f(), '\\N{DEGREE SIGN}')"
    _, info = step(env, program)
    assert info["error"] is None and not info["restarted"], info["error"]
    assert info["stdout"] == "1.0 \u00b0\n"


def test_an_exception_class_with_a_long_name_is_reported(env: CodeActEnv) -> None:
    name = "E" * 200
    _, info = step(env, f"class {name}(Exception):\n    pass\nraise {name}('x')")
    assert not info["restarted"] and info["error"].endswith(f"{name}: x")
    assert info["error_type"] == name[:64]


def test_printed_and_said_lone_surrogates_arrive_as_replacement_characters(env: CodeActEnv) -> None:
    text, info = step(env, "print('a\\ud800b')\nsay('c\\udfffd')\nraise ValueError('\\udc80')")
    assert not info["restarted"]
    assert info["stdout"] == "a\ufffdb\n[robot says] c\ufffdd\n"
    assert info["said"] == ("c\ufffdd",)
    assert info["error"].endswith("ValueError: \ufffd")
    text.encode("utf-8")  # a console or a JSON file can take it


def test_twenty_thousand_says_reach_the_host_capped(env: CodeActEnv) -> None:
    _, info = step(env, "for i in range(20000):\n    say('x' * 3000)")
    assert info["error"] is None and not info["restarted"]
    assert len(info["said"]) == MAX_SAID and all(len(message) <= MAX_SAID_CHARS for message in info["said"])


def test_long_attribute_names_do_not_pin_memory(env: CodeActEnv) -> None:
    program = "class A:\n    pass\na = A()\nfor i in range(3000):\n    getattr(a, 'x' * 20000 + str(i), None)"
    _, info = step(env, program)
    assert info["error"] is None and not info["restarted"]


def test_errors_and_observations_stay_within_their_caps(env: CodeActEnv) -> None:
    long_line = "    return f(n + 1) if n >= 0 else '" + "z" * 200 + "'"  # shown once per frame of the traceback
    program = f"print('y' * 150_000)\ndef f(n):\n{long_line}\nf(0)"
    text, info = step(env, program)
    assert info["limit"] == "recursion" and len(info["error"]) <= MAX_ERROR_CHARS
    assert "characters cut" in info["error"] and info["error"].rstrip().endswith("nested calls)")
    assert len(info["stdout"]) == 100_000 and info["stdout_cut"] == 50_001
    assert len(text) <= MAX_TEXT_CHARS


def test_an_action_longer_than_the_action_space_runs_nothing(env: CodeActEnv) -> None:
    before = env.turn
    text, info = step(env, "unrun = 1\n" + "#" * MAX_CODE_CHARS)
    assert "The program was not run: it has 100,010 characters; at most 100,000 are allowed." in text
    assert env.turn == before + 1 and info["stdout"] == ""
    assert step(env, "print('unrun' in dir())")[1]["stdout"] == "False\n"


def test_stepping_a_closed_environment_says_so() -> None:
    env = CodeActEnv(renderer="tiny")
    with pytest.raises(RuntimeError, match=r"no episode is running \(the env is new, closed or its worker crashed\)"):
        env.step("print(1)")
    env.reset(seed=0, options=SCENE)
    env.close()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step("print(1)")


def test_a_program_out_of_memory_loses_its_variables_and_their_finalizers_are_stopped(env: CodeActEnv) -> None:
    program = (
        "def stubborn():\n    try:\n        yield 1\n    finally:\n        while True:\n            pass\n"
        "kept = stubborn()\nnext(kept)\nhuge = 'a' * 10**10"
    )
    _, info = step(env, program)
    assert info["limit"] == "memory" and not info["restarted"]
    assert "its variables and functions were cleared" in info["error"]
    _, info = step(env, "print('kept' in dir(), 'alive')")
    assert info["stdout"] == "False alive\n" and not info["restarted"]
