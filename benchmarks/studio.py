"""The studio's live view: frames a second while an action runs, and what watching costs the action.

One run, side by side: the same action (``pick_and_place`` of a block into a bowl, from
the same seed, so the same physics) with the live view off and on, alternating, through
the studio's own session (``Studio.run_code``) on TinyRenderer. With the view on, the
simulator sends the scene's pose ``LIVE_FPS`` times a second and the studio's drawing
slot draws the newest one; the figures are:

- the action's wall time (median) with the view off and on, and the slowdown;
- live frames drawn per second of the action (the view's frame rate while the arm moves);
- live poses received per second.

python benchmarks/studio.py [--repeats 5] [--size 320x240] [--view front]
"""

from __future__ import annotations

import argparse
import statistics
import time

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.studio.live import VIEWS
from codeact_robot.studio.studio import LIVE_FPS, Studio
from codeact_robot.worker.config import EnvConfig

SCENE = {"blocks": ["red", "green"], "bowls": ["blue"]}
ACTION = "pick_and_place('red block', 'blue bowl')"


def measure(studio: Studio, live: bool, view: str) -> tuple[float, int, int]:
    """One action from the same scene: (seconds, live frames drawn, live poses received)."""
    studio.reset(new_seed=False)
    studio.choose_view(view, live)
    frames, poses = studio.frames.live, studio.live_poses
    start = time.perf_counter()
    turn = studio.run_code(ACTION)["turns"][-1]
    elapsed = time.perf_counter() - start
    assert turn["error"] is None, turn["error"]
    return elapsed, studio.frames.live - frames, studio.live_poses - poses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="actions with the view off and on, each")
    parser.add_argument("--size", default="320x240", help="camera size (the view draws at it)")
    parser.add_argument("--view", choices=VIEWS, default="front")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    config = EnvConfig(renderer="tiny", camera_size=(width, height), video_fps=10, skills_top_k=0, end_on_success=False)
    studio = Studio(CodeActEnv("Tabletop", config), None, 0, SCENE, {})
    try:
        studio.start()
        measure(studio, True, args.view)  # starts the drawing slot, warms both
        off, on, fps, pose_rate = [], [], [], []
        for _ in range(args.repeats):
            off.append(measure(studio, False, args.view)[0])
            seconds, frames, poses = measure(studio, True, args.view)
            on.append(seconds)
            fps.append(frames / seconds)
            pose_rate.append(poses / seconds)
    finally:
        studio.close()
    print(f"view {args.view}, {width}x{height}, TinyRenderer, {args.repeats} actions each way")
    print(f"poses asked for: {LIVE_FPS:g} a second")
    print(f"action without the view: {statistics.median(off):.2f} s (median; {min(off):.2f}-{max(off):.2f})")
    print(f"action with the view:    {statistics.median(on):.2f} s (median; {min(on):.2f}-{max(on):.2f})")
    print(f"slowdown: {100 * (statistics.median(on) / statistics.median(off) - 1):+.1f} %")
    print(f"live frames drawn: {statistics.median(fps):.1f} per second (median; {min(fps):.1f}-{max(fps):.1f})")
    print(f"live poses received: {statistics.median(pose_rate):.1f} per second")


if __name__ == "__main__":
    main()
