"""The host's side of the skill library: the rule before anything is stored, retrieval, verification, authoring.

The files themselves are :mod:`codeact_robot.skills.library`; everything here runs on the
host and never runs a skill's code outside an episode worker's sandbox.
"""
