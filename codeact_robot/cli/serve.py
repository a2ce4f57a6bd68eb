"""``codeact-robot serve``: start vLLM's OpenAI-compatible server for a CodeAct model."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import time
from urllib.parse import urlsplit

from codeact_robot.cli.options import RUN, add_command, port_number, positive_float
from codeact_robot.configs import path_of
from codeact_robot.errors import UsageError
from codeact_robot.llm.base import LLMError
from codeact_robot.llm.model_server import served_models
from codeact_robot.llm.serving import serve_settings


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register ``serve``."""
    serve = add_command(
        commands,
        "serve",
        "start vLLM's OpenAI-compatible server for a model (GPU host)",
        (
            "codeact-robot serve",
            "codeact-robot serve --model Qwen/Qwen2.5-7B-Instruct --port 8001",
            "codeact-robot serve --dry-run -- --tensor-parallel-size 2",
        ),
        "Runs `vllm serve` with the model's settings from configs/serve.yaml, waits until it answers and "
        "prints the --llm URL to give `run` and `chat`; Ctrl-C stops it.",
    )
    serve.add_argument("--model", default=RUN.llm.model, help="the model to serve (default: %(default)s)")
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default: %(default)s)")
    serve.add_argument(
        "--port",
        type=port_number,
        default=urlsplit(RUN.llm.base_url).port,  # where a run looks for a model by default
        help="port to listen on (default: %(default)s)",
    )
    serve.add_argument(
        "--ready-timeout",
        type=positive_float,
        default=1800.0,
        metavar="SECONDS",
        help="how long to wait for the model to load (default: %(default)g)",
    )
    serve.add_argument("--dry-run", action="store_true", help="print the vllm command and exit")
    serve.add_argument("extra", nargs=argparse.REMAINDER, help="after --: more arguments for `vllm serve`")
    serve.set_defaults(handler=serve_command)


def vllm_command(model: str, host: str, port: int, extra: list[str]) -> list[str]:
    """The ``vllm serve`` command line, with the settings ``configs/serve.yaml`` has for the model."""
    settings = serve_settings(model)
    command = ["vllm", "serve", model, "--host", host, "--port", str(port)]
    command += ["--served-model-name", settings.served_model_name or model]
    command += ["--max-model-len", str(settings.max_model_len), "--dtype", settings.dtype]
    command += ["--gpu-memory-utilization", str(settings.gpu_memory_utilization)]
    if settings.enable_prefix_caching:
        command.append("--enable-prefix-caching")
    if settings.chat_template:
        # The shipped file itself: a copy in a shared temporary folder could be swapped by another user.
        command += ["--chat-template", str(path_of(settings.chat_template))]
    return command + [a for a in extra if a != "--"]


def serve_command(args: argparse.Namespace) -> int:
    """Start the server, wait until it answers, print the base URL, then keep it running."""
    command = vllm_command(args.model, args.host, args.port, args.extra)
    if args.dry_run:
        print(" ".join(command))
        return 0
    if shutil.which("vllm") is None:
        raise UsageError(
            "vLLM is not installed here. On a GPU host run: pip install 'codeact-robot[vllm]', then "
            "`codeact-robot serve` again; or point `run --llm URL` at a server elsewhere"
        )
    host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base_url = f"http://{host}:{args.port}/v1"
    print(f"starting: {' '.join(command)}", flush=True)
    process = subprocess.Popen(command)
    try:
        _wait_until_ready(process, base_url, args.ready_timeout)
        print(f"ready: point runs at --llm {base_url} --model {args.model}", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_ready(process: subprocess.Popen[bytes], base_url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UsageError(f"vllm serve exited with code {process.returncode} before it was ready")
        try:
            served_models(base_url, None, timeout_s=5.0)
            return
        except LLMError:
            pass
        time.sleep(1.0)
    raise UsageError(f"vllm serve did not answer at {base_url} within {timeout:g} s")
