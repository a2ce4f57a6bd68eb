"""codeact-robot: an LLM agent that controls a simulated robot arm by writing Python.

Importing the package registers the Gymnasium environments (``CodeActRobot/...``).
"""

from codeact_robot.registration import register_envs

__version__ = "0.1.0"

register_envs()
