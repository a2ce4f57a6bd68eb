"""Episode slots: each episode's world and its programs in two processes of their own.

The host side is :class:`WorkerClient` (``client.py``). The *simulator*
(``simulator_process.py``, :class:`~codeact_robot.worker.simulator_runtime.SimulatorRuntime`)
holds the world and the skills and runs only project code; the *executor*
(``executor_process.py``, ``executor_stubs.py``) runs the programs in the sandbox, fresh for
every episode, and reaches the world only through skill calls to the simulator
(``channel.py``). The host talks to the simulator through ``protocol.py``; every message on
every link is plain, size-capped, schema-checked data.
"""
