"""``codeact-robot studio``: drive the arm from a browser, with your own code or through a model."""

from __future__ import annotations

import argparse
import errno
import tempfile
import threading
import webbrowser
from contextlib import ExitStack, closing
from pathlib import Path

from codeact_robot.agent import make_backend
from codeact_robot.agent.trajectory import read_trajectory
from codeact_robot.agent.video import VIDEO_FPS
from codeact_robot.cli.chat import interactive_env
from codeact_robot.cli.options import (
    RUN,
    add_agent_options,
    add_command,
    add_model_source_options,
    add_scene_options,
    port_number,
)
from codeact_robot.cli.scene import scene_options
from codeact_robot.cli.settings import MODEL_CHOICES, resolve_config
from codeact_robot.config import RunConfig
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import TABLETOP
from codeact_robot.errors import UsageError
from codeact_robot.eval.results.rows import EpisodeKey
from codeact_robot.eval.results.store import ResultsStore
from codeact_robot.eval.running.runner import episode_result
from codeact_robot.eval.viewer import ViewerServer
from codeact_robot.llm.model_server import check_model_servers
from codeact_robot.studio.server import StudioServer
from codeact_robot.studio.studio import Studio
from codeact_robot.worker.client import WorkerCrashed

EXAMPLES = (
    'codeact-robot studio --scene \'{"blocks": ["red", "green"], "bowls": ["blue"]}\'   # code mode, no model',
    "codeact-robot studio --task StackBlocks --seed 3 --skills my-skills",
    "codeact-robot studio --llm http://localhost:8000/v1 --model " + RUN.llm.model,
)
STUDIO_SUITE = "studio"


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``studio``."""
    studio = add_command(
        commands,
        "studio",
        "drive the arm from a browser: live camera, your code or a model's, stop, undo",
        EXAMPLES,
        "Serves a page on 127.0.0.1 and prints its address, which holds a token made for this start: "
        "anyone with the address can run code in the episode, so do not share it. Without a model the "
        "page is in code mode (write the actions, with the robot API beside the editor); with one, type "
        "instructions. Ctrl-C stops it.",
    )
    add_scene_options(studio, TABLETOP.name)
    source = studio.add_argument_group("model (optional: without one, code mode only)").add_mutually_exclusive_group()
    add_model_source_options(source)
    add_agent_options(studio)
    page = studio.add_argument_group("page")
    page.add_argument(
        "--port", type=port_number, default=8090, help="port on 127.0.0.1; 0 picks a free one (default: %(default)s)"
    )
    page.add_argument("--no-browser", action="store_true", help="print the address only; open no browser")
    studio.set_defaults(handler=studio_command)


def studio_command(args: argparse.Namespace) -> int:
    """Serve the studio until interrupted."""
    config = resolve_config(args, [], MODEL_CHOICES, default_task=TABLETOP.name, agent_required=False)
    if config.agent.mode != "codeact":
        raise UsageError(f"the studio runs code actions: --mode codeact only, not {config.agent.mode}")
    options = scene_options(args.scene) if args.scene else {}
    if config.llm.uses_model:
        check_model_servers([config.llm])
    # Every reply carries the scene's pose, which the camera view draws.
    env_config = interactive_env(config, {"video_fps": VIDEO_FPS}, "the studio's settings")
    config = config.model_copy(update={"env": env_config})
    recorded = config.model_dump(mode="json", exclude=None if config.llm.uses_model else {"llm"})
    env = CodeActEnv(config.task, config.env, model=config.llm.label if config.llm.uses_model else "studio")
    llm = make_backend(config.llm) if config.llm.uses_model else None
    with ExitStack() as stack:
        if llm is not None:
            stack.enter_context(closing(llm))
        studio = stack.enter_context(closing(Studio(env, llm, config.seed, options, recorded)))
        try:
            studio.start()
        except WorkerCrashed as crash:
            raise UsageError(f"the studio could not start: {crash}") from None
        viewer = StudioViewer()
        try:
            server = StudioServer(studio, args.port, viewer.open)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"port {args.port} is in use; choose another with --port (0 picks a free one)"
                ) from None
            raise UsageError(f"cannot serve on 127.0.0.1:{args.port}: {error.strerror or error}") from None
        print(f"Studio: {server.url}  (Ctrl-C to stop; the address holds this start's token: keep it to yourself)")
        print(f"mode: {studio.mode}; scene: {config.task}, seed {config.seed}", flush=True)
        if not args.no_browser:
            webbrowser.open(server.url)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped", flush=True)
        finally:
            server.server_close()
            viewer.close()
    return 0


class StudioViewer:
    """ "Open in the viewer": the studio's episodes in a results store of their own, served by the episode viewer."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="codeact-studio-"))
        self._server: ViewerServer | None = None
        self._lock = threading.Lock()
        self._opened = 0

    def open(self, trajectory: str) -> str:
        """Store the episode (a trajectory line) as the next studio episode; return the viewer's address."""
        path = self.folder / "trajectory.jsonl"
        path.write_text(trajectory)
        record = read_trajectory(path)
        with self._lock:
            self._opened += 1
            store = ResultsStore(self.folder, create=True)
            try:
                store.add_suite(STUDIO_SUITE, STUDIO_SUITE, "episodes driven from the studio", heldout=False)
                run = store.start_run(STUDIO_SUITE, {"command": "studio"})
                key = EpisodeKey(agent=STUDIO_SUITE, task=record.task, seed=record.seed, repeat=self._opened)
                episode = store.write_episode(
                    episode_result(key, STUDIO_SUITE, RunConfig.model_validate(record.config).env.api, record, 1),
                    STUDIO_SUITE,
                    run,
                )
                store.finish_run(run, "finished")
            finally:
                store.close()
            if self._server is None:
                self._server = ViewerServer(self.folder, port=0)
                threading.Thread(target=self._server.serve_forever, daemon=True).start()
            return f"{self._server.url}#/episode/{episode}"

    def close(self) -> None:
        """Stop the viewer, if it was opened."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
