"""Suites: tasks x seeds x agent configurations, as YAML, validated, with a content hash.

The minimal form::

    name: my-suite
    tasks: [PickPlace, StackBlocks]     # task names, or one of: all, seen, unseen, feedback, interactive
    seeds: [0, 1, 2]                    # a list, or {start: 0, count: 20}
    agents:
      - name: codeact
        mode: codeact                   # codeact | json | text
        llm: {backend: openai, base_url: http://localhost:8000/v1, model: xingyaoww/CodeActAgent-Mistral-7b-v0.1}
      - name: expert
        llm: {backend: reference}

An agent may also set ``images``, ``temperature``, ``max_tokens`` (on top of its ``llm``),
``repeats`` (samples per task and seed) and any environment setting at its top level
(``perception``, ``max_turns``, ``colours``, ``time_limit_s`` ...: the fields of
:class:`EnvConfig` and :class:`Limits`, whose defaults stay written there). ``heldout:
true`` marks a suite whose tasks and seeds must never become fine-tuning data.

An agent runs without learned skills unless it sets ``skills: {library: DIR, top_k: 5}``
(``DIR`` relative to the suite file; ``top_k`` defaults to the environment's), so an
ablation with and without a library is two agents of one suite. What the library offers
(its verified skills' versions and sources, read when the suite is loaded) is part of the
suite's identity; the folder's path is not.

The suite's identity is the hash of its canonical definition (tasks resolved, seeds
listed, every setting that changes results); how the model is reached (a server's
``base_url`` or the in-process engine, timeouts, retries, the key's variable) is not
part of it, so the same suite can be pointed at another server and resumed. A suite is a
file someone may hand you: it never chooses which of your secrets is sent where
(:func:`~codeact_robot.llm.config.key_settings`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from codeact_robot.config import ActionMode, AgentConfig, read_yaml, validated
from codeact_robot.configs import PromptStyle
from codeact_robot.envs.tasks import TASKS, get_task
from codeact_robot.errors import UnknownNameError, UsageError, unknown_name_error
from codeact_robot.eval.results.rows import SPLITS, EpisodeKey
from codeact_robot.library.files import SkillLibrary
from codeact_robot.library.retrieval import library_fingerprint
from codeact_robot.llm.config import MAX_SEED, LLMConfig, MaxTokens, Seed, Temperature, key_settings
from codeact_robot.skills.registry import ApiTier
from codeact_robot.worker.config import EnvConfig, Limits, PhysicsConfig
from codeact_robot.worker.task_episode import episode_instance

TASK_GROUPS = ("all", *SPLITS)
# How the agent reaches its model, not what the model does: left out of the suite's hash.
CONNECTION_FIELDS = {"base_url", "api_key_env", "timeout_s", "max_retries", "stream"}
SHIPPED = resources.files("codeact_robot.configs").joinpath("suites")
SKILL_FIELDS = {"skill_library", "skills_top_k"}  # set through an agent's ``skills``
SUITE_ENV_FIELDS = ("api", "physics")  # environment settings a suite may set for all its agents
ENV_FIELDS = [name for name in (*EnvConfig.model_fields, *Limits.model_fields) if name not in {"limits", *SKILL_FIELDS}]


class SeedRange(BaseModel):
    """``{start: 0, count: 20}``: seeds start, start + 1, ..., start + count - 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: Seed = 0
    count: int = Field(gt=0, le=100_000)

    @model_validator(mode="after")
    def _last_seed_fits(self) -> SeedRange:
        last = self.start + self.count - 1
        if last > MAX_SEED:  # stored as a 64-bit integer with the episode's result
            raise ValueError(f"the last seed, {last}, is larger than {MAX_SEED}")
        return self


def _env_settings() -> dict[str, Any]:
    """Every environment setting as an optional field (None: the environment's default)."""
    fields = {**EnvConfig.model_fields, **Limits.model_fields}
    return {name: (fields[name].annotation | None, None) for name in ENV_FIELDS}


