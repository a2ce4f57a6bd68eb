"""The sandbox: runs code actions in a persistent, guarded namespace under limits."""

from __future__ import annotations

import builtins
import contextlib
import gc
import importlib
import inspect
import operator
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence

from codeact_robot.sandbox.builtins import safe_builtins
from codeact_robot.sandbox.compiler import (
    CHECK_SELF,
    DISPLAY,
    SELF_TYPES,
    TYPE,
    CompiledAction,
    CompileError,
    compile_action,
)
from codeact_robot.sandbox.limits import LimitExceeded, SandboxLimits, recursion_limit, wall_clock_limit
from codeact_robot.sandbox.modules import build_modules
from codeact_robot.sandbox.names import PREIMPORTED, SANDBOX_NAMES
from codeact_robot.sandbox.output import CappedOutput, Printer, plain_text
from codeact_robot.sandbox.policy import Policy
from codeact_robot.sandbox.refusals import Refusal, RefusedImport, public_name
from codeact_robot.sandbox.safemodule import SafeModule
from codeact_robot.sandbox.values import from_skill, to_skill

_INPLACE = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


@dataclass
class ActionResult:
    """What running one code action produced.

    Attributes:
        stdout: printed output, at most ``max_output_chars`` characters.
        stdout_cut: how many printed characters were not shown.
        error: the error as the model sees it (traceback cut to its own lines), or None.
        error_type: the exception's class name (``"ValueError"``), or the limit's kind.
        limit: the limit that stopped the program (``"time"``, ``"sim_steps"``,
            ``"memory"``, ``"recursion"``), or None.
        origin: where the error came from: ``"syntax"`` (not valid Python), ``"sandbox"``
            (a rule of the sandbox refused it), ``"skill"`` (a skill refused its arguments),
            ``"program"`` (the program's own error), ``"limit"``; None without an error.
        skill_calls: skill calls the action made.
        skill_false: skill calls that returned False (a physical failure, such as a missed grasp).
        duration_s: wall time of the action.
    """

    stdout: str = ""
    stdout_cut: int = 0
    error: str | None = None
    error_type: str | None = None
    limit: str | None = None
    origin: str | None = None
    skill_calls: int = 0
    skill_false: int = 0
    duration_s: float = 0.0


