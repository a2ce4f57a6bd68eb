"""The skill library, on the host: its files, the rule before anything is stored, retrieval, verification, authoring.

Everything here runs on the host and never runs a skill's code outside an episode
worker's sandbox; code actions never call it.
"""
