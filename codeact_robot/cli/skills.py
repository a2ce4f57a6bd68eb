"""``codeact-robot skills``: list, show, add, verify, remove, export and import learned skills."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from codeact_robot.cli.display import plural
from codeact_robot.cli.options import add_command, add_render_options, positive_int
from codeact_robot.errors import UsageError, printable, settings_error
from codeact_robot.library.authoring import Added, add_file, import_library
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.skill import DEFAULT_VERIFY_SEEDS, VerifyRequest, default_library_folder, parse_ref
from codeact_robot.library.verification import Verifier
from codeact_robot.worker.config import EnvConfig

EXAMPLES = (
    "codeact-robot skills list",
    "codeact-robot skills list --library team-skills | grep verified",
    "codeact-robot skills show stack_blocks@2",
    "codeact-robot skills add my_skills.py --task StackBlocks --call 'stack_blocks()'",
    "codeact-robot skills verify --library team-skills",
    "codeact-robot skills export shared-skills",
)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``skills`` and its actions."""
    skills = add_command(
        commands,
        "skills",
        "manage a library of learned skills",
        EXAMPLES,
        "A skill is offered to agents once it is verified: its verification program succeeds in fresh episodes "
        "of its tasks. Every action takes --library DIR.",
    )
    actions = skills.add_subparsers(dest="action", required=True, metavar="ACTION", help="what to do (see below)")
    library = argparse.ArgumentParser(add_help=False)
    library.add_argument(
        "--library",
        metavar="DIR",
        help=f"the skill library's folder (default: your own, {default_library_folder()})",
    )

    def action(name: str, summary: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        description = summary[0].upper() + summary[1:] + "."
        parser = actions.add_parser(name, parents=[library], help=summary, description=description)
        parser.set_defaults(handler=handler)
        return parser

    listing = action("list", "one line per skill: name@version, status, first docstring line", list_skills)
    listing.add_argument("--all", action="store_true", help="every version, not only each skill's newest")
    show = action("show", "a skill's status, provenance, calls, verification and source", show_skill)
    show.add_argument("ref", metavar="NAME[@VERSION]", help="the skill (its newest version unless one is named)")
    add = action("add", "add the functions of a Python file written by hand (each pending)", add_skills)
    add.add_argument("file", metavar="FILE.py", help="a Python file of one or more functions with docstrings")
    _verify_options(add)
    verify = action("verify", "verify skills in fresh episodes (the pending ones unless named)", verify_skills)
    verify.add_argument(
        "refs", nargs="*", metavar="NAME[@VERSION]", help="the skills to verify (default: every pending one)"
    )
    _verify_options(verify)
    add_render_options(verify, defaults=True)
    remove = action("remove", "delete a skill's version, or all its versions", remove_skill)
    remove.add_argument("ref", metavar="NAME[@VERSION]", help="the skill (every version unless one is named)")
    export = action("export", "copy the library's skill files into a new folder", export_skills)
    export.add_argument("folder", metavar="DIR", help="an empty or new folder")
    imported = action("import", "add another library's skills as new versions (each pending)", import_skills)
    imported.add_argument("folder", metavar="DIR", help="the other library's folder")


def _verify_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task",
        action="append",
        metavar="TASK",
        help="a task whose fresh episodes verify the skill; repeat for more (default: the task it was written in)",
    )
    parser.add_argument(
        "--call",
        metavar="CODE",
        help="the program each verification episode runs, e.g. \"stack_blocks('top left corner')\" "
        "(default: the program of its episode that used it)",
    )
    parser.add_argument(
        "--seeds",
        type=positive_int,
        metavar="N",
        help=f"fresh episodes per task (default: {DEFAULT_VERIFY_SEEDS})",
    )


def _library(args: argparse.Namespace) -> SkillLibrary:
    library = SkillLibrary(args.library or default_library_folder())
    if args.library and Path(args.library).exists() and not Path(args.library).is_dir():
        raise UsageError(f"{args.library} is a file; --library names a folder")
    for problem in library.problems:
        print(f"warning: {printable(problem)}", file=sys.stderr)
    return library


def list_skills(args: argparse.Namespace) -> int:
    """``name@version  status  first docstring line`` per skill."""
    library = _library(args)
    skills = library.skills()
    if not args.all:
        skills = list({skill.name: skill for skill in skills}.values())
    if not skills:
        where = library.folder if library.folder.is_dir() else f"{library.folder} (the folder does not exist yet)"
        print(f"no learned skills in {where}", file=sys.stderr)
    for skill in skills:
        print(f"{skill.ref}  {skill.status}  {printable(skill.summary)}")
    return 0