class Sandbox:
    """A RestrictedPython interpreter whose namespace persists across code actions.

    Args:
        skills: name -> host function; wrapped so they take and return copies.
        limits: per-action limits (time, memory, output, recursion; the simulator keeps the
            step budget).
        seed: seed of the sandbox's ``random`` module.
    """

    def __init__(self, skills: dict[str, Callable[..., Any]], limits: SandboxLimits, seed: int = 0) -> None:
        self.limits = limits
        self.policy = Policy()
        self.modules = build_modules(seed)
        self.functions: dict[str, str] = {}  # source of every top-level def, for save_skill
        self._sources: dict[str, list[str]] = {}
        self._output = CappedOutput(limits.max_output_chars)
        self._skills = skills
        self.api_names = frozenset(skills) | SANDBOX_NAMES
        """Names a learned skill must not take: the skills, the pre-imported modules and the builtins."""
        self._closed = False
        self._skill_calls = self._skill_false = 0
        self._skill_errors: set[int] = set()  # ids of exceptions raised by skills in this action
        self.namespace = self._fresh_namespace(skills)

    def _fresh_namespace(self, skills: dict[str, Callable[..., Any]]) -> dict[str, Any]:
        policy = self.policy
        namespace: dict[str, Any] = {}
        namespace.update(
            {
                "__builtins__": safe_builtins(policy, self._import, namespace, self._write),
                "__name__": "__sandbox__",
                "_getattr_": policy.attribute_guard(),
                "_getitem_": policy.getitem,
                "_getiter_": policy.getiter,
                "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
                "_unpack_sequence_": guarded_unpack_sequence,
                "_write_": policy.write,
                "_apply_": _apply,
                "_inplacevar_": _inplacevar,
                "_print_": lambda _getattr=None: Printer(self._output),
                DISPLAY: self._display,
                CHECK_SELF: policy.check_self,
                SELF_TYPES: policy.self_types,
                TYPE: type,
            }
        )
        namespace.update({alias: self.modules[module] for alias, module in PREIMPORTED.items()})
        namespace.update({name: self._copying(name, function) for name, function in skills.items()})
        return namespace

    def _copying(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """The skill as code actions call it: arguments and result copied across; dead once closed."""

        def skill(*args: Any, **kwargs: Any) -> Any:
            if self._closed:
                raise RuntimeError(f"{name}() was called after its episode ended")
            self._skill_calls += 1
            try:
                result = function(*[to_skill(a) for a in args], **{k: to_skill(v) for k, v in kwargs.items()})
            except Exception as error:
                self._skill_errors.add(id(error))
                raise
            if result is False:
                self._skill_false += 1
            return from_skill(result)

        skill.__name__ = skill.__qualname__ = name
        skill.__doc__ = function.__doc__
        with contextlib.suppress(TypeError, ValueError):  # a callable without a signature keeps (*args, **kwargs)
            skill.__signature__ = inspect.signature(function)  # type: ignore[attr-defined]  (help() shows it)
        return skill

    def _write(self, text: str) -> None:
        self._output.write(text)

    def close(self) -> None:
        """End the sandbox, so that nothing of its programs runs later.

        Skills refuse every call from now on. Then everything that can hold a program's
        objects is dropped (the namespace, the program classes and verdicts the policy
        remembers, the sources) and collected under this sandbox's time limit, so
        finalizers the programs left behind (a generator suspended in ``try/finally``) run
        now, can no longer act on the world, and are stopped if they do not finish.
        """
        self._closed = True
        with self._collecting():
            self.namespace.clear()
            self.functions.clear()
            self._sources.clear()
            self.policy.forget()

    @contextlib.contextmanager
    def _collecting(self) -> Iterator[None]:
        """Drop what the enclosed block drops, then collect, under the time limit: finalizers
        of the program's objects run here, quietly, and are stopped if they do not finish."""
        with contextlib.suppress(LimitExceeded), _silent_finalizers(), wall_clock_limit(self.limits.time_limit_s):
            yield
            gc.collect()

    def run(self, source: str, filename: str) -> ActionResult:
        """Compile and run one code action.

        Args:
            source: the program.
            filename: pseudo file name for tracebacks (``<action 3>``); unique per program.

        Returns:
            Output, error and limit of the run. Errors of the program never propagate.
        """
        return self._run(lambda: compile_action(source, filename))

    def run_compiled(self, compiled: CompiledAction) -> ActionResult:
        """Run a program compiled already by :func:`compile_action` (a learned skill its rule has checked).

        Returns:
            As :meth:`run`.
        """
        return self._run(lambda: compiled)

    def _run(self, compile_program: Callable[[], CompiledAction]) -> ActionResult:
        self._output = output = CappedOutput(self.limits.max_output_chars)
        self._skill_calls = self._skill_false = 0
        self._skill_errors.clear()
        result = ActionResult()
        start = time.perf_counter()
        try:
            compiled = compile_program()
        except CompileError as error:
            result.error, result.error_type = plain_text("\n".join(error.messages)), "SyntaxError"
            result.origin = "syntax" if error.messages[0].startswith("SyntaxError") else "sandbox"
        else:
            self._sources[compiled.filename] = compiled.source.splitlines()
            self.functions.update(compiled.functions)
            self._execute(compiled.code, output, result)
        stdout, result.stdout_cut = output.shown()
        result.stdout = plain_text(stdout)
        result.skill_calls, result.skill_false = self._skill_calls, self._skill_false
        result.duration_s = time.perf_counter() - start
        return result

    def _execute(self, code: Any, output: CappedOutput, result: ActionResult) -> None:
        try:
            with (
                contextlib.redirect_stdout(output),
                wall_clock_limit(self.limits.time_limit_s),
                recursion_limit(self.limits.max_recursion),
            ):
                exec(code, self.namespace)
        except LimitExceeded as stop:
            result.error, result.error_type, result.limit = stop.message, stop.kind, stop.kind
            result.origin = "limit"
        except MemoryError:
            # What the program built still fills the memory through its variables: drop them,
            # or the worker could not even report back.
            filled, self.namespace = self.namespace, self._fresh_namespace(self._skills)
            self.functions.clear()
            with self._collecting():
                filled.clear()
            result.error = (
                f"MemoryError: the code needed more memory than the worker's limit ({self.limits.memory_limit_mb} MB) "
                "and was stopped; its variables and functions were cleared to free the memory"
            )
            result.error_type, result.limit, result.origin = "MemoryError", "memory", "limit"
        except RecursionError as error:
            result.error = self._format(error) + f" (the sandbox allows {self.limits.max_recursion} nested calls)"
            result.error_type, result.limit, result.origin = "RecursionError", "recursion", "limit"
        except Exception as error:
            result.error, result.error_type = self._format(error), public_name(type(error))
            result.origin = _origin(error, id(error) in self._skill_errors)

    def _format(self, error: BaseException) -> str:
        """The traceback cut to the program's own lines, then the exception (never raises)."""
        lines = []
        for frame in traceback.extract_tb(error.__traceback__):
            source = self._sources.get(frame.filename)
            if source is None:
                continue
            name = "" if frame.name == "<module>" else f", in {frame.name}"
            lines.append(f'  File "{frame.filename}", line {frame.lineno}{name}')
            if frame.lineno and 0 < frame.lineno <= len(source):
                lines.append("    " + source[frame.lineno - 1].strip())
        message = _message(error)
        if not lines:
            return plain_text(message)
        return plain_text("Traceback (most recent call last):\n" + "\n".join(lines) + "\n" + message)

    def _display(self, value: Any) -> None:
        if value is not None:
            self._output.write(repr(value) + "\n")

    def _import(self, name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if type(fromlist) is list and not fromlist and level == 0:
            # CPython's PyImport_Import: host C code (numpy loading its own submodules lazily)
            # imports through the running frame's builtins, which are these. It imports for
            # the side effect and reads the module from sys.modules itself, so the program
            # never receives it. Import statements pass a tuple or None, never a list.
            importlib.import_module(name)
            return None
        if level != 0:
            raise RefusedImport("relative imports are not available in the sandbox")
        top = name.split(".")[0]
        if top not in self.modules:
            available = ", ".join(sorted(self.modules))
            raise RefusedImport(f"module '{top}' is not available; available modules: {available}")
        module = self.modules[top]
        for part in name.split(".")[1:]:
            if not module._has(part) or not isinstance(module._member(part), SafeModule):
                raise RefusedImport(f"module '{name}' is not available in the sandbox")
            module = module._member(part) if fromlist else module
        if fromlist:
            missing = [n for n in fromlist if not module._has(n)]
            if missing:
                raise RefusedImport(f"cannot import {', '.join(missing)} from '{name}' in the sandbox")
            return SimpleNamespace(**{n: module._member(n) for n in fromlist})
        return self.modules[top]


@contextlib.contextmanager
def _silent_finalizers() -> Iterator[None]:
    """Finalizers of an ended program that fail (a refused skill call, the time limit) say nothing."""
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _origin(error: Exception, from_skill: bool) -> str:
    """Whether an error came from a rule of the sandbox, a skill or the program itself.

    A name the sandbox withholds (``open``, ``vars``) counts as a rule of the sandbox.
    """
    if isinstance(error, Refusal):
        return "sandbox"
    if isinstance(error, NameError) and getattr(error, "name", None) in vars(builtins):
        return "sandbox"
    return "skill" if from_skill else "program"


def _message(error: BaseException) -> str:
    """``Type: message``, also for exceptions whose message cannot be made (a 5,000-digit
    number, arguments nested too deeply)."""
    name = public_name(type(error))
    try:
        text = str(error)
    except Exception as failure:
        text = f"<the message could not be shown: {public_name(type(failure))}>"
    return f"{name}: {text}" if text else name


def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    if op not in _INPLACE:
        raise SyntaxError(f"unsupported in-place operator {op}")
    return _INPLACE[op](target, value)
