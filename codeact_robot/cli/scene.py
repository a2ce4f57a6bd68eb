"""``codeact-robot tasks`` and ``codeact-robot scene``: the task list and a rendered scene."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np

from codeact_robot.config import read_yaml
from codeact_robot.envs.tasks import TABLETOP, TASKS, get_task
from codeact_robot.errors import UsageError


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``tasks`` and ``scene``."""
    tasks = commands.add_parser("tasks", help="list the tasks, one per line: name, then a description")
    tasks.set_defaults(handler=list_tasks)

    scene = commands.add_parser("scene", help="lay out a task's scene; write camera images and the scene as JSON")
    scene.add_argument("--task", required=True, help="task name (see `codeact-robot tasks`)")
    scene.add_argument("--seed", type=int, default=0)
    scene.add_argument("--out", required=True, help="folder for the images and scene.json")
    scene.add_argument("--colours", default="seen", help="colour split: seen, unseen or all")
    scene.add_argument("--scene", help="for --task Tabletop: a YAML/JSON file or inline JSON layout")
    add_render_options(scene)
    scene.set_defaults(handler=write_scene)


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """``--size`` and ``--renderer``, shared by the commands that render."""
    parser.add_argument("--size", default="320x240", type=parse_size, help="camera image size, WIDTHxHEIGHT")
    parser.add_argument("--renderer", default="auto", choices=["auto", "tiny", "egl"])


def parse_size(text: str) -> tuple[int, int]:
    """``320x240`` -> (320, 240)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must look like 320x240, got {text!r}") from None
    return width, height


def scene_options(text: str) -> dict[str, Any]:
    """A free scene's layout from a YAML/JSON file or inline JSON."""
    path = Path(text)
    if path.is_file():
        return read_yaml(path)
    try:
        options = json.loads(text)
    except json.JSONDecodeError:
        raise UsageError(f"a scene must be a YAML/JSON file or inline JSON, got {text!r}") from None
    if not isinstance(options, dict):
        raise UsageError('a scene must be a mapping such as {"blocks": ["red"], "bowls": ["blue"]}')
    return options


def list_tasks(args: argparse.Namespace) -> int:
    """Print every task: name, split and description."""
    tasks = [*TASKS.values(), TABLETOP]
    width = max(len(task.name) for task in tasks) + 2
    for task in tasks:
        print(f"{task.name:<{width}}{task.description} ({task.split})")
    return 0


def write_scene(args: argparse.Namespace) -> int:
    """Lay out the scene, render every camera, write PNGs and scene.json, print a summary."""
    from codeact_robot.envs.world import TabletopWorld

    instance = get_task(args.task).instance(args.seed, scene_options(args.scene) if args.scene else {}, args.colours)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot create output folder {out}: {error}") from None
    world = TabletopWorld(camera_size=args.size, renderer=args.renderer)
    try:
        world.build(instance.placements)
        cameras: dict[str, Any] = {}
        for name in world.cameras:
            frame = world.render(name)
            iio.imwrite(out / f"{name}_rgb.png", frame.rgb)
            iio.imwrite(out / f"{name}_depth_mm.png", np.clip(frame.depth * 1000, 0, 65535).astype(np.uint16))
            iio.imwrite(out / f"{name}_segmentation.png", (frame.segmentation + 1).astype(np.uint16))
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
    print(f"{instance.task} seed {instance.seed}: {instance.instruction}")
    for name, state in scene["objects"].items():
        x, y, z = state["position"]
        print(f"  {name:<14} at ({x:.3f}, {y:.3f}, {z:.3f})")
    print(f"wrote {len(cameras)} cameras x (rgb, depth, segmentation) and scene.json to {out}")
    return 0
