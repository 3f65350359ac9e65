"""MCP servers (Model Context Protocol) with the official `mcp` package, over stdio
or Streamable HTTP; their tools join the agent's, namespaced by server.

Configured in the shape other desktop hosts use (`mcp.json` in the data folder):

    {"mcpServers": {
        "files": {"command": "npx", "env": {"DEBUG": "1"},
                  "args": ["-y", "@modelcontextprotocol/server-filesystem", "/tmp"]},
        "search": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ..."}}}}

A stdio server gets only the environment configured for it (plus PATH, HOME and
the like that programs need to start: the `mcp` package's safe list), never the
app's (no API keys). Every MCP tool call needs approval unless the user allowed
that tool. A server that dies is reported (`failed`, with the reason) and can be
restarted.

A server added by import is not started until the user confirmed everything it
will run (command line, folder, environment; or URL and header names). The
confirmation holds for a fingerprint of the whole entry, not for its name: change
anything in a confirmed entry (its `cwd`, an argument, an environment value) and it
waits for confirmation again. Servers the user wrote themselves are not gated.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import Tool
from ..private_files import open_private_log

__all__ = [
    "McpConnections",
    "McpServer",
    "McpServerConfig",
    "McpToolError",
    "entry_fingerprint",
    "load_mcp_config",
    "parse_mcp_config",
]

_log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 30.0
PING_INTERVAL_S = 2.0
MAX_RESULT_CHARS = 100_000


class McpToolError(RuntimeError):
    """An MCP tool reported an error, or its server is not connected."""


def entry_fingerprint(entry: Any) -> str:
    """sha256 of the canonical JSON of a server's whole entry in `mcpServers`."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class McpServerConfig:
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cwd: str | None = None
    url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    #: Of the entry it was parsed from (`entry_fingerprint`); else of these fields.
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.fingerprint:
            fields = {
                "command": self.command,
                "args": list(self.args),
                "env": dict(self.env),
                "cwd": self.cwd,
                "url": self.url,
                "headers": dict(self.headers),
            }
            entry = {k: v for k, v in fields.items() if v}
            object.__setattr__(self, "fingerprint", entry_fingerprint(entry))

    @property
    def transport(self) -> str:
        return "http" if self.url else "stdio"

    def command_line(self) -> str:
        """What will run, in full (shown for confirmation)."""
        if self.url:
            return self.url
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        line = shlex.join([self.command or "", *self.args])
        return f"{env} {line}" if env else line

    def confirmation_lines(self) -> list[str]:
        """Everything that will run, for the user to confirm. Environment values are
        shown in full (they can change what runs: NODE_OPTIONS, PYTHONPATH, ...);
        header values only authenticate to the URL shown, so only their names are."""
        if self.url:
            lines = [f"connects to: {self.url}"]
            if self.headers:
                names = ", ".join(k for k, _ in self.headers)
                lines.append(f"sends headers: {names} (values not shown)")
            return lines
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in self.env)
        return [
            f"runs: {shlex.join([self.command or '', *self.args])}",
            f"in folder: {self.cwd or '(the folder the app was started in)'}",
            f"environment: {env or '(none)'} (plus PATH, HOME and the like)",
        ]


def parse_mcp_config(data: Any) -> tuple[list[McpServerConfig], list[str]]:
    """`{"mcpServers": {...}}` → server configs, and the problems found."""
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers", {}), dict):
        return [], ['expected {"mcpServers": {"name": {"command": ...} or {"url": ...}}}']
    servers: list[McpServerConfig] = []
    problems: list[str] = []
    for name, raw in data.get("mcpServers", {}).items():
        if not isinstance(raw, dict):
            problems.append(f"{name}: not an object")
            continue
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", str(name)):
            problems.append(f"{name}: a name is 1-32 letters, digits, _ or -")
            continue
        env = raw.get("env") or {}
        headers = raw.get("headers") or {}
        args = raw.get("args") or []
        if not isinstance(env, dict) or not isinstance(headers, dict) or not isinstance(args, list):
            problems.append(f"{name}: env and headers must be objects, args a list")
            continue
        if raw.get("url"):
            url = str(raw["url"])
            if not url.startswith(("http://", "https://")):
                problems.append(f"{name}: url must start with http:// or https://")
                continue
            servers.append(
                McpServerConfig(
                    str(name),
                    url=url,
                    headers=tuple((str(k), str(v)) for k, v in headers.items()),
                    fingerprint=entry_fingerprint(raw),
                )
            )
        elif raw.get("command"):
            servers.append(
                McpServerConfig(
                    str(name),
                    command=str(raw["command"]),
                    args=tuple(str(a) for a in args),
                    env=tuple((str(k), str(v)) for k, v in env.items()),
                    cwd=str(raw["cwd"]) if raw.get("cwd") else None,
                    fingerprint=entry_fingerprint(raw),
                )
            )
        else:
            problems.append(f"{name}: needs a command (stdio) or a url (Streamable HTTP)")
    return servers, problems