def show_skill(args: argparse.Namespace) -> int:
    """Everything the library knows of one version, and its source."""
    library = _library(args)
    skill = library.get(*parse_ref(args.ref))
    meta = skill.meta
    provenance = meta.provenance.model_dump(exclude_none=True)
    lines = [
        f"{skill.ref}  {skill.status}: {skill.reason}",
        f"versions: {', '.join(str(s.version) for s in library.skills() if s.name == skill.name)}",
        "provenance: " + (", ".join(f"{k} {v}" for k, v in provenance.items()) or "unknown"),
        "calls: " + (", ".join(f"{n}@{v}" for n, v in sorted(meta.calls.items())) or "no library skills"),
        f"verified on: {', '.join(skill.verify_tasks) or 'no task yet'}, {meta.verify.seeds} fresh seeds each",
        f"verification program: {meta.verify.call or 'none yet'}",
        *(
            [f"the imported library's verification program (not run; give it with --call): {meta.verify.imported_call}"]
            if meta.verify.imported_call
            else []
        ),
        "",
        library.source(skill).rstrip(),
    ]
    print(printable("\n".join(lines)))
    return 0


def add_skills(args: argparse.Namespace) -> int:
    """Add every function of the file, or, when anything in it is refused, nothing (exit 1)."""
    library = _library(args)
    results = add_file(library, args.file, _request(args, VerifyRequest()))
    status = _report(results, "added")
    if status:
        print(f"nothing added from {args.file}: mend what was refused and add the file again")
    return status


def verify_skills(args: argparse.Namespace) -> int:
    """Verify the named skills (or every pending one); exit 1 unless all are verified."""
    library = _library(args)
    named = [library.get(*parse_ref(ref)) for ref in args.refs or ()]
    chosen = named or [s for s in {s.name: s for s in library.skills()}.values() if s.status == "pending"]
    if not chosen:
        print(f"no pending skills in {library.folder}")
        return 0
    config = EnvConfig(renderer=args.renderer, camera_size=args.size)
    verifier = Verifier(library, config)
    failed = False
    try:
        for skill in chosen:
            request = _request(args, skill.meta.verify) if _asks(args) else None
            print(printable(f"{skill.ref}: verifying ..."), flush=True)
            outcome = verifier.verify(skill, request)
            failed = failed or outcome.skill.status != "verified"
            print(printable(f"{outcome.skill.ref}  {outcome.skill.status}: {outcome.note or outcome.skill.reason}"))
    finally:
        verifier.close()
    return 1 if failed else 0


def remove_skill(args: argparse.Namespace) -> int:
    """Delete a version, or every version of a skill; name the skills that called it."""
    library = _library(args)
    removed = library.remove(*parse_ref(args.ref))
    for ref in removed:
        print(f"removed {ref}")
    for skill in library.skills():
        for name, version in sorted(skill.meta.calls.items()):
            if f"{name}@{version}" in removed:
                print(f"note: {skill.ref} calls {name}@{version}, which is gone: it will not be offered")
    return 0


def export_skills(args: argparse.Namespace) -> int:
    """Copy the library's skill files into a new folder."""
    library = _library(args)
    refs = library.export(args.folder)
    print(f"exported {plural(len(refs), 'skill version')} to {args.folder}")
    return 0


def import_skills(args: argparse.Namespace) -> int:
    """Add another library's skills as new, pending versions."""
    other = Path(args.folder)
    if not other.is_dir():
        raise UsageError(f"{other} is not a folder; import reads a skill library's folder")
    source = SkillLibrary(other)
    if not source.skills():
        problems = (
            f" ({len(source.problems)} file(s) it cannot read, first: {source.problems[0]})" if source.problems else ""
        )
        raise UsageError(f"{other} holds no skill library: no NAME/VERSION.py skill could be read{problems}")
    for problem in source.problems:
        print(f"warning: {printable(problem)}", file=sys.stderr)
    return _report(import_library(_library(args), source), "imported")


def _asks(args: argparse.Namespace) -> bool:
    return bool(args.task or args.call or args.seeds)


def _request(args: argparse.Namespace, current: VerifyRequest) -> VerifyRequest:
    """The verification request with the options given applied.

    Raises:
        UsageError: an option out of range, or a task that does not exist or has no success check.
    """
    given = {"tasks": args.task, "call": args.call, "seeds": args.seeds}
    try:
        return VerifyRequest.model_validate({**current.model_dump(), **{k: v for k, v in given.items() if v}})
    except ValidationError as error:
        raise settings_error("the verification options (--task, --call, --seeds)", VerifyRequest, error) from None


def _report(results: list[Added], verb: str) -> int:
    for result in results:
        if result.refused is not None:
            print(printable(f"refused {result.name}: {result.refused}"))
        elif result.skill is not None and not result.new:
            print(printable(f"skipped {result.name}: the same source is {result.skill.ref} here"))
        elif result.skill is not None:
            print(printable(f"{verb} {result.skill.ref}  {result.skill.status}: {result.skill.reason}"))
    return 1 if any(r.refused is not None for r in results) else 0
