"""Camera frames per second (RGB + depth + segmentation) by renderer and resolution.

EGL is measured wherever its plugin loads; on a machine without a GPU it runs on
Mesa's software rasteriser, which the output names.

    python benchmarks/rendering.py [--frames 30]
"""

from __future__ import annotations

import argparse
import time

from codeact_robot.envs.tasks import TASKS
from codeact_robot.envs.world import TabletopWorld
from codeact_robot.errors import UsageError

SIZES = ((320, 240), (640, 480))


def fps(world: TabletopWorld, camera: str, frames: int) -> float:
    world.render(camera)  # warm-up (EGL builds its buffers on the first frame)
    start = time.perf_counter()
    for _ in range(frames):
        world.render(camera)
    return frames / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    placements = TASKS["SortHiddenBlocks"].sample(0).placements
    print(f"{'renderer':<34}{'size':>10}{'front fps':>11}{'top fps':>10}")
    for renderer in ("tiny", "egl"):
        for width, height in SIZES:
            try:
                world = TabletopWorld(camera_size=(width, height), renderer=renderer)
            except UsageError as error:
                print(f"{renderer:<34}{'':>10}  not available: {error}")
                break
            world.build(placements)
            label = renderer if renderer == "tiny" else f"egl ({world.renderer.gl_renderer[:28]})"
            print(
                f"{label:<34}{f'{width}x{height}':>10}{fps(world, 'front', args.frames):>11.1f}"
                f"{fps(world, 'top', args.frames):>10.1f}"
            )
            world.close()


if __name__ == "__main__":
    main()
