"""The episode viewer: a local, read-only web page over a results store (``codeact-robot view``)."""

from codeact_robot.eval.viewer.server import ViewerServer

__all__ = ["ViewerServer"]