class SkillsSpec(BaseModel):
    """``skills: {library: DIR, top_k: 5}``: the skill library an agent's episodes retrieve from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    library: str = Field(min_length=1)
    top_k: int = Field(EnvConfig.model_fields["skills_top_k"].default, ge=1, le=100)


class _AgentBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    mode: ActionMode = AgentConfig.model_fields["mode"].default
    llm: LLMConfig = Field(default_factory=LLMConfig)
    images: bool = AgentConfig.model_fields["images"].default
    prompt: PromptStyle = AgentConfig.model_fields["prompt"].default
    temperature: Temperature | None = None  # over the llm's own
    max_tokens: MaxTokens | None = None
    repeats: int = Field(1, ge=1, le=1000)
    skills: SkillsSpec | None = None


AgentFields = create_model("AgentFields", __base__=_AgentBase, **_env_settings())


class AgentSpec(AgentFields):  # type: ignore[misc, valid-type]
    """One agent configuration of a suite: a column of the results."""

    def env_settings(self) -> dict[str, Any]:
        """The environment settings this agent sets (the rest keep their defaults; no library without ``skills``)."""
        settings = {name: getattr(self, name) for name in ENV_FIELDS if getattr(self, name) is not None}
        if self.skills is None:
            return {**settings, "skills_top_k": 0}
        return {**settings, "skill_library": self.skills.library, "skills_top_k": self.skills.top_k}

    def env_config(self, source: str = "the suite") -> EnvConfig:
        """The agent's environment settings.

        Raises:
            UsageError: a setting the environment refuses, naming ``source``.
        """
        return EnvConfig().with_overrides(self.env_settings(), source)

    def llm_config(self) -> LLMConfig:
        """The agent's model settings, ``temperature`` and ``max_tokens`` applied."""
        extra = {k: v for k, v in (("temperature", self.temperature), ("max_tokens", self.max_tokens)) if v is not None}
        return self.llm.model_copy(update=extra) if extra else self.llm

    def canonical(self) -> dict[str, Any]:
        """What identifies the agent's results: every setting but how the model is reached."""
        data = self.model_dump(mode="json", exclude={"temperature", "max_tokens", "llm", "skills", *ENV_FIELDS})
        data["llm"] = self.llm_config().model_dump(mode="json", exclude=CONNECTION_FIELDS)
        if self.llm.uses_model:  # a model served over HTTP or in this process answers the same
            data["llm"]["backend"] = "model"
        env = self.env_config()
        # Settings added later count only when set, so that the suites before them keep their identity.
        later = {
            name
            for name in SUITE_ENV_FIELDS
            if getattr(env, name) == EnvConfig.model_fields[name].get_default(call_default_factory=True)
        }
        data["env"] = env.model_dump(mode="json", exclude={"skill_library", *later})
        return data


