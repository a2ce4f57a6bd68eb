"""codeact-robot: an LLM agent that controls a simulated robot arm by writing Python.

Importing the package registers the Gymnasium environments (``CodeActRobot/...``), except in
an episode's executor process, which never makes one.

Layers, top to bottom; a module imports only from its own layer or below, never up,
and modules side by side on one line do not import each other:

    cli
    eval | studio  (suites, scheduler, results store, reports, viewer, exports | the browser studio)
                   eval's folders, top to bottom: running (suites, scheduling, episodes),
                   reports | viewer, results (the store, its rows, failure kinds, exports)
    agent, config  (the CodeAct loop, prompts, trajectories; the run configuration)
    expert         (answers like a model: builds on llm's backend interface)
    llm | environments
                   llm is a leaf: it knows messages and completions, nothing else
    library        (the skill library on the host: the rule, retrieval, verification)
    worker         (host client, protocol; the episode slot's two processes:
                    executor_* runs programs in the sandbox with skill stubs, and never
                    imports the world; simulator_* holds the world and skills, and never
                    imports what runs programs; channel: the plain data between them)
    sandbox | skills
                   sandbox imports nothing of the project
    envs           (the world: PyBullet scene, robot, cameras, tasks)
    errors, configs, files, localweb (local web pages' Host/Origin checks and CSP)

``tests/test_layers.py`` holds the same table (as ranks) and fails on an import against it,
or on an import chain from the executor to the world or PyBullet.
"""

import sys

__version__ = "0.1.0"

EXECUTOR_MODULE = "codeact_robot.worker.executor_process"

# An episode's executor (``python -m`` of EXECUTOR_MODULE) runs programs and never makes an
# environment: registering them would import Gymnasium and the task registry into every
# episode's executor, the larger part of its start.
if EXECUTOR_MODULE not in sys.orig_argv:
    from codeact_robot.environments import register_envs

    register_envs()
