"""The text the agent sees: the task at the start, then one ``Observation:`` per action."""

from __future__ import annotations

from typing import Any

from codeact_robot.sandbox.executor import ActionResult

OBSERVATION_PREFIX = "Observation:"


def describe_scene(scene: dict[str, Any]) -> str:
    """One paragraph: the gripper and every object perception reports.

    Args:
        scene: ``{"objects": {name: [x, y, z]}, "gripper": {"position", "width", "holding"}}``.
    """
    gripper = scene.get("gripper", {})
    x, y, z = gripper.get("position", (0.0, 0.0, 0.0))
    width = gripper.get("width", 0.0)
    state = "open" if width > 0.075 else "closed" if width < 0.005 else "partly open"
    holding = gripper.get("holding")
    held = f"the {holding}" if holding else "nothing"
    text = f"The gripper is {state} at ({x:.2f}, {y:.2f}, {z:.2f}), holding {held}."
    objects = scene.get("objects", {})
    if objects:
        listed = "; ".join(f"{name} at ({p[0]:.2f}, {p[1]:.2f}, {p[2]:.2f})" for name, p in objects.items())
        text += f" Visible objects: {listed}."
    else:
        text += " No objects are visible."
    return text


def turns_left_text(turns_left: int) -> str:
    """``3 turns left.`` / ``1 turn left.`` / ``No turns left.``"""
    if turns_left <= 0:
        return "No turns left."
    return f"{turns_left} turn{'s' if turns_left != 1 else ''} left."


def task_message(instruction: str, scene: dict[str, Any], max_turns: int) -> str:
    """The first user message of an episode."""
    return f"Task: {instruction}\nScene: {describe_scene(scene)}\nYou have {max_turns} turns."


def format_observation(
    result: ActionResult | None, scene: dict[str, Any], turns_left: int, notes: list[str] | None = None
) -> str:
    """The user message after a turn.

    Args:
        result: what the action printed (``say`` prints too) and raised; None when the
            turn ran no code.
        scene: what perception reports now.
        turns_left: turns the agent still has.
        notes: extra lines (a format reminder, an ignored code block, the episode's end).
    """
    parts = [OBSERVATION_PREFIX]
    if result is not None:
        if result.stdout:
            parts.append(result.stdout.rstrip("\n"))
        if result.stdout_cut:
            parts.append(f"[output truncated: {result.stdout_cut} more characters were printed but are not shown]")
        if result.error:
            parts.append(result.error)
        if not result.stdout and not result.error:
            parts.append("(the code ran without printing anything)")
    parts.extend(notes or [])
    parts.append(f"Scene: {describe_scene(scene)}")
    parts.append(turns_left_text(turns_left))
    return "\n".join(parts)
