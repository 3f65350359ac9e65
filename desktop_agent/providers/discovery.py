"""Find OpenAI-compatible servers already running on this computer.

Checks 127.0.0.1 for Ollama (11434), LM Studio (1234) and llama.cpp's server
(8080) in parallel, with short time limits, and lists their models. Only the
loopback address is ever asked. `DESKTOP_AGENT_DISCOVERY_PORTS`
("Ollama=11434,LM Studio=1234") replaces the list (tests use free ports).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["DEFAULT_SERVERS", "Discovered", "discover", "loopback_get", "servers_to_check"]

DEFAULT_SERVERS: dict[str, int] = {"Ollama": 11434, "LM Studio": 1234, "llama.cpp": 8080}


@dataclass(frozen=True)
class Discovered:
    name: str
    base_url: str
    models: tuple[str, ...]

    def label(self) -> str:
        shown = ", ".join(self.models[:5]) + (" …" if len(self.models) > 5 else "")
        return f"{self.name} at {self.base_url.removesuffix('/v1')} ({shown or 'no models'})"


def servers_to_check() -> dict[str, int]:
    raw = os.environ.get("DESKTOP_AGENT_DISCOVERY_PORTS")
    if not raw:
        return dict(DEFAULT_SERVERS)
    servers = {}
    for item in raw.split(","):
        name, _, port = item.rpartition("=")
        if port.strip().isdigit():
            servers[name.strip() or f"port {port}"] = int(port)
    return servers


async def loopback_get(
    port: int, path: str, limit: float, *, headers: Mapping[str, str] | None = None
) -> bytes | None:
    """The body of a 200 answer to `GET path` on 127.0.0.1:port, else None."""
    extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
    writer = None
    try:
        async with asyncio.timeout(limit):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request.encode())
            await writer.drain()
            raw = await reader.read(4 << 20)  # the server closes: read to the end
    except (OSError, TimeoutError):
        return None
    finally:
        if writer is not None:
            writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        return None
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return body


async def _models(port: int, limit: float) -> tuple[str, ...] | None:
    """The ids `GET /v1/models` lists on 127.0.0.1:port, or None when nothing answers."""
    body = await loopback_get(port, "/v1/models", limit)
    if body is None:
        return None
    try:
        data = json.loads(body)
        return tuple(
            str(m["id"]) for m in data.get("data", []) if isinstance(m, dict) and "id" in m
        )
    except (ValueError, AttributeError, TypeError):
        return None


def _unchunk(body: bytes) -> bytes:
    out = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2 :]
    return bytes(out)


async def discover(
    servers: dict[str, int] | None = None, *, limit: float = 0.5
) -> list[Discovered]:
    """The servers that answer, in the order they were listed."""
    servers = servers if servers is not None else servers_to_check()
    names = list(servers)
    found = await asyncio.gather(*(_models(servers[n], limit) for n in names))
    return [
        Discovered(name, f"http://127.0.0.1:{servers[name]}/v1", models)
        for name, models in zip(names, found, strict=True)
        if models is not None
    ]
