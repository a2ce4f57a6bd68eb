"""What recording a video costs: episode wall time with and without, per camera, side by side.

1. Episodes: the expert over a few families and seeds through the evaluation's episode
   runner (warm workers, one at a time), each episode run without videos, with
   ``--videos failures`` (the expert succeeds: poses are recorded, nothing is drawn) and
   with ``--videos all`` for each video camera, in turn, so that the machine's load falls
   on every variant alike. Reported: wall time per episode in the runner (drawing the
   video included), the time the actions' code took (what a time limit sees), and the
   MP4's size.
2. Per frame: recording a pose during an action, rendering each video camera in the
   worker, and captioning plus encoding a frame on the host.

    python benchmarks/videos.py [--seeds 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from codeact_robot.agent.video import VIDEO_FPS, EpisodeVideo
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.camera import VIDEO_CAMERA, Camera
from codeact_robot.envs.tasks import get_task
from codeact_robot.eval.running.pool import WorkerPool
from codeact_robot.eval.running.runner import EpisodeRunner, Retries, Videos
from codeact_robot.eval.running.suite import parse_suite
from codeact_robot.worker.config import EnvConfig
from codeact_robot.worker.simulator_runtime import SimulatorRuntime

TASKS = ["PickPlace", "StackBlocks", "BlocksInBowl", "BlocksOnPlace"]
VARIANTS: dict[str, Videos] = {
    "no video": Videos("none"),
    "`--videos failures` (all succeed)": Videos("failures", "front"),
    "`--videos all`, front": Videos("all", "front"),
    "`--videos all`, top": Videos("all", "top"),
    "`--videos all`, both": Videos("all", "both"),
}


def episodes(seeds: int) -> None:
    suite = parse_suite({"name": "v", "tasks": TASKS, "seeds": list(range(seeds)), "agents": [{"name": "e"}]}, "v")
    pool = WorkerPool(None, max_idle=len(VARIANTS))
    identity = {"suite": "v", "suite_hash": suite.hash}
    runners = {name: EpisodeRunner(suite.agents, identity, pool, Retries(), videos=v) for name, v in VARIANTS.items()}
    for runner in runners.values():  # each variant's worker starts outside the measurements
        runner.run(suite.jobs()[0])
    walls: dict[str, list[float]] = {name: [] for name in VARIANTS}
    execs: dict[str, list[float]] = {name: [] for name in VARIANTS}
    sizes: dict[str, list[int]] = {name: [] for name in VARIANTS}
    sim_s: list[float] = []
    for job in suite.jobs():
        for name, runner in runners.items():
            start = time.perf_counter()
            result = runner.run(job)
            walls[name].append(time.perf_counter() - start)
            execs[name].append(result.facts.exec_s)
            assert result.facts.success, f"{job} failed under {name}"
            if result.video_data is not None:
                sizes[name].append(len(result.video_data))
        sim_s.append(result.facts.sim_s)
    pool.close()
    base = sum(walls["no video"])
    print(f"## Episodes ({len(suite.jobs())} expert episodes per variant: {', '.join(TASKS)}; warm workers)\n")
    print(f"Simulated time per episode: median {statistics.median(sim_s):.1f} s.\n")
    print("| videos | wall s per episode (median) | total wall vs none | code s per episode (median) | MP4 (median) |")
    print("|---|---|---|---|---|")
    for name in VARIANTS:
        size = f"{statistics.median(sizes[name]) / 1024:.0f} kB" if sizes[name] else "-"
        ratio = sum(walls[name]) / base
        print(
            f"| {name} | {statistics.median(walls[name]):.2f} | **{ratio:.2f}x** | "
            f"{statistics.median(execs[name]):.2f} | {size} |"
        )
    print()


def per_frame(repeats: int = 40) -> None:
    env = CodeActEnv("StackBlocks", renderer="tiny", video_fps=VIDEO_FPS, video_camera="both")
    _, info = env.reset(seed=0)
    *_, info = env.step("pick_and_place('red block', 'green block')")
    poses = info["poses"]
    env.close()
    runtime = SimulatorRuntime(EnvConfig(renderer="tiny", video_fps=VIDEO_FPS))
    runtime.world.build(get_task("StackBlocks").instance(0, None, "seen").placements)
    start = time.perf_counter()
    for _ in range(repeats * 10):
        runtime._pose()  # what the simulator does at each video step during an action
    pose_ms = (time.perf_counter() - start) / (repeats * 10) * 1000
    world = runtime.world
    print("## Per frame (320x240 cameras, TinyRenderer)\n")
    print("| step | ms per frame |")
    print("|---|---|")
    print(f"| record a pose during an action (the simulator) | {pose_ms:.2f} |")
    cameras = {"front (video)": Camera(VIDEO_CAMERA, world.renderer), "top": world.cameras["top"]}
    frames = {}
    for name, camera in cameras.items():
        camera.render()
        start = time.perf_counter()
        for _ in range(repeats):
            frames[name] = camera.render().rgb
        print(f"| render {name} (the simulator, at the end) | {(time.perf_counter() - start) / repeats * 1000:.1f} |")
    runtime.close()
    both = np.concatenate(list(frames.values()), axis=1)
    for name, frame in (("front or top", frames["top"]), ("both", both)):
        with tempfile.TemporaryDirectory() as folder:
            video = EpisodeVideo((frame.shape[1], frame.shape[0]))
            video.start("stack all the blocks", 10, [])
            video.turn(1, poses[:1] * repeats)
            start = time.perf_counter()
            video.write(Path(folder, "v.mp4"), lambda chunk, frame=frame: [frame] * len(chunk))
            elapsed = time.perf_counter() - start
        print(f"| caption and encode (the host), {name} | {elapsed / video.frames * 1000:.1f} |")
    print(f"\nA pose is {len(poses[0].model_dump_json())} bytes of JSON in the reply ({len(poses)} in this action).\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    per_frame()
    episodes(args.seeds)


if __name__ == "__main__":
    main()