def load_mcp_config(path: Path) -> tuple[dict[str, Any], list[str]]:
    """The JSON in `path` (an empty config when the file does not exist)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"mcpServers": {}}, []
    except (OSError, ValueError) as exc:
        return {"mcpServers": {}}, [f"{path} cannot be read: {exc}"]
    return data, []


def _tool_name(server: str, tool: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")
    return name[:64]


def _content_text(content: list[Any]) -> str:
    """An MCP result's content as text: images, audio and blobs are described."""
    parts: list[str] = []
    for item in content:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(item.text)
        elif kind in ("image", "audio"):
            size = len(item.data) * 3 // 4  # base64
            parts.append(f"[{kind}: {item.mime_type}, about {size:,} bytes; not shown]")
        elif kind == "resource":
            resource = item.resource
            text = getattr(resource, "text", None)
            parts.append(text if text is not None else f"[binary resource {resource.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource {item.uri}]")
        else:
            parts.append(f"[{kind or 'unknown'} content]")
    text = "\n".join(parts)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + f"\n[… cut at {MAX_RESULT_CHARS:,} characters]"
    return text


@dataclass
class McpServer:
    """One configured server: its connection, status and tools. An imported server
    starts only while its entry's fingerprint is the one the user confirmed."""

    config: McpServerConfig
    imported: bool = False
    confirmed_fingerprint: str = ""
    log_folder: Path | None = None
    on_change: Callable[[McpServer], None] | None = None
    status: str = "stopped"  # stopped | unconfirmed | connecting | connected | failed
    error: str | None = None
    tools: list[Tool] = field(default_factory=list)
    _client: Any = None
    _task: asyncio.Task[None] | None = None
    _stop: asyncio.Event | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def confirmed(self) -> bool:
        return not self.imported or self.confirmed_fingerprint == self.config.fingerprint

    def confirm(self, fingerprint: str) -> bool:
        """The user confirmed the entry with this fingerprint; False when that is not
        this server's entry (it changed since it was shown)."""
        if fingerprint != self.config.fingerprint:
            return False
        self.confirmed_fingerprint = fingerprint
        return True

    def describe(self) -> str:
        """One line for the settings page."""
        if self.status == "connected":
            return f"connected, {len(self.tools)} tools"
        if self.status == "failed":
            return f"failed: {self.error}"
        if self.status == "unconfirmed":
            return "not started: confirm what it runs first"
        return self.status

    def _set(self, status: str, error: str | None = None) -> None:
        self.status, self.error = status, error
        if self.on_change is not None:
            self.on_change(self)

    async def start(self) -> None:
        """Connect and list the tools (returns when connected or failed)."""
        if not self.confirmed:
            self._set("unconfirmed")
            return
        if self._task is not None and not self._task.done():
            return
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stop = asyncio.Event()
        self._set("connecting")
        self._task = asyncio.ensure_future(self._run(ready, self._stop))
        await ready

    async def stop(self) -> None:
        task, self._task = self._task, None
        if self._stop is not None:
            self._stop.set()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 10)
        self.tools = []
        if self.status != "failed":
            self._set("stopped")

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def _transport(self) -> Any:
        from mcp.client.stdio import StdioServerParameters, stdio_client
        from mcp.client.streamable_http import streamable_http_client

        config = self.config
        if config.url:
            import httpx2

            client = httpx2.AsyncClient(headers=dict(config.headers), timeout=30.0)
            return streamable_http_client(config.url, http_client=client), client
        params = StdioServerParameters(
            command=config.command or "",
            args=list(config.args),
            env=dict(config.env),  # merged over the package's safe list, not the app's env
            cwd=config.cwd,
        )
        errlog: Any = None
        if self.log_folder is not None:
            # 0600, and rotated at each start when over 1 MB (the child writes to it)
            errlog = open_private_log(self.log_folder / f"mcp-{config.name}.log")
        return stdio_client(params, errlog=errlog) if errlog else stdio_client(params), errlog

    async def _run(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        from mcp import Client

        resource: Any = None
        try:
            transport, resource = self._transport()
            async with Client(transport) as client:
                listed = await asyncio.wait_for(client.list_tools(), CONNECT_TIMEOUT_S)
                self._client = client
                self.tools = [self._tool(t) for t in listed.tools]
                self._set("connected")
                if not ready.done():
                    ready.set_result(None)
                while not stop.is_set():
                    try:
                        await asyncio.wait_for(stop.wait(), PING_INTERVAL_S)
                    except TimeoutError:
                        await client.send_ping()  # a dead server is noticed here
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            reason = _reason(exc)
            _log.warning("MCP server %s: %s", self.name, reason)
            self.tools = []
            self._set("failed", reason)
        finally:
            self._client = None
            if not ready.done():
                ready.set_result(None)
            if resource is not None:
                with contextlib.suppress(Exception):
                    close = getattr(resource, "aclose", None)
                    if close is not None:
                        await close()
                    else:
                        resource.close()

    def _tool(self, listed: Any) -> Tool:
        remote = listed.name
        schema = listed.input_schema if isinstance(listed.input_schema, dict) else {}
        schema = {"type": "object", "properties": {}, **schema}

        async def call(**arguments: Any) -> str:
            return await self.call(remote, arguments)

        description = (
            listed.description or ""
        ).strip() or f"{remote} (from MCP server {self.name})"
        return Tool(
            name=_tool_name(self.name, remote),
            description=f"[{self.name}] {description}",
            parameters=schema,
            fn=call,
            side_effects=True,  # unknown: always ask (unless the user allowed it)
        )

    async def call(self, tool: str, arguments: dict[str, Any]) -> str:
        client = self._client
        if client is None:
            raise McpToolError(
                f"the MCP server {self.name} is not connected ({self.describe()}); "
                "reconnect it in Settings → MCP servers"
            )
        try:
            result = await client.call_tool(tool, arguments)
        except Exception as exc:
            reason = _reason(exc)
            self._client = None
            self.tools = []
            if self._stop is not None:
                self._stop.set()
            self._set("failed", reason)
            raise McpToolError(f"the MCP server {self.name} failed: {reason}") from None
        text = _content_text(list(result.content))
        if not text and result.structured_content is not None:
            text = json.dumps(result.structured_content, ensure_ascii=False)
        if result.is_error:
            raise McpToolError(text or "the tool reported an error")
        return text


def _reason(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    if "Connection closed" in text:
        return "the server closed the connection (it exited or crashed)"
    if isinstance(exc, FileNotFoundError):
        return f"the command was not found: {exc.filename or exc}"
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_S:g} s"
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


class McpConnections:
    """All configured servers: start, stop, restart; their tools, namespaced."""

    def __init__(
        self,
        configs: list[McpServerConfig],
        *,
        imported: Mapping[str, str] | None = None,
        log_folder: Path | None = None,
        on_change: Callable[[McpServer], None] | None = None,
    ) -> None:
        """`imported`: the names of imported servers, each with the fingerprint the
        user confirmed for it ("" for none yet)."""
        imported = imported or {}
        self.servers = {
            c.name: McpServer(
                c,
                imported=c.name in imported,
                confirmed_fingerprint=imported.get(c.name, ""),
                log_folder=log_folder,
                on_change=on_change,
            )
            for c in configs
        }

    def tools(self) -> list[Tool]:
        return [t for s in self.servers.values() if s.status == "connected" for t in s.tools]

    async def start_all(self) -> None:
        await asyncio.gather(*(s.start() for s in self.servers.values()))

    async def stop_all(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.servers.values()))
