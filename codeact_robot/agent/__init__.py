"""The CodeAct agent: parsing model turns, the system prompt, the loop and its records."""

from codeact_robot.agent.backends import make_backend
from codeact_robot.agent.parser import Turn, parse_turn
from codeact_robot.agent.prompt import system_prompt
from codeact_robot.agent.session import Session, run_episode
from codeact_robot.agent.trajectory import EpisodeRecord, TurnRecord, read_trajectory, write_trajectory

__all__ = [
    "EpisodeRecord",
    "Session",
    "Turn",
    "TurnRecord",
    "make_backend",
    "parse_turn",
    "read_trajectory",
    "run_episode",
    "system_prompt",
    "write_trajectory",
]
