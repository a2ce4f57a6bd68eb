"""Why an episode failed, from the structured facts of its record, never from the model's prose.

The kinds, in the order they are decided (the first that applies wins):

1. ``error``: the episode could not run (an infrastructure failure: the model server
   stayed unreachable, a worker would not start, a bug of the harness). Never a task
   failure; ``eval --retry-errors`` runs it again.
2. ``success``: the task's check held at the end.
3. ``model_error``: the model could not answer (outcome ``llm_error``: an unknown model,
   a request the server refused, the same server failure repeated ...; the server's own
   reason is the row's ``error``).
   ``context_overflow``: the conversation outgrew the model's context window (outcome
   ``context_overflow``, found before sending or refused by the server): neither an
   infrastructure error nor retried.
   ``reply_cut_off``: the turn limit came with a reply cut off at the token limit (outcome
   ``reply_cut_off``).
4. ``worker_crash``: the episode's worker died more often than an episode allows.
5. ``wrong_final_state``: the agent said it had finished while the check failed: it
   called ``done()``, or it ended with a final message right after an action that ran
   cleanly (no error, no skill returning False), i.e. it believed the work was done.
6. ``gave_up``: it ended with a final message after an action that failed, or before
   any action ran: it stopped without believing it had succeeded.
7. At the turn limit, the problem of the last turn, if it had one (the agent was stuck
   on it), else ``turn_limit`` (it acted cleanly but not enough).

A turn's problem, in this order: ``reply_cut_off`` (the reply reached the token limit
before it ended; nothing of it ran), ``format_error`` (no valid action in the reply),
``syntax_error`` (not valid Python), ``sandbox_violation`` (a sandbox rule refused the
program), ``limit`` (time, simulation steps, memory or recursion), ``worker_crash``
(the action took the worker down; it was restarted), ``api_misuse`` (a skill refused
its arguments), ``program_error`` (the program's own exception, such as a NameError),
``physical_failure`` (a skill returned False, such as a missed grasp).
"""

from __future__ import annotations

from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord

INFRASTRUCTURE_ERROR = "error"
"""The outcome (and failure kind) of an episode that could not run: never a task failure."""

FAILURE_KINDS = (
    "success",
    "wrong_final_state",
    "gave_up",
    "turn_limit",
    "format_error",
    "syntax_error",
    "sandbox_violation",
    "limit",
    "worker_crash",
    "api_misuse",
    "program_error",
    "physical_failure",
    "reply_cut_off",
    "context_overflow",
    "model_error",
    INFRASTRUCTURE_ERROR,
)
"""Every failure kind, in the order reports show them."""

_ORIGIN_KINDS = {
    "syntax": "syntax_error",
    "sandbox": "sandbox_violation",
    "limit": "limit",
    "crash": "worker_crash",
    "skill": "api_misuse",
    "program": "program_error",
}


def turn_problem(turn: TurnRecord) -> str | None:
    """What went wrong in one turn (see the module docstring), or None for a clean turn."""
    if turn.kind == "cut_off":
        return "reply_cut_off"
    if turn.kind == "malformed":
        return "format_error"
    origin = turn.report.origin
    if origin is not None:
        return _ORIGIN_KINDS[origin]
    if turn.report.skill_false:
        return "physical_failure"
    return None


def failure_kind(record: EpisodeRecord | None, outcome: str) -> str:
    """The one reason an episode failed (``success`` when it did not).

    Args:
        record: the episode's record, None when it could not run at all.
        outcome: how it ended (``error`` for an infrastructure failure, else the record's).
    """
    if record is None or outcome == INFRASTRUCTURE_ERROR:
        return INFRASTRUCTURE_ERROR
    if record.success:
        return "success"
    if outcome == "llm_error":
        return "model_error"
    if outcome in ("context_overflow", "reply_cut_off"):
        return outcome
    if outcome == "worker_crash":
        return "worker_crash"
    if outcome == "done":
        return "wrong_final_state"
    actions = [t for t in record.turns if t.kind != "message"]
    last_problem = turn_problem(actions[-1]) if actions else None
    if outcome == "message":
        return "wrong_final_state" if actions and last_problem is None else "gave_up"
    return last_problem or "turn_limit"
