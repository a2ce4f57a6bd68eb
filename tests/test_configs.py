"""The configuration files: every one shipped in ``configs/`` loads with the option docs/configuration.md names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from codeact_robot import configs
from codeact_robot.cli import build_parser
from codeact_robot.cli.serve import vllm_command
from codeact_robot.cli.settings import resolve_config
from codeact_robot.config import RunConfig
from codeact_robot.errors import UsageError
from codeact_robot.eval.reports.prices import ModelPrice, PriceTable, load_prices

ROOT = Path(__file__).resolve().parent.parent
SECTION = (ROOT / "docs" / "configuration.md").read_text()
PAIRED = dict(re.findall(r"^\| `(configs/[^`]+\.yaml)` \| `([^`]+)` \|", SECTION, re.MULTILINE))
SHIPPED = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "configs").glob("*.yaml"))


def resolved(*argv: str) -> RunConfig:
    """The configuration ``codeact-robot ARGV`` would run with (nothing is started)."""
    return resolve_config(build_parser().parse_args(argv), [])


def test_the_docs_pair_every_shipped_yaml_file_with_an_option() -> None:
    assert SHIPPED and sorted(PAIRED) == SHIPPED


@pytest.mark.parametrize("path", SHIPPED)
def test_every_shipped_yaml_file_loads_with_its_option(path: str) -> None:
    usage, full = PAIRED[path], str(ROOT / path)
    data = yaml.safe_load(Path(full).read_text())
    if usage == "run --config":
        config = resolved("run", "--config", full)
        assert config.task == data["task"] and config.llm.backend == data["llm"]["backend"]
    elif usage == "run --llm-config":
        config = resolved("run", "--task", "PickPlace", "--llm-config", full)
        assert config.llm.model_dump(include=set(data)) == data
        chat = resolve_config(build_parser().parse_args(["chat", "--llm-config", full]), [], default_task="Tabletop")
        assert chat.llm == config.llm
    elif usage == "serve":
        for model in data["models"]:
            command = vllm_command(model, "127.0.0.1", 8000, [])
            assert command[:3] == ["vllm", "serve", model]
            assert command[command.index("--max-model-len") + 1] == str(data["models"][model]["max_model_len"])
            template = Path(command[command.index("--chat-template") + 1])
            assert template.name == data["models"][model]["chat_template"] and "{{" in template.read_text()
            assert template.parent == Path(configs.__file__).parent  # the shipped file, never a shared copy
    elif usage == "report --prices":
        assert load_prices(full) == PriceTable()  # shipped empty: no price is given as fact
    else:
        pytest.fail(f"the docs pair {path} with {usage!r}, which this test does not know")


def test_the_documented_example_is_a_complete_valid_run_configuration(tmp_path: Path) -> None:
    example = SECTION.split("```yaml\n")[1].split("```")[0]
    path = tmp_path / "example.yaml"
    path.write_text(example)
    config = resolved("run", "--config", str(path))
    assert (config.env.perception, config.env.max_turns, config.llm.backend) == ("vision", 10, "openai")


def test_options_given_override_a_file_and_options_not_given_do_not(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("task: SortHiddenBlocks\nseed: 5\nenv: {perception: vision, camera_size: [640, 480]}\n")
    from_file = resolved("run", "--config", str(path), "--agent", "reference")
    assert (from_file.task, from_file.seed, from_file.env.perception) == ("SortHiddenBlocks", 5, "vision")
    assert from_file.env.camera_size == (640, 480) and from_file.env.renderer == "auto"
    flags = resolved("run", "--config", str(path), "--agent", "reference", "--perception", "state", "--seed", "0")
    assert (flags.seed, flags.env.perception, flags.env.camera_size) == (0, "state", (640, 480))


def test_an_llm_file_sets_the_model_and_flags_still_win(tmp_path: Path) -> None:
    path = tmp_path / "llm.yaml"
    path.write_text("backend: openai\nbase_url: http://gpu:8000/v1\nmodel: a\ntemperature: 0.7\n")
    config = resolved("run", "--task", "PickPlace", "--llm-config", str(path), "--model", "b")
    assert (config.llm.base_url, config.llm.model, config.llm.temperature) == ("http://gpu:8000/v1", "b", 0.7)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("bakend: openai\n", ["bakend: unknown setting (did you mean 'backend'?)", "settings here are: backend"]),
        ("temperature: 9\n", ["temperature: 9 is out of range; it must be at most 2"]),
        ("- openai\n", ["must hold a mapping of settings, not list"]),
    ],
)
def test_a_bad_llm_file_names_itself_and_the_setting(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = tmp_path / "llm.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as error:
        resolved("run", "--task", "PickPlace", "--llm-config", str(path))
    assert str(path) in str(error.value) and "\n" not in str(error.value)
    for fragment in fragments:
        assert fragment in str(error.value)


def test_a_bad_recording_is_named_as_the_source(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    record = {"config": {"env": {"perception": "sonar"}}, "task": "PickPlace", "seed": 1}
    path.write_text(json.dumps({**record, "instruction": "x", "mode": "codeact"}) + "\n")
    with pytest.raises(UsageError, match=f"invalid settings in the recording {path}: env.perception"):
        resolved("run", "--replay", str(path))


def test_the_chatml_template_renders_list_content_as_servers_render_it() -> None:
    # vLLM and transformers render chat templates in jinja2's immutable sandbox; llama.cpp's renderer
    # failed on list content ("can only concatenate str (not "list") to str") before the template handled it
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    template = ImmutableSandboxedEnvironment().from_string(configs.read_text("chatml.jinja"))
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    messages = [
        {"role": "system", "content": "You are a robot."},
        {"role": "user", "content": [{"type": "text", "text": "Observation:"}, image, {"type": "text", "text": "x"}]},
        {"role": "assistant", "content": "<execute>\nprint(1)\n</execute>"},
    ]
    assert template.render(messages=messages, add_generation_prompt=True) == (
        "<|im_start|>system\nYou are a robot.<|im_end|>\n"
        "<|im_start|>user\nObservation:\n[image omitted: this model reads text only]\nx<|im_end|>\n"
        "<|im_start|>assistant\n<execute>\nprint(1)\n</execute><|im_end|>\n"
        "<|im_start|>assistant\n"
    )
    assert template.render(messages=messages[:1], add_generation_prompt=False).endswith("robot.<|im_end|>\n")


def test_a_task_named_in_any_case_is_shown_by_its_own_name() -> None:
    assert resolved("run", "--task", "stackblocks", "--agent", "reference").task == "StackBlocks"


def test_a_model_url_without_its_scheme_says_what_it_must_start_with() -> None:
    with pytest.raises(UsageError) as caught:
        resolved("run", "--task", "PickPlace", "--llm", "localhost:8000/v1", "--model", "m")
    assert str(caught.value) == (
        "invalid settings in the command line: llm.base_url: 'localhost:8000/v1' must start with http:// or "
        "https://, e.g. http://localhost:8000/v1"
    )


def _numeric_paths(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every numeric setting of ``model`` and its nested settings, with a value far beyond any sensible one."""
    for name, field in model.model_fields.items():
        kinds = [field.annotation, *typing.get_args(field.annotation)]
        nested = [kind for kind in kinds if isinstance(kind, type) and issubclass(kind, BaseModel)]
        for kind in nested:
            yield from _numeric_paths(kind, (*path, name))
        if int in kinds or float in kinds or any(typing.get_args(k) and int in typing.get_args(k) for k in kinds):
            yield (*path, name), [10**30, 10**30] if typing.get_origin(field.annotation) is tuple else 10**30


def _setting(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    return {path[0]: value} if len(path) == 1 else {path[0]: _setting(path[1:], value)}


@pytest.mark.parametrize("model", [RunConfig, ModelPrice], ids=lambda m: m.__name__)
def test_numbers_out_of_range_every_numeric_setting_has_an_upper_bound(model: type[BaseModel]) -> None:
    paths = list(_numeric_paths(model))
    assert len(paths) > 5 if model is RunConfig else len(paths) == 2
    accepted = []
    for path, huge in paths:
        data = _setting(path, huge)
        if model is ModelPrice:
            data = {"prompt": 1.0, "completion": 1.0, **data}
        try:
            model.model_validate(data)
        except ValidationError:
            continue
        accepted.append(".".join(path))
    assert accepted == []


def test_numbers_out_of_range_a_huge_memory_cap_leaves_the_worker_uncapped_rather_than_crashing() -> None:
    script = (
        "import resource\nfrom codeact_robot.sandbox.limits import cap_memory\n"
        "cap_memory(10**30)\nprint(resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == "True\n"
