"""The text the agent sees: the task at the start, then one ``Observation:`` per action."""

from __future__ import annotations

from codeact_robot.worker.protocol import ActionReport, SceneSummary

OBSERVATION_PREFIX = "Observation:"
MAX_TEXT_CHARS = 200_000
"""The observation space's limit on the text; a longer text is cut, saying so."""


def describe_scene(scene: SceneSummary, object_state: bool = True) -> str:
    """One paragraph: the gripper and every object perception reports.

    Args:
        scene: what perception reports.
        object_state: whether the API tier tells which objects there are; without it the
            paragraph names none (the held one neither) and says to look at the images.
    """
    gripper = scene.gripper
    x, y, z = gripper.position
    if object_state:
        held = f"the {gripper.holding}" if gripper.holding else "nothing"
    else:
        held = "an object" if gripper.holding else "nothing"
    text = f"The gripper is {gripper.state} at ({number(x)}, {number(y)}, {number(z)}), holding {held}."
    if not object_state:
        text += " Objects are not listed at this API tier: the camera images show them."
    elif scene.objects:
        listed = "; ".join(
            f"{name} at ({number(p[0])}, {number(p[1])}, {number(p[2])})" for name, p in scene.objects.items()
        )
        text += f" Visible objects: {listed}."
    else:
        text += " No objects are visible."
    return text


def number(value: float, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals, never ``-0.00``."""
    text = f"{value:.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text


def turns_left_text(turns_left: int) -> str:
    """``3 turns left.`` / ``1 turn left.`` / ``No turns left.``"""
    if turns_left <= 0:
        return "No turns left."
    return f"{turns_left} turn{'s' if turns_left != 1 else ''} left."


def task_message(
    instruction: str, scene: SceneSummary, max_turns: int, notes: tuple[str, ...] = (), object_state: bool = True
) -> str:
    """The first user message of an episode (notes: learned skills that did not load ...)."""
    scene_text = describe_scene(scene, object_state)
    parts = [f"Task: {instruction}", f"Scene: {scene_text}", f"You have {max_turns} turns.", *notes]
    return _capped("\n".join(parts))


def format_observation(
    report: ActionReport | None, scene: SceneSummary, turns_left: int, notes: list[str], object_state: bool = True
) -> str:
    """The user message after a turn.

    Args:
        report: what the action printed (``say`` prints too) and raised; None when the
            turn ran no code.
        scene: what perception reports now.
        turns_left: turns the agent still has.
        notes: extra lines (a format reminder, an ignored code block, the episode's end).
        object_state: whether the API tier tells which objects there are (see :func:`describe_scene`).
    """
    parts = [OBSERVATION_PREFIX]
    if report is not None:
        if report.stdout:
            parts.append(report.stdout.rstrip("\n"))
        if report.stdout_cut:
            parts.append(f"[output truncated: {report.stdout_cut} more characters were printed but are not shown]")
        if report.error:
            parts.append(report.error)
        if not report.stdout and not report.error:
            parts.append("(the code ran without printing anything)")
    parts.extend(notes)
    parts.append(f"Scene: {describe_scene(scene, object_state)}")
    parts.append(turns_left_text(turns_left))
    return _capped("\n".join(parts))


def _capped(text: str) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    note = f"\n[observation cut: {len(text) - MAX_TEXT_CHARS} more characters]"
    return text[: MAX_TEXT_CHARS - len(note)] + note
