"""Episode workers: each episode's world, skills and sandbox in a process of its own.

The host side is :class:`WorkerClient` (``client.py``); inside the worker process run
``process.py`` and the :class:`~codeact_robot.worker.runtime.EpisodeRuntime`. They talk
through ``protocol.py`` in plain, size-capped, schema-checked data.
"""
