"""``codeact-robot tasks`` and ``codeact-robot scene``: the task list and a rendered scene."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import imageio.v3 as iio
import numpy as np

from codeact_robot.cli.options import RUN, add_command, add_render_options, seed
from codeact_robot.cli.outputs import writable_folder
from codeact_robot.config import read_yaml
from codeact_robot.environments.observation import number
from codeact_robot.envs.objects import COLOUR_SPLITS
from codeact_robot.envs.tasks import TABLETOP, TASKS, get_task
from codeact_robot.errors import UsageError

BACKGROUND = (0, 0, 0)
"""Segmentation colour of pixels that show no body."""


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``tasks`` and ``scene``."""
    tasks = add_command(
        commands,
        "tasks",
        "list the tasks, one per line: name, description, split",
        ("codeact-robot tasks", "codeact-robot tasks | grep unseen"),
    )
    tasks.set_defaults(handler=list_tasks)

    scene = add_command(
        commands,
        "scene",
        "lay out a task's scene and write what the cameras see",
        (
            "codeact-robot scene --task StackBlocks --out runs/scene",
            "codeact-robot scene --task PickPlace --seed 7 --size 640x480 --out runs/pick7",
            'codeact-robot scene --task Tabletop --scene \'{"blocks": ["red"], "bowls": ["blue"]}\' --out runs/free',
        ),
        "For each camera: <camera>_rgb.png, <camera>_depth.png and <camera>_segmentation.png to look at "
        "(depth colour-mapped, near is bright; every body in its own colour), and the raw arrays "
        "<camera>_depth.npy (metres, float32) and <camera>_segmentation.npy (PyBullet body ids, -1 for none); "
        "scene.json holds the objects, the body ids by name and the cameras' intrinsics and extrinsics.",
    )
    scene.add_argument("--task", required=True, help="task name (see `codeact-robot tasks`)")
    scene.add_argument(
        "--seed", type=seed, default=RUN.seed, help="scene seed; the same seed, the same scene (default: %(default)s)"
    )
    scene.add_argument("--out", required=True, metavar="DIR", help="folder for the images, arrays and scene.json")
    scene.add_argument(
        "--colours", choices=list(COLOUR_SPLITS), default=RUN.env.colours, help="colour split (default: %(default)s)"
    )
    scene.add_argument("--scene", metavar="LAYOUT", help="for --task Tabletop: a YAML/JSON file or inline JSON layout")
    add_render_options(scene, defaults=True)
    scene.set_defaults(handler=write_scene)


def scene_options(text: str) -> dict[str, Any]:
    """A free scene's layout from a YAML/JSON file or inline JSON."""
    path = Path(text)
    if path.is_file():
        return read_yaml(path)
    try:
        options = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise UsageError(f"a scene must be a YAML/JSON file or inline JSON, got {text!r}") from None
    if not isinstance(options, dict):
        raise UsageError('a scene must be a mapping such as {"blocks": ["red"], "bowls": ["blue"]}')
    return options


def list_tasks(args: argparse.Namespace) -> int:
    """Print every task: name, description and split."""
    tasks = [*TASKS.values(), TABLETOP]
    width = max(len(task.name) for task in tasks) + 2
    for task in tasks:
        print(f"{task.name:<{width}}{task.description} ({task.split})")
    return 0


def write_scene(args: argparse.Namespace) -> int:
    """Lay out the scene, render every camera, write images, arrays and scene.json, print a summary."""
    from codeact_robot.envs.world import TabletopWorld

    instance = get_task(args.task).instance(args.seed, scene_options(args.scene) if args.scene else {}, args.colours)
    out = writable_folder(args.out, "the scene")
    out.mkdir(parents=True, exist_ok=True)
    world = TabletopWorld(camera_size=args.size, renderer=args.renderer)
    try:
        world.build(instance.placements)
        cameras: dict[str, Any] = {}
        for name in world.cameras:
            frame = world.render(name)
            iio.imwrite(out / f"{name}_rgb.png", frame.rgb)
            iio.imwrite(out / f"{name}_depth.png", depth_image(frame.depth, frame.segmentation))
            iio.imwrite(out / f"{name}_segmentation.png", segmentation_image(frame.segmentation))
            np.save(out / f"{name}_depth.npy", frame.depth)
            np.save(out / f"{name}_segmentation.npy", frame.segmentation)
            cameras[name] = {"intrinsics": frame.intrinsics.tolist(), "camera_to_world": frame.extrinsics.tolist()}
        scene = {
            "instance": instance.to_dict(),
            "objects": {name: state.to_dict() for name, state in world.object_states().items()},
            "bodies": {name: world.sim.body_id(name) for name in world.sim.names},
            "cameras": cameras,
            "renderer": world.renderer.kind,
        }
        (out / "scene.json").write_text(json.dumps(scene, indent=2))
    finally:
        world.close()
    print(f"{instance.task} seed {instance.seed}: {instance.instruction or 'the free scene (no instruction)'}")
    for name, state in scene["objects"].items():
        x, y, z = state["position"]
        print(f"  {name:<14} at ({number(x, 3)}, {number(y, 3)}, {number(z, 3)})")
    print(f"wrote {len(cameras)} cameras x (rgb, depth, segmentation) as PNG, depth and segmentation as .npy, ", end="")
    print(f"and scene.json to {out}")
    return 0


def depth_image(depth: np.ndarray, segmentation: np.ndarray) -> np.ndarray:
    """Metric depth as an RGB image a person can read.

    The colours (inferno: near is bright, far is dark) span the depths of the bodies in
    view; pixels that show no body are black.
    """
    seen = segmentation >= 0
    values = depth[seen] if seen.any() else depth
    near, far = float(values.min()), float(values.max())
    scaled = np.clip((far - depth) / (far - near), 0.0, 1.0) if far > near else np.ones_like(depth)
    bgr = cv2.applyColorMap(np.round(scaled * 255).astype(np.uint8), cv2.COLORMAP_INFERNO)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    rgb[~seen] = BACKGROUND
    return rgb


def segmentation_image(segmentation: np.ndarray) -> np.ndarray:
    """Body ids as an RGB image: each body in its own saturated colour, nothing in black."""
    ids = np.unique(segmentation[segmentation >= 0])
    hues = (np.arange(len(ids)) * 0.618034 % 1.0 * 180).astype(np.uint8)  # golden-ratio steps around the wheel
    hsv = np.stack([hues, np.full_like(hues, 200), np.full_like(hues, 240)], axis=-1)[None]
    palette = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0]
    image = np.full((*segmentation.shape, 3), BACKGROUND, dtype=np.uint8)
    for body, colour in zip(ids, palette):
        image[segmentation == body] = colour
    return image