class SuiteFile(BaseModel):
    """A suite as written in YAML (before tasks and seeds are resolved)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    tasks: str | list[str]
    seeds: list[int] | SeedRange
    agents: list[AgentSpec] = Field(min_length=1)
    heldout: bool = False
    api: ApiTier | None = None  # every agent's tier unless it sets its own
    physics: PhysicsConfig | None = None  # every agent's imperfect physics unless it sets its own

    @field_validator("seeds")
    @classmethod
    def _seeds_valid(cls, seeds: list[int] | SeedRange) -> list[int] | SeedRange:
        if isinstance(seeds, list):
            if not seeds:
                raise ValueError("give at least one seed")
            negative = [s for s in seeds if s < 0]
            large = [s for s in seeds if s > MAX_SEED]  # stored as a 64-bit integer with the episode's result
            repeated = sorted(s for s, count in Counter(seeds).items() if count > 1)
            if large:
                raise ValueError(f"{large[0]} is too large; seeds are distinct whole numbers from 0 to {MAX_SEED}")
            if negative or repeated:
                wrong = f"{negative[0]} is negative" if negative else f"{repeated[0]} is given twice"
                raise ValueError(f"{wrong}; seeds are distinct whole numbers from 0 up")
        return seeds

    @model_validator(mode="after")
    def _agent_names_unique(self) -> SuiteFile:
        names = [a.name for a in self.agents]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"agent names must be unique; used twice: {', '.join(twice)}")
        return self


@dataclass(frozen=True)
class Suite:
    """A validated suite, tasks resolved and seeds listed.

    Attributes:
        name: the suite's name.
        tasks: canonical task names, in the order given.
        seeds: the seeds.
        agents: name -> agent configuration, in the order given.
        heldout: never to become fine-tuning data.
        source: where it was read from (for messages).
        libraries: agent name -> what its skill library offers (``library_fingerprint``),
            for the agents with ``skills``.
    """

    name: str
    tasks: tuple[str, ...]
    seeds: tuple[int, ...]
    agents: dict[str, AgentSpec]
    heldout: bool
    source: str
    libraries: dict[str, str] = field(default_factory=dict)

    def definition(self) -> dict[str, Any]:
        """The canonical definition the hash is taken of (plain data)."""
        return {
            "name": self.name,
            "tasks": list(self.tasks),
            "seeds": list(self.seeds),
            "agents": [self._canonical(agent) for agent in self.agents.values()],
            "heldout": self.heldout,
        }

    def _canonical(self, agent: AgentSpec) -> dict[str, Any]:
        data = agent.canonical()
        if agent.skills is not None:
            data["skills"] = {"top_k": agent.skills.top_k, "offered": self.libraries.get(agent.name)}
        return data

    def definition_json(self) -> str:
        """The canonical definition as compact JSON with sorted keys."""
        return json.dumps(self.definition(), sort_keys=True, separators=(",", ":"))

    @property
    def hash(self) -> str:
        """The suite's identity: SHA-256 of its canonical definition (16 hex digits)."""
        return hashlib.sha256(self.definition_json().encode()).hexdigest()[:16]

    def jobs(self) -> list[EpisodeKey]:
        """Every episode of the suite: repeat by repeat, seed by seed, task by task, agent by agent.

        Agents alternate innermost, so a run cut short (``--limit``) has every agent on the
        same tasks and seeds.
        """
        most = max(a.repeats for a in self.agents.values())
        return [
            EpisodeKey(agent.name, task, seed, repeat)
            for repeat in range(most)
            for seed in self.seeds
            for task in self.tasks
            for agent in self.agents.values()
            if repeat < agent.repeats
        ]

    def with_api(self, api: str) -> Suite:
        """The suite with every agent on API tier ``api`` (agents that then coincide stay apart by name)."""
        agents = {name: agent.model_copy(update={"api": api}) for name, agent in self.agents.items()}
        return Suite(self.name, self.tasks, self.seeds, agents, self.heldout, self.source, self.libraries)

    def with_endpoint(self, base_url: str | None, model: str | None, engine: str | None = None) -> Suite:
        """The suite with every model-using agent pointed at another server, model or engine.

        A server named here (the command line) gets the key of the default variable where the
        suite file's own URL got none (see :func:`parse_suite`).
        """
        agents = {}
        for name, agent in self.agents.items():
            if agent.llm.uses_model:
                update: dict[str, Any] = {}
                if base_url is not None:
                    update.update(backend="openai", base_url=base_url)
                    if agent.llm.api_key_env is None:
                        update["api_key_env"] = LLMConfig.model_fields["api_key_env"].default
                if engine is not None:
                    update["backend"] = engine
                if model is not None:
                    update["model"] = model
                llm = validated(type(agent.llm), {**agent.llm.model_dump(), **update}, "--llm, --model and --engine")
                agent = agent.model_copy(update={"llm": llm})
            agents[name] = agent
        return Suite(self.name, self.tasks, self.seeds, agents, self.heldout, self.source, self.libraries)


def load_suite(name_or_path: str, api_key_env: str | None = None) -> Suite:
    """A shipped suite by name (``smoke``) or a suite file, validated and resolved.

    Args:
        name_or_path: the suite.
        api_key_env: the key variable the command line names (``--api-key-env``), if any.

    Raises:
        UsageError: a missing file, invalid YAML, an unknown or misspelt field (naming the
            file, the field, the valid fields and the closest one), an unknown task, an
            agent the environment or its backend cannot run.
    """
    path = Path(name_or_path)
    if not path.is_file():
        shipped = _shipped(name_or_path)
        if shipped is None:
            if path.is_dir():
                raise UsageError(
                    f"{name_or_path} is a folder; give a suite file, or one of: {', '.join(suite_names())}"
                )
            if path.suffix in (".yaml", ".yml") or "/" in name_or_path:
                raise UsageError(
                    f"suite file {name_or_path} does not exist; the shipped suites are: {', '.join(suite_names())}"
                )
            raise unknown_name_error("suite", name_or_path, suite_names())
        path = shipped
    return parse_suite(read_yaml(path), str(path), api_key_env)


