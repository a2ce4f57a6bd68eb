"""The world: PyBullet tabletop scene, Panda arm, cameras and the task suite.

Nothing here knows about LLMs. PyBullet prints its build time to the C-level
standard output when imported; it is imported here, quietly, before any module
of this package needs it.
"""

from codeact_robot.envs.cstdout import captured_c_output

with captured_c_output():
    import pybullet  # noqa: F401
