"""Parsing model turns in the three action modes: never a crash, always an action, a message or a reminder."""

from __future__ import annotations

import pytest

from codeact_robot.agent.parser import parse_turn

REPLY = "I will pick the block.\n<execute>\nprint(pick('red block'))\n</execute>"


def test_codeact_block_is_the_action() -> None:
    turn = parse_turn(REPLY, "codeact")
    assert turn.kind == "action" and turn.code == "print(pick('red block'))" and turn.note is None
    assert turn.text == REPLY


def test_closing_tag_stripped_by_the_stop_sequence_is_put_back() -> None:
    turn = parse_turn("Let me look.\n<execute>\nprint(get_object_names())\n", "codeact")
    assert turn.kind == "action" and turn.code == "print(get_object_names())"
    assert turn.text.endswith("</execute>")


def test_two_blocks_run_the_first_and_say_so() -> None:
    turn = parse_turn("<execute>a = 1</execute> and <execute>b = 2</execute>", "codeact")
    assert turn.code == "a = 1"
    assert "2 code blocks; only the first was run" in turn.note


def test_python_fences_are_accepted() -> None:
    turn = parse_turn("Here:\n```python\n    x = 1\n    print(x)\n```", "codeact")
    assert turn.kind == "action" and turn.code == "x = 1\nprint(x)"


FENCED_PROGRAM = "for name in ['red block', 'blue block']:\n    print(name)"


@pytest.mark.parametrize(
    "text",
    [
        f"I will look.\n<execute>\n```python\n{FENCED_PROGRAM}\n```\n</execute>",
        f"<execute>\n```py\n{FENCED_PROGRAM}\n```\n</execute>",
        f"<execute>\n```Python3\n{FENCED_PROGRAM}\n```</execute>",
        f"<execute>\n```\n{FENCED_PROGRAM}\n```\n</execute>",
        f"<execute>```python\n{FENCED_PROGRAM}```</execute>",
        f"<execute>\n    ```python\n    {FENCED_PROGRAM.replace(chr(10), chr(10) + '    ')}\n    ```\n</execute>",
        f"<execute>\n```python\n{FENCED_PROGRAM}\n```\n",  # the stop sequence took the closing tag
        f"<execute>\n```python\n{FENCED_PROGRAM}\n</execute>",  # the closing fence is missing
    ],
)
def test_a_fence_inside_the_execute_tags_is_stripped(text: str) -> None:
    turn = parse_turn(text, "codeact")
    assert turn.kind == "action" and turn.code == FENCED_PROGRAM and turn.note is None


def test_backticks_inside_the_program_are_kept() -> None:
    turn = parse_turn('<execute>\nprint("```")\nx = 1\n</execute>', "codeact")
    assert turn.code == 'print("```")\nx = 1'


def test_a_fence_in_another_language_is_left_for_the_interpreter_to_refuse() -> None:
    assert parse_turn("<execute>\n```bash\nls\n```\n</execute>", "codeact").code == "```bash\nls\n```"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Your reply was empty."),
        ("<execute>\n```python\n```\n</execute>", "The code block was empty."),
        ("   \n\t", "Your reply was empty."),
        ("code:\n</execute>", "The <execute> tags did not match."),
        ("<execute   >x = 1", "The <execute> tags did not match."),
        ("<execute>\n   \n</execute>", "The code block was empty."),
    ],
)
def test_malformed_turns_get_the_expected_format(text: str, problem: str) -> None:
    turn = parse_turn(text, "codeact")
    assert turn.kind == "malformed"
    assert problem in turn.note and "<execute> and </execute>" in turn.note


def test_prose_only_is_a_message_to_the_user() -> None:
    assert parse_turn("All the blocks are stacked now.", "codeact").kind == "message"


def test_fifty_kilobytes_of_text_never_crash() -> None:
    blob = ("lorem ipsum <exec ute> {not json} " * 2000)[:50_000]
    for mode in ("codeact", "json", "text"):
        assert parse_turn(blob, mode).kind in ("message", "malformed")
    assert parse_turn(blob + "<execute>print(1)</execute>", "codeact").code == "print(1)"


def test_json_call_becomes_a_program_of_one_call() -> None:
    turn = parse_turn(
        'I will move it.\n{"tool": "pick_and_place", "args": {"obj": "red block", "target": "blue bowl"}}', "json"
    )
    assert turn.kind == "action" and turn.code == "pick_and_place(obj='red block', target='blue bowl')"
    assert parse_turn('{"tool": "done", "args": {}}', "json").code == "done()"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"tool": "teleport", "args": {}}', "Unknown tool 'teleport'; tools are:"),
        ('{"tool": "pick", "args": [1, 2]}', '"args" must be an object'),
        ("{tool: pick}", 'No JSON object with a "tool" key'),
    ],
)
def test_bad_json_gets_the_expected_format(text: str, problem: str) -> None:
    turn = parse_turn(text, "json")
    assert turn.kind == "malformed" and problem in turn.note


def test_text_call_with_unquoted_names_and_python_lists() -> None:
    turn = parse_turn("Next I move the gripper.\nmove_to, [0.45, 0.0, 0.2], 0.5", "text")
    assert turn.code == "move_to([0.45, 0.0, 0.2], 0.5)"
    turn = parse_turn("pick_and_place, red block, blue bowl", "text")
    assert turn.code == "pick_and_place('red block', 'blue bowl')"
    assert parse_turn("done", "text").code == "done()"
    assert parse_turn("I think we are finished.", "text").kind == "message"


@pytest.mark.parametrize("mode", ["codeact", "json", "text"])
def test_lone_surrogates_from_a_model_become_replacement_characters(mode: str) -> None:
    text = "Here \ud800 and \udfff.\n<execute>\nprint('\ud83d\ude00 \udc80')\n</execute>"
    turn = parse_turn(text, mode)
    turn.text.encode("utf-8")  # a console, a trajectory file and the next request can all carry it
    assert "\ufffd and \ufffd" in turn.text and "\U0001f600 \ufffd" in turn.text
    if mode == "codeact":
        assert turn.code == "print('\U0001f600 \ufffd')"
