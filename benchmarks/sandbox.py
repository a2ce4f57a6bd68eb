"""Sandbox overheads: a trivial action's round trip through the worker, and guarded vs plain execution
of three compute-heavy programs: object-heavy, numpy geometry, and the worst case for numpy's
checks (tens of thousands of numpy calls on 3-vectors).

It also prices the alternative the sandbox did not take against object arrays: instead of
offering nothing that reads an array's raw memory (no bytes), refuse an object array at every
binary operator that could make one. That cost is measured on plain exec, the same programs
with every binary operator and in-place operator routed through the check.

python benchmarks/sandbox.py [--actions 200] [--repeats 9]
"""

from __future__ import annotations

import argparse
import ast
import operator
import statistics
import time
from typing import Any

import numpy as np

from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.sandbox.executor import Sandbox
from codeact_robot.worker.config import Limits

COMPUTE = """
import math
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y
    def norm(self):
        return math.sqrt(self.x * self.x + self.y * self.y)
points = [Point(i * 0.01, (i % 7) * 0.02) for i in range(2000)]
total = 0.0
for _ in range(20):
    for p in points:
        total += p.norm()
    best = sorted(points, key=lambda p: p.norm())[:10]
grid = np.array([[p.x, p.y] for p in points])
for _ in range(200):
    centred = grid - grid.mean(axis=0)
    spread = np.linalg.norm(centred, axis=1).max()
    angles = np.arctan2(centred[:, 1], centred[:, 0])
result = (round(total, 6), round(float(spread), 6), len(best), float(angles.sum()))
"""


GEOMETRY = """
positions = np.random.default_rng(0).random((50, 3)) * [0.4, 0.6, 0.0] + [0.25, -0.3, 0.02]
best = None
for trial in range(300):
    centre = positions.mean(axis=0)
    offsets = positions - centre
    distances = np.linalg.norm(offsets[:, :2], axis=1)
    order = np.argsort(distances)
    angles = np.degrees(np.arctan2(offsets[:, 1], offsets[:, 0]))
    line = np.polyfit(positions[:, 0], positions[:, 1], 1)
    grid = np.stack(np.meshgrid(np.linspace(0.25, 0.65, 30), np.linspace(-0.3, 0.3, 40)), axis=-1).reshape(-1, 2)
    room = np.min(np.linalg.norm(grid[:, None, :] - positions[None, :, :2], axis=2), axis=1)
    best = grid[np.argmax(room)]
result = (best.tolist(), int(order[0]), float(angles.max()), line.tolist())
"""

SMALL_VECTORS = """
a = np.array([0.4, 0.1, 0.02])
b = np.array([0.5, -0.1, 0.02])
total = 0.0
for i in range(20000):
    d = np.linalg.norm(a[:2] - b[:2])
    c = np.clip(a + 0.01 * i, 0.0, 1.0)
    total += float(np.dot(c, b)) + d
result = round(total, 6)
"""
PROGRAMS = {
    "object-heavy (methods, attribute reads, sorting)": (COMPUTE, "<= 2x"),
    "numpy geometry (a tabletop planner)": (GEOMETRY, "~1x"),
    "numpy calls on 3-vectors (60,000 checked calls)": (SMALL_VECTORS, "worst case, no target"),
}


def round_trip(actions: int) -> list[float]:
    """Seconds per trivial action (host -> worker -> host), after a warm-up."""
    env = CodeActEnv(task="StackBlocks", renderer="tiny", max_turns=actions + 10)
    try:
        env.reset(seed=0)
        env.step("x = 0")
        times = []
        for _ in range(actions):
            start = time.perf_counter()
            env.step("x = x + 1")
            times.append(time.perf_counter() - start)
        return times
    finally:
        env.close()


def guarded_vs_plain(program: str, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` seconds of a program: in the sandbox, and with plain exec."""
    guarded, plain = [], []
    for _ in range(repeats):
        sandbox = Sandbox({}, Limits(time_limit_s=120))
        start = time.perf_counter()
        result = sandbox.run(program, "<action 1>")
        guarded.append(time.perf_counter() - start)
        assert result.error is None, result.error
        namespace = {"np": np}
        start = time.perf_counter()
        exec(compile(program, "<plain>", "exec"), namespace)
        plain.append(time.perf_counter() - start)
    return min(guarded), min(plain)


OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.BitAnd: operator.and_,
    ast.MatMult: operator.matmul,
}


def refuse_objects(op: Any, left: Any, right: Any, _ndarray: type = np.ndarray) -> Any:
    """A binary operator whose result may not be an object array."""
    result = op(left, right)
    if type(result) is _ndarray and result.dtype.kind == "O":
        raise TypeError("an operator made an array of Python objects")
    return result


class OperatorsChecked(ast.NodeTransformer):
    """``a + b`` becomes ``_op_(add, a, b)``; ``n += b`` becomes ``n = _op_(add, n, b)``."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        return self._call(node.op, node.left, node.right, node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.target, ast.Name):
            return node
        value = self._call(node.op, ast.Name(node.target.id, ast.Load()), node.value, node)
        return ast.copy_location(ast.Assign([node.target], value), node)

    def _call(self, op: ast.operator, left: ast.expr, right: ast.expr, node: ast.AST) -> ast.expr:
        name = ast.Name(f"_{type(op).__name__}_", ast.Load())
        return ast.copy_location(ast.Call(ast.Name("_op_", ast.Load()), [name, left, right], []), node)


def operator_check_cost(program: str, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` seconds of plain exec, and of plain exec with every operator checked."""
    tree = ast.fix_missing_locations(OperatorsChecked().visit(ast.parse(program)))
    variants = {"plain": compile(program, "<plain>", "exec"), "checked": compile(tree, "<checked>", "exec")}
    hooks = {"_op_": refuse_objects, **{f"_{kind.__name__}_": op for kind, op in OPERATORS.items()}}
    best = {name: float("inf") for name in variants}
    for _ in range(repeats):
        for name, code in variants.items():
            start = time.perf_counter()
            exec(code, {"np": np, **hooks})
            best[name] = min(best[name], time.perf_counter() - start)
    return best["plain"], best["checked"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    times = np.array(round_trip(args.actions)) * 1000
    print(
        f"trivial action round trip over {args.actions} actions: median {statistics.median(times):.2f} ms, "
        f"p95 {np.percentile(times, 95):.2f} ms (target: median <= 5 ms)"
    )
    for label, (program, target) in PROGRAMS.items():
        guarded, plain = guarded_vs_plain(program, args.repeats)
        print(
            f"{label}: sandbox {guarded * 1000:.1f} ms, plain exec {plain * 1000:.1f} ms, "
            f"ratio {guarded / plain:.2f}x (target {target}; best of {args.repeats})"
        )
        unchecked, checked = operator_check_cost(program, args.repeats)
        added = checked - unchecked
        print(
            f"  with object arrays refused at every operator instead: +{added * 1000:.1f} ms "
            f"(plain exec {unchecked * 1000:.1f} -> {checked * 1000:.1f} ms), "
            f"so the sandbox would be {(guarded + added) / plain:.2f}x"
        )


if __name__ == "__main__":
    main()
