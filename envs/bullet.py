"""PyBullet, imported quietly: it prints its build time to the C-level standard output."""

from codeact_robot.envs.cstdout import captured_c_output

with captured_c_output():
    import pybullet

__all__ = ["pybullet"]
