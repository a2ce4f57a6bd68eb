"""The robot API that code actions call: perception and motion primitives.

Importing this package registers every skill (see :mod:`registry`); the skill
modules are named after the groups of the API.
"""

from codeact_robot.skills import episode, gripper, motion, scene, vision  # noqa: F401  (registration)
from codeact_robot.skills.registry import SKILLS, Skill, all_skills, api_reference, bind, skills_for

__all__ = ["SKILLS", "Skill", "all_skills", "api_reference", "bind", "skills_for"]
