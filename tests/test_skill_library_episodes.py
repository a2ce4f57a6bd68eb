"""Learned skills across real episodes: saved by a scripted model, verified by the physics, retrieved, used.

Everything is real (episode workers, the sandbox, PyBullet, the model's HTTP API served by
the fake OpenAI server) but the model, whose turns are scripted.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from fake_openai_server import FakeOpenAIServer

from codeact_robot.agent import make_backend, run_episode
from codeact_robot.cli import main
from codeact_robot.environments.codeact import CodeActEnv
from codeact_robot.envs.tasks import get_task
from codeact_robot.library.authoring import store_skill
from codeact_robot.library.files import INDEX_FILE, SkillLibrary
from codeact_robot.library.skill import Provenance, Verdict, VerifyRequest
from codeact_robot.library.verification import Verifier, verification_seeds
from codeact_robot.llm import LLMConfig
from codeact_robot.worker.config import EnvConfig

STACK_BLOCKS = '''def stack_blocks(place=None):
    """Stack all the blocks into one tower, on a table place if one is given."""
    blocks = [n for n in get_object_names() if n.endswith(' block')]
    if place is not None:
        pick_and_place(blocks[0], get_location(place))
    for lower, upper in zip(blocks, blocks[1:]):
        pick_and_place(upper, lower)
'''
TINY = EnvConfig(renderer="tiny")


def model(server: FakeOpenAIServer):
    return make_backend(LLMConfig(backend="openai", base_url=server.base_url, model="fake-model"))


def test_a_helper_saved_in_one_task_is_verified_then_retrieved_and_used_in_one_line_in_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "skills"
    writes = f"A helper first.\n<execute>\n{STACK_BLOCKS}print(save_skill(stack_blocks))\n</execute>"
    uses = "Now use it.\n<execute>\nstack_blocks()\n</execute>"
    with FakeOpenAIServer([{"content": writes}, {"content": uses}]) as server:
        env = CodeActEnv("StackBlocks", TINY, skill_library=str(library), model="fake-model")
        try:
            written = run_episode(env, model(server), seed=0)
        finally:
            env.close()
    assert written.success and written.turns[0].report.stdout.startswith("saved skill stack_blocks")
    saved = SkillLibrary(library).get("stack_blocks")
    provenance = saved.meta.provenance
    assert (provenance.task, provenance.seed, provenance.model) == ("StackBlocks", 0, "fake-model")
    assert provenance.episode == written.episode_id and len(provenance.episode) == 32
    assert (saved.status, saved.meta.verify.call) == ("pending", "stack_blocks()")  # the program that used it

    assert main(["skills", "verify", "--library", str(library), "--renderer", "tiny"]) == 0
    seeds = ", ".join(map(str, verification_seeds(saved, 3)))
    assert f"stack_blocks@1  verified: the task's check held on StackBlocks, seeds {seeds}" in capsys.readouterr().out

    place = get_task("StackOnPlace").instance(1).params["place"]
    with FakeOpenAIServer([{"content": f"<execute>\nstack_blocks({place!r})\n</execute>"}]) as server:
        env = CodeActEnv("StackOnPlace", TINY, skill_library=str(library))
        try:
            used = run_episode(env, model(server), seed=1)
        finally:
            env.close()
        system = server.requests[0]["messages"][0]["content"]
    header = "stack_blocks(place=None)\n    Stack all the blocks into one tower, on a table place if one is given."
    assert f"### learned skills (saved in earlier episodes)\n{header}\n" in system
    assert used.skills == ["stack_blocks@1"]
    assert used.success and len(used.turns) == 1, used.check


def test_a_skill_that_fails_verification_is_rejected_with_the_seed_and_error_and_never_offered(
    tmp_path: Path,
) -> None:
    library = SkillLibrary(tmp_path)
    instance = get_task("StackBlocks").instance(0)
    names = sorted(p.name for p in instance.placements if p.kind == "block")
    # Written against the names of the blocks in seed 0: other seeds have other blocks.
    body = "".join(f"\n    pick_and_place({upper!r}, {lower!r})" for lower, upper in itertools.pairwise(names))
    source = f'def stack_these():\n    """Stack all the blocks into one tower."""{body}\n'
    written = Provenance(task="StackBlocks", seed=0)
    skill = store_skill(library, source, written, VerifyRequest(call="stack_these()"))
    verifier = Verifier(library, TINY)
    try:
        outcome = verifier.verify(skill)
    finally:
        verifier.close()
    rejected = outcome.skill
    failure = rejected.meta.verdict.failure
    assert rejected.status == "rejected"
    assert (failure.task, failure.seed) == ("StackBlocks", verification_seeds(skill, 3)[0])
    assert "no object named" in failure.error or "the task's check did not hold" in failure.error
    assert rejected.reason.startswith(f"failed on StackBlocks seed {failure.seed}: ")
    env = CodeActEnv("StackBlocks", TINY, skill_library=str(tmp_path))
    try:
        _, info = env.reset(seed=3)  # "stack all the blocks": the words of its docstring
        assert info["skills"] == [] and info["skill_refs"] == []
    finally:
        env.close()


def test_a_skill_that_tries_to_escape_the_sandbox_is_refused_at_the_door_or_rejected_by_its_verification(
    tmp_path: Path,
) -> None:
    env = CodeActEnv("StackBlocks", TINY, skill_library=str(tmp_path), time_limit_s=10.0)
    try:
        env.reset(seed=0)
        peek = "def peek():\n    '''Stack the blocks.'''\n    return ().__class__\n"
        _, _, _, _, info = env.step(peek + "save_skill(peek)")
        assert '"__class__" is an invalid attribute name' in info["error"] and info["saved_skills"] == []
        reach = "def reach():\n    '''Stack the blocks.'''\n    return getattr(pick_and_place, '__globals__')\n"
        _, _, _, _, info = env.step(reach + "print(save_skill(reach))\nreach()")
        assert info["saved_skills"] == ["reach@1"] and info["error_type"] == "AttributeError", info["error"]
    finally:
        env.close()
    library = SkillLibrary(tmp_path)
    assert [s.ref for s in library.skills()] == ["reach@1"]
    verifier = Verifier(library, TINY)
    try:
        rejected = verifier.verify(library.get("reach")).skill
    finally:
        verifier.close()
    assert rejected.status == "rejected" and "__globals__" in rejected.reason, rejected.reason


def test_a_skill_of_the_free_scene_stays_pending_until_tasks_and_a_call_are_named(tmp_path: Path) -> None:
    library = SkillLibrary(tmp_path)
    skill = store_skill(library, STACK_BLOCKS, Provenance(task="Tabletop", seed=0))
    assert skill.reason == "written in Tabletop, which has no success check: name the tasks to verify it on"
    verifier = Verifier(library, TINY)
    try:
        assert verifier.verify(skill).ran is False
        request = VerifyRequest(tasks=("stackblocks",), call="stack_blocks()", seeds=1)
        outcome = verifier.verify(skill, request)
    finally:
        verifier.close()
    assert outcome.ran and outcome.skill.status == "verified"
    assert outcome.skill.meta.verify.tasks == ("StackBlocks",) and outcome.skill.meta.verdict.seeds != (0,)


def test_a_library_with_broken_files_and_no_index_still_loads_every_other_skill_and_names_the_broken_ones(
    tmp_path: Path,
) -> None:
    library = SkillLibrary(tmp_path)
    for name in ("stack_blocks", "stack_twice", "stack_thrice"):
        skill = store_skill(library, STACK_BLOCKS.replace("stack_blocks", name), Provenance(task="StackBlocks"))
        library.update(skill, verdict=Verdict(status="verified", source_sha256=skill.sha256))
    (tmp_path / "stack_twice" / "1.json").write_text("{corrupt")
    (tmp_path / "stack_thrice" / "1.py").write_text(STACK_BLOCKS.replace("stack_blocks(", "stack_thrice(("))
    (tmp_path / INDEX_FILE).unlink()
    env = CodeActEnv("StackBlocks", TINY, skill_library=str(tmp_path))
    try:
        _, info = env.reset(seed=2)
        assert info["skill_refs"] == ["stack_blocks@1"]
        assert [p.split(": ")[0] for p in info["skill_problems"]] == [
            str(tmp_path / "stack_thrice" / "1.py"),
            str(tmp_path / "stack_twice" / "1.json"),
        ]
        _, reward, _, _, info = env.step("stack_blocks()")
        assert info["error"] is None and reward == 1.0
    finally:
        env.close()


# --- a verdict is about the skill ------------------------------------------------------------------

STACKS_ITSELF = (
    "wave()\nblocks = [n for n in get_object_names() if n.endswith(' block')]\n"
    "for lower, upper in zip(blocks, blocks[1:]):\n    pick_and_place(upper, lower)"
)
"""A verification program that solves StackBlocks on its own, whatever ``wave`` does."""
WAVE = 'def wave():\n    """Wave the gripper."""\n    return True\n'


def test_imported_skills_wait_for_a_call_the_user_gives_and_a_program_that_needs_no_skill_proves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = SkillLibrary(tmp_path / "theirs")
    store_skill(theirs, STACK_BLOCKS, Provenance(task="StackBlocks"), VerifyRequest(call="stack_blocks()", seeds=1))
    store_skill(theirs, WAVE, Provenance(task="StackBlocks"), VerifyRequest(call=STACKS_ITSELF, seeds=1))
    mine = str(tmp_path / "mine")
    assert main(["skills", "import", str(tmp_path / "theirs"), "--library", mine]) == 0
    imported = SkillLibrary(mine).get("wave")
    assert imported.status == "pending" and imported.meta.verify.call is None
    assert imported.meta.verify.imported_call == STACKS_ITSELF
    capsys.readouterr()
    assert main(["skills", "show", "wave", "--library", mine]) == 0
    assert "the imported library's verification program (not run; give it with --call): wave()\n" in (
        capsys.readouterr().out
    )

    # their program is not run: nothing is verified until the user gives one
    assert main(["skills", "verify", "--library", mine, "--renderer", "tiny"]) == 1
    out = capsys.readouterr().out
    for ref in ("stack_blocks@1", "wave@1"):
        assert (
            f"{ref}  pending: its verification program came with an imported library and is not run: read it "
            f"(skills show {ref}), then give it or your own with --call"
        ) in out
    assert {s.status for s in SkillLibrary(mine).skills()} == {"pending"}

    # given, a program that stacks the blocks itself proves nothing about wave
    verify = ["skills", "verify", "--library", mine, "--renderer", "tiny", "--seeds", "1"]
    assert main([*verify, "wave", "--call", STACKS_ITSELF]) == 1
    rejected = SkillLibrary(mine).get("wave")
    seed = verification_seeds(rejected, 1)[0]
    assert rejected.status == "rejected" and rejected.reason == (
        f"failed on StackBlocks seed {seed}: the verification program solves the task without the skill too "
        "(with wave replaced by a function that does nothing), so it proves nothing about the skill: give a "
        "program that depends on it (--call)"
    )
    assert main([*verify, "stack_blocks", "--call", "stack_blocks()"]) == 0  # without it, nothing is stacked
    assert SkillLibrary(mine).get("stack_blocks").status == "verified"


def test_a_verification_that_cannot_run_leaves_the_skill_pending_with_the_error(tmp_path: Path) -> None:
    # The program overflows the C stack: the worker dies of SIGSEGV, which says nothing about the skill.
    overflow = "g = (x for x in [1])\nfor i in range(10**5):\n    g = (x for x in g)\nnext(g)"
    library = SkillLibrary(tmp_path)
    skill = store_skill(library, WAVE, Provenance(task="StackBlocks"), VerifyRequest(call=overflow, seeds=1))
    verifier = Verifier(library, EnvConfig(renderer="tiny", limits={"time_limit_s": 10.0}))
    try:
        outcome = verifier.verify(skill)
    finally:
        verifier.close()
    stopped = outcome.skill
    assert not outcome.ran and stopped.status == "pending" and stopped.meta.verdict is None
    assert stopped.meta.interrupted.seed == verification_seeds(skill, 1)[0]
    assert "killed by SIGSEGV" in stopped.meta.interrupted.error
    assert stopped.reason.startswith(
        f"the verification could not run on StackBlocks seed {stopped.meta.interrupted.seed}, which says nothing "
        "about the skill: "
    ) and stopped.reason.endswith("; verify it again")
