"""Evaluation: suites of tasks x seeds x agents, run many at a time, into a crash-proof store.

The results store (``store.py``) is what reports, the episode viewer, videos and
fine-tuning data are read from.
"""
