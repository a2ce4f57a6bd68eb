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

First, the quality of the ranking: recall@k on a small labelled set of (skill, instruction) pairs
(``LABELLED``: skills as people write them, each with the task it was written in and the tasks it was
verified on, and instructions as the tasks and users word them), for each way of reading words
(as they are, a plural-stripping stemmer, the Snowball English stemmer) and with or without the
tasks a skill was verified on. The library uses the best (see ``benchmarks/RESULTS.md``).

python benchmarks/skills_retrieval.py [--skills 10000] [--k 5] [--queries 200] [--recall-only]
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

from codeact_robot.envs.tasks import TASKS, get_task
from codeact_robot.library.authoring import store_skill
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.retrieval import BM25Retriever, SkillIndex, Stemmer, skill_index, snowball
from codeact_robot.library.skill import Provenance, VerifyRequest
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


# (name, docstring, task it was written in, tasks it was verified on): skills people write.
SKILLS = [
    ("stack_blocks", "Stack all the blocks into one tower.", "StackBlocks", ("StackBlocks",)),
    ("tower_at", "Build a tower of the given blocks at a position.", "StackOnPlace", ("StackOnPlace",)),
    ("top_of", "The block at the top of a tower.", "PickPlace", ("StackBlocks", "StackOnPlace")),
    ("put_into_bowl", "Put a block into a bowl and check it landed inside.", "BlocksInBowl", ("BlocksInBowl",)),
    ("match_colours", "Drop every block into the bowl of its own colour.", "MatchingBowls", ("MatchingBowls",)),
    ("mismatch_colours", "Drop each block into a bowl of a different colour.", "MismatchedBowls", ("MismatchedBowls",)),
    (
        "move_to_place",
        "Move an object to a named table place.",
        "BlocksOnPlace",
        ("BlocksOnPlace", "PickNthFromDirection"),
    ),
    ("spread_to_corners", "Send each block to its own corner.", "BlocksInCorners", ("BlocksInCorners",)),
    ("line_up", "Arrange objects evenly spaced along a line.", "BlocksInLine", ("BlocksInLine",)),
    ("side_of", "Which side of a bowl an object lies on.", "PickByDirectionFromBowl", ("PickByDirectionFromBowl",)),
    ("nearest_to", "The object closest to a reference object.", "PickByDistanceToBowl", ("PickByDistanceToBowl",)),
    (
        "nth_from_side",
        "The n-th block counted from one side of the table.",
        "PickNthFromDirection",
        ("PickNthFromDirection",),
    ),
    ("offset_from", "A point a given distance beside an object.", "PlaceRelativeToBowl", ("PlaceRelativeToBowl",)),
    (
        "look_under_cups",
        "Lift each cup to see what it hides.",
        "FindHiddenBlock",
        ("FindHiddenBlock", "SortHiddenBlocks"),
    ),
    ("hidden_colours", "Colours of the blocks found under cups.", "SortHiddenBlocks", ("SortHiddenBlocks",)),
    ("safe_pick", "Pick an object, retrying once if the grasp misses.", "PickPlace", ("PickPlace",)),
    # added from files (``skills add``): no task written in, only the tasks they were verified on
    ("pile_up", "Pile things on each other, largest first.", None, ("StackBlocks",)),
    ("gather_in", "Gather everything into one container.", None, ("BlocksInBowl",)),
    ("by_hue", "Each item goes where its hue is.", None, ("MatchingBowls",)),
    ("uncover", "Reveal whatever is underneath.", None, ("FindHiddenBlock",)),
    ("stacked_height", "How tall a stacked pile stands, in metres.", None, ()),
    ("wave", "Wave the gripper to greet someone.", None, ()),
]
# (instruction, the skills relevant to it): the tasks' own wording and a user's.
LABELLED = [
    ("stack all the blocks", {"stack_blocks", "top_of", "pile_up"}),
    ("try stacking each block on the last one", {"stack_blocks", "pile_up"}),
    ("make one tower out of the blocks", {"stack_blocks", "tower_at"}),
    ("stack all the blocks on the top right corner", {"tower_at"}),
    ("stack the block on the left side", {"tower_at"}),
    ("put the blocks in the blue bowl", {"put_into_bowl", "gather_in"}),
    ("drop each block in the yellow bowl", {"put_into_bowl"}),
    ("put all the blocks in the bowls with matching colors", {"match_colours", "by_hue"}),
    ("sort the blocks into bowls by colour", {"match_colours"}),
    ("put the blocks in the bowls with mismatched colors", {"mismatch_colours"}),
    ("put all the blocks on the bottom left corner", {"move_to_place"}),
    ("move every block to the middle", {"move_to_place"}),
    ("put all the blocks in different corners", {"spread_to_corners"}),
    ("put all the blocks in a vertical line", {"line_up"}),
    ("line the blocks up diagonally", {"line_up"}),
    ("pick up the block to the left of the green bowl and place it on the bottom side", {"side_of"}),
    ("pick up the block farthest from the orange bowl and place it on the bottom right corner", {"nearest_to"}),
    ("pick up the block closest to the green bowl and place it on the bottom left corner", {"nearest_to"}),
    ("pick up the first block from the top and place it on the bottom side", {"nth_from_side"}),
    ("place the blue block a lot to the left of the orange bowl", {"offset_from"}),
    (
        "the blue block is hidden under one of the cups; find it and put it in the blue bowl",
        {"look_under_cups", "uncover"},
    ),
    ("some of the cups hide blocks; put every hidden block in the bowl of its color", {"hidden_colours"}),
    ("pick up the blue block and place it on the green block", {"safe_pick"}),
    ("grasp the red block, then put it on the yellow one", {"safe_pick"}),
]
STEMMERS: dict[str, Stemmer] = {
    "words as they are": list,
    "plural -s stripped": lambda ws: [
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in ws
    ],
    "Snowball English": snowball(),
}


def labelled_document(name: str, doc: str, written_in: str | None, verified_on: tuple[str, ...]) -> str:
    """A skill's document as ``skill_document`` builds it (``verified_on`` empty: without the verified tasks)."""
    tasks = [task for task in dict.fromkeys([written_in, *verified_on]) if task]
    return "\n".join([name, doc, *(part for task in tasks for part in (task, get_task(task).description))])


def recall(stem: Stemmer, with_verified: bool, k: int) -> float:
    """recall@k over ``LABELLED``: the share of relevant (instruction, skill) pairs found in the top k."""
    documents = [labelled_document(n, d, t, v if with_verified else ()) for n, d, t, v in SKILLS]
    retriever = BM25Retriever(documents, stem)
    found = total = 0
    for instruction, relevant in LABELLED:
        top = {SKILLS[i][0] for i in retriever.top(instruction, k)}
        found += len(top & relevant)
        total += len(relevant)
    return found / total


def print_recall() -> None:
    """The recall table: each way of reading words, with and without the tasks a skill was verified on."""
    print(f"recall@k on {len(LABELLED)} labelled instructions over {len(SKILLS)} skills:")
    print(f"  {'words':22s} {'verified tasks':15s} {'@1':>6s} {'@3':>6s} {'@5':>6s}")
    for label, stem in STEMMERS.items():
        for with_verified in (False, True):
            figures = " ".join(f"{recall(stem, with_verified, k):6.2f}" for k in (1, 3, 5))
            print(f"  {label:22s} {'yes' if with_verified else 'no':15s} {figures}")


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
    parser.add_argument("--recall-only", action="store_true", help="print the recall table only")
    args = parser.parse_args()
    print_recall()
    if args.recall_only:
        return
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
