"""Skill retrieval from a large library: what an episode's reset pays to be offered its top-k skills.

Writes a library of N verified skills as plain files (names and docstrings drawn from a
vocabulary of tabletop words), then measures, side by side:
- reading the catalog from the files (no index: the first read, or after a clone; each source is
  checked against the sandbox's rule),
- reading it through the derived index (a library object's first read: a stat of each file),
- bringing a library object's catalog up to date when nothing changed (a stat of each skill folder),
  and after another process saved one skill (the library folder and that skill's folder listed again),
- saving one skill into the library, then setting its verification program (what an episode's step
  does when its program saves a skill and calls it),
- building the BM25 retriever over the offerable skills,
- one retrieval of k skills for a task instruction (the figure the target is set for),
- an episode's retrieval at reset once the process has built the retriever (bring the catalog up to
  date, find the retriever in the process's cache, retrieve, read the k sources),
- and, for scale, verifying one skill (3 fresh StackBlocks episodes in one episode worker).

python benchmarks/skills_retrieval.py [--skills 10000] [--k 5] [--queries 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from codeact_robot.envs.tasks import TASKS
from codeact_robot.library.authoring import store_skill
from codeact_robot.library.files import Provenance, SkillLibrary, VerifyRequest
from codeact_robot.library.retrieval import SkillIndex, skill_index
from codeact_robot.library.verification import Verifier
from codeact_robot.worker.config import EnvConfig

STACK_BLOCKS = '''def stack_blocks():
    """Stack all the blocks into one tower."""
    blocks = [n for n in get_object_names() if n.endswith(' block')]
    for lower, upper in zip(blocks, blocks[1:]):
        pick_and_place(upper, lower)
'''
VERBS = "stack pick place put push sort line move lift gather spread align swap find hide clear group".split()
OBJECTS = "block blocks bowl bowls cup tower corner side middle row line colour pile edge target".split()
WORDS = "red green blue yellow left right top bottom near far all every one first last tall small".split()


def write_library(folder: Path, count: int, rng: random.Random) -> None:
    """``count`` verified skills as plain files, the way a library handed over arrives."""
    tasks = list(TASKS)
    for index in range(count):
        name = f"{rng.choice(VERBS)}_{rng.choice(OBJECTS)}_{index}"
        doc = " ".join(rng.choice(VERBS + OBJECTS + WORDS) for _ in range(rng.randint(6, 16)))
        source = f'def {name}(target=None):\n    """{doc.capitalize()}."""\n    return target\n'
        (folder / name).mkdir(parents=True)
        (folder / name / "1.py").write_text(source)
        digest = hashlib.sha256(source.encode()).hexdigest()
        meta = {
            "name": name,
            "version": 1,
            "provenance": {"task": rng.choice(tasks), "seed": index},
            "verdict": {"status": "verified", "source_sha256": digest},
        }
        (folder / name / "1.json").write_text(json.dumps(meta, indent=2, sort_keys=True))


def timed(function, repeats: int) -> tuple[float, object]:
    """Median wall time in seconds over ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skills", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(0)
    seeds = range(args.queries // len(TASKS) + 1)
    instructions = [task.instance(seed).instruction for seed in seeds for task in TASKS.values()]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "library"
        start = time.perf_counter()
        write_library(folder, args.skills, rng)
        print(f"library of {args.skills:,} skills written in {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        skills = SkillLibrary(folder).skills()  # no index yet: every file is read, the index written
        print(f"catalog from the files (no index):   {time.perf_counter() - start:8.3f} s")
        indexed, _ = timed(lambda: SkillLibrary(folder).skills(), 5)
        print(f"catalog through the index:           {indexed:8.3f} s")
        time.sleep(2.5)  # a library in use: its folders last changed more than 2 s before they are listed
        library = SkillLibrary(folder)
        library.skills()
        unchanged, _ = timed(library.refresh, 5)
        print(f"refresh, nothing changed:            {unchanged:8.3f} s")
        other = SkillLibrary(folder)  # another process, saving into the same folder
        elsewhere = []
        for round in range(5):
            store_skill(other, STACK_BLOCKS.replace("stack_blocks", f"stack_elsewhere_{round}"), Provenance())
            elsewhere.append(timed(library.refresh, 1)[0])
        print(f"refresh, one skill saved elsewhere:  {statistics.median(elsewhere):8.3f} s")

        def save_one(round: int) -> None:
            name = f"stack_here_{round}"
            saved = store_skill(library, STACK_BLOCKS.replace("stack_blocks", name), Provenance())
            library.update(saved, verify=VerifyRequest(tasks=("StackBlocks",), call=f"{name}()"))

        saving = [timed(lambda round=round: save_one(round), 1)[0] for round in range(5)]
        print(f"saving one skill (save, update):     {statistics.median(saving):8.3f} s")
        built, index = timed(lambda: SkillIndex(skills), 3)
        print(f"BM25 retriever over {len(index.offered):,} skills:     {built:8.3f} s")

        latencies = []
        for instruction in instructions[: args.queries]:
            start = time.perf_counter()
            offered = index.retrieve(instruction, args.k)
            latencies.append(time.perf_counter() - start)
            assert len(offered) <= args.k
        latencies.sort()
        median, p95, worst = (latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)], latencies[-1])
        print(
            f"retrieval of k={args.k} ({len(latencies)} instructions): median {median * 1000:.2f} ms, "
            f"p95 {p95 * 1000:.2f} ms, max {worst * 1000:.2f} ms (target: under 50 ms)"
        )
        example = instructions[1]
        print(f"  e.g. {example!r} -> {[s.ref for s in index.retrieve(example, args.k)]}")

        skill_index(library.skills())  # the first episode of a process builds it

        def at_reset() -> None:
            library.refresh()
            for skill in skill_index(library.skills()).retrieve(example, args.k):
                library.source(skill)

        reset, _ = timed(at_reset, 5)
        print(f"an episode's retrieval at reset (retriever cached): {reset:8.3f} s")

        small = SkillLibrary(Path(scratch) / "small")
        skill = store_skill(
            small, STACK_BLOCKS, Provenance(task="StackBlocks", seed=0), VerifyRequest(call="stack_blocks()")
        )
        verifier = Verifier(small, EnvConfig(renderer="tiny"))
        try:
            start = time.perf_counter()
            outcome = verifier.verify(skill)
            took = time.perf_counter() - start
            print(f"verifying one skill (3 StackBlocks episodes): {took:.1f} s, {outcome.skill.status}")
        finally:
            verifier.close()


if __name__ == "__main__":
    main()
