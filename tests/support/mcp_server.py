"""A real MCP server for the tests, written with the official `mcp` package.

    python -m tests.support.mcp_server                    # stdio
    python -m tests.support.mcp_server --http PORT        # Streamable HTTP on 127.0.0.1

Tools: add(a, b); echo_env(name) -> that environment variable ("<unset>" if
absent); fail(message) -> raises; picture() -> a PNG image; crash() -> the
process exits at once (to test a server that dies).
"""

from __future__ import annotations

import base64
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.types import ImageContent

server = MCPServer("test-server")

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def echo_env(name: str) -> str:
    """The value of an environment variable of the server's process."""
    return os.environ.get(name, "<unset>")


@server.tool()
def fail(message: str) -> str:
    """Always fails with `message`."""
    raise ValueError(message)


@server.tool()
def picture() -> ImageContent:
    """A tiny PNG image."""
    return ImageContent(type="image", data=base64.b64encode(PNG).decode(), mimeType="image/png")


@server.tool()
def crash() -> str:
    """The server process exits immediately."""
    os._exit(3)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
