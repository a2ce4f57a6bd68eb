"""The scripted expert: one reference program per task family, and the backend that sends them.

The programs (``programs/``) are sandbox code written only against the skill API, as an
agent would write them; the expert solves every family (see ``benchmarks/RESULTS.md``).
"""

from codeact_robot.expert.backend import ExpertBackend
from codeact_robot.expert.programs import program_source, reference_program, solve_call

__all__ = ["ExpertBackend", "program_source", "reference_program", "solve_call"]
