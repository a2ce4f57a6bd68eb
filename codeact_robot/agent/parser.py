"""Reading a model turn in each action mode: ``codeact``, ``json`` or ``text``.

No string a model emits makes a parser raise: every turn is an action (code to run), a
message to the user (no action), or malformed (answered with the expected format). A reply
the server cut off at the token limit is none of these (:func:`cut_off_turn`): only the
finish reason tells it from a complete one, and its code never runs.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass
from typing import Any, Literal

from codeact_robot.sandbox.output import plain_text
from codeact_robot.skills.registry import DEFAULT_API, skills_for

OPEN, CLOSE = "<execute>", "</execute>"
_BLOCK = re.compile(re.escape(OPEN) + r"(.*?)" + re.escape(CLOSE), re.DOTALL)
_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)
# A fence around the whole program inside the tags; the closing fence may be missing.
_INNER_FENCE = re.compile(r"\A\s*```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```[ \t]*)?\s*\Z", re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """A parsed model turn.

    Attributes:
        kind: ``"action"`` (code to run), ``"message"`` (to the user), ``"malformed"``, or
            ``"cut_off"`` (stopped at the token limit: nothing runs).
        text: the turn as it goes into the conversation (a stripped closing tag put back).
        code: the program to run, for actions.
        note: what to tell the model with the observation (ignored extra blocks, or the
            expected format after a malformed turn).
    """

    kind: Literal["action", "message", "malformed", "cut_off"]
    text: str
    code: str | None = None
    note: str | None = None


FORMATS = {
    "codeact": "write your reasoning, then one block of Python between <execute> and </execute>",
    "json": 'write your reasoning, then one call as JSON: {"tool": "<function>", "args": {...}}',
    "text": "write your reasoning, then one line: function_name, argument, argument",
}


def format_reminder(mode: str, problem: str) -> str:
    """The note answering a malformed turn: what was wrong and what is expected."""
    return (
        f"{problem} Expected format: {FORMATS[mode]}. If the task is complete, reply with a short message "
        "to the user and no action."
    )


def parse_turn(text: str, mode: str, api: str = DEFAULT_API) -> Turn:
    """Parse one model turn in the given action mode; JSON and text calls name a skill of tier ``api``.

    The turn's text is made encodable first: a lone surrogate (which no UTF-8 console,
    file or HTTP request can carry) becomes U+FFFD.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = plain_text(text)
    if not text.strip():
        return Turn("malformed", text, note=format_reminder(mode, "Your reply was empty."))
    if mode == "codeact":
        return _codeact(text)
    names = {s.name for s in skills_for(api)}
    return _json(text, names) if mode == "json" else _text(text, names)


def cut_off_turn(text: str, mode: str, tokens: int | None) -> Turn:
    """A reply that reached the token limit before it ended: kept as written, never run, answered with what to do.

    Args:
        text: the reply as the server sent it (no closing tag is put back).
        mode: the action mode.
        tokens: the tokens it took (the limit it reached), when the server says.
    """
    limit = f" of {tokens} tokens" if tokens else ""
    note = (
        f"Your reply was cut off at the length limit{limit} before it ended, so none of it was run. "
        f"Reply again, shorter: {FORMATS[mode]}, with less reasoning and a shorter program."
    )
    return Turn("cut_off", plain_text(text if isinstance(text, str) else ""), note=note)


def _codeact(text: str) -> Turn:
    if OPEN in text and CLOSE not in text[text.rfind(OPEN) :]:
        text += CLOSE  # the server stopped at the stop sequence and left it out
    blocks = _BLOCK.findall(text)
    note = None
    if not blocks:
        fenced = _FENCE.findall(text)
        if fenced:
            blocks = fenced
        elif CLOSE in text or "<execute" in text:
            return Turn("malformed", text, note=format_reminder("codeact", "The <execute> tags did not match."))
        else:
            return Turn("message", text)
    if len(blocks) > 1:
        note = f"Your reply had {len(blocks)} code blocks; only the first was run. Write one block per turn."
    code = textwrap.dedent(_unfenced(blocks[0])).strip("\n")
    if not code.strip():
        return Turn("malformed", text, note=format_reminder("codeact", "The code block was empty."))
    return Turn("action", text, code=code, note=note)


def _unfenced(block: str) -> str:
    """The program inside a Markdown fence that wraps a whole ``<execute>`` block (models often add one)."""
    fenced = _INNER_FENCE.match(block)
    return fenced.group(1) if fenced else block


def _call(tool: str, args: list[Any] | None = None, kwargs: dict[str, Any] | None = None) -> str:
    """Source of a call with literal arguments (the program is just this call)."""
    parts = [repr(a) for a in args or []] + [f"{k}={v!r}" for k, v in (kwargs or {}).items()]
    return f"{tool}({', '.join(parts)})"


def _json(text: str, names: set[str]) -> Turn:
    decoder = json.JSONDecoder()
    found_brace = False
    for start in (m.start() for m in re.finditer(r"\{", text)):
        found_brace = True
        try:
            value, _ = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict) and "tool" in value:
            return _json_call(text, value, names)
    if found_brace:
        return Turn("malformed", text, note=format_reminder("json", 'No JSON object with a "tool" key was found.'))
    return Turn("message", text)


def _json_call(text: str, value: dict[str, Any], names: set[str]) -> Turn:
    tool, args = value.get("tool"), value.get("args", {})
    if not isinstance(tool, str) or tool not in names:
        problem = f"Unknown tool {tool!r}; tools are: {', '.join(sorted(names))}."
        return Turn("malformed", text, note=format_reminder("json", problem))
    if not isinstance(args, dict) or not all(isinstance(k, str) and k.isidentifier() for k in args):
        return Turn("malformed", text, note=format_reminder("json", '"args" must be an object of named arguments.'))
    return Turn("action", text, code=_call(tool, kwargs=args))


_TEXT_CALL = re.compile(r"^\s*`?([A-Za-z_]\w*)\s*(?:,(.*?))?`?\s*$")


def _text(text: str, names: set[str]) -> Turn:
    for line in reversed(text.strip().splitlines()):
        match = _TEXT_CALL.match(line)
        if match and match.group(1) in names:
            return Turn("action", text, code=_call(match.group(1), args=_text_arguments(match.group(2) or "")))
    return Turn("message", text)


def _text_arguments(text: str) -> list[Any]:
    """``red block, [0.5, 0.1]`` -> ["red block", [0.5, 0.1]] (commas inside brackets or quotes kept)."""
    items, depth, quote, current = [], 0, "", ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0 and not quote:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    values = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            values.append(ast.literal_eval(item))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            values.append(item)
    return values
