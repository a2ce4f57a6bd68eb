"""The world: PyBullet tabletop scene, Panda arm, cameras and the task suite.

Nothing here knows about LLMs. The task suite (``tasks``), object kinds and the
workspace are plain data and maths; only the simulation modules load PyBullet.
"""