def parse_suite(data: dict[str, Any], source: str, api_key_env: str | None = None) -> Suite:
    """Validate a suite's settings and resolve its tasks and seeds (see :func:`load_suite`).

    An agent's ``llm`` that names ``api_key_env`` is refused unless ``api_key_env`` (the
    command line's) names the same; one that names ``base_url`` sends no key unless it does.
    """
    if not data:
        raise UsageError(f"{source} is empty; a suite needs name, tasks, seeds and agents")
    if isinstance(data.get("seeds"), dict):  # checked on its own: its errors then name its fields
        data = {**data, "seeds": validated(SeedRange, data["seeds"], f"{source}: seeds")}
    spec: SuiteFile = validated(SuiteFile, data, source)
    tasks = _resolve_tasks(spec.tasks, source)
    seeds = (
        tuple(range(spec.seeds.start, spec.seeds.start + spec.seeds.count))
        if isinstance(spec.seeds, SeedRange)
        else tuple(spec.seeds)
    )
    agents, libraries = {}, {}
    shared = {name: getattr(spec, name) for name in SUITE_ENV_FIELDS if getattr(spec, name) is not None}
    for index, agent in enumerate(spec.agents):
        where = f"{source}: agents[{index}] ({agent.name})"
        agent = agent.model_copy(update={k: v for k, v in shared.items() if getattr(agent, k) is None})
        if agent.skills is not None:
            agent = _with_library_folder(agent, Path(source).parent, where)
            libraries[agent.name] = library_fingerprint(SkillLibrary(agent.skills.library))
        written = {name: getattr(agent.llm, name) for name in agent.llm.model_fields_set}
        keyed = key_settings([(where, written)], api_key_env, None)
        if keyed:
            agent = agent.model_copy(update={"llm": agent.llm.model_copy(update=keyed)})
        env = agent.env_config(where)
        _check_agent(agent, env, tasks, seeds[0], where)
        agents[agent.name] = agent
    return Suite(spec.name, tasks, seeds, agents, spec.heldout, source, libraries)


def _with_library_folder(agent: AgentSpec, base: Path, where: str) -> AgentSpec:
    """The agent with its library's folder resolved against the suite file's folder; the folder must exist."""
    assert agent.skills is not None
    folder = (base / Path(agent.skills.library).expanduser()).resolve()
    if not folder.is_dir():
        raise UsageError(f"{where}: skills: library {agent.skills.library} is not a folder ({folder})")
    return agent.model_copy(update={"skills": agent.skills.model_copy(update={"library": str(folder)})})


def _resolve_tasks(tasks: str | list[str], source: str) -> tuple[str, ...]:
    names: list[str] = []
    for item in [tasks] if isinstance(tasks, str) else tasks:
        if item in TASK_GROUPS:
            names.extend(t.name for t in TASKS.values() if item == "all" or t.split == item)
            continue
        try:
            task = get_task(item)
        except UnknownNameError:
            error = unknown_name_error("task", item, [*TASKS, *TASK_GROUPS])
            raise UsageError(f"invalid settings in {source}: tasks: {error}") from None
        if not task.has_check:
            raise UsageError(f"invalid settings in {source}: tasks: {task.name} has no success check to evaluate")
        names.append(task.name)
    if not names:
        raise UsageError(f"invalid settings in {source}: tasks: give at least one task")
    return tuple(dict.fromkeys(names))


def _check_agent(agent: AgentSpec, env: EnvConfig, tasks: tuple[str, ...], seed: int, where: str) -> None:
    backend = agent.llm.backend
    if backend == "replay":
        raise UsageError(f"{where}: the replay backend replays one recorded episode; suites need reference or a model")
    if backend == "reference" and agent.mode != "codeact":
        raise UsageError(f"{where}: the reference agent writes programs; use mode codeact, not {agent.mode}")
    for task in tasks:
        episode_instance(env, get_task(task), seed)  # a colour split the task cannot use fails here


def suite_names() -> list[str]:
    """The shipped suites' names (``configs/suites/*.yaml``)."""
    return sorted(p.name.removesuffix(".yaml") for p in SHIPPED.iterdir() if p.name.endswith(".yaml"))


def _shipped(name: str) -> Path | None:
    candidate = SHIPPED.joinpath(f"{name}.yaml")
    return Path(str(candidate)) if candidate.is_file() else None
