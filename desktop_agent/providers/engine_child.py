"""Entry point of the embedded engine's child process: llama.cpp's OpenAI-compatible
server (`llama_cpp.server`) that exits when the app does, however the app ends.

    python -m desktop_agent.providers.engine_child PARENT_PID FD -- --model FILE ...

The server serves on the listening socket the app bound and handed over as file
descriptor FD (on Windows FD is `share` and the socket's share data comes on stdin),
so it never binds a port of its own. It requires the API key the app put in the
environment variable `KEY_VARIABLE` (removed at once, so the model's process and
anything it starts do not carry it); without one it refuses to start.

On Linux the kernel signals the child when its parent dies (PR_SET_PDEATHSIG);
everywhere, a watchdog thread exits when the parent pid changes (the child was
re-parented because the app was killed).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import socket
import sys
import threading
import time

#: The frozen app's executable runs the child when given this first argument
#: (a frozen app has no `python -m`); see `desktop_agent.packaging.frozen`.
FROZEN_FLAG = "--engine-child"
#: The environment variable that carries the API key to the child.
KEY_VARIABLE = "DESKTOP_AGENT_ENGINE_KEY"
#: The FD argument on Windows: the socket's share data comes on stdin.
SHARED_SOCKET = "share"


def child_command(parent_pid: int, socket_fd: str) -> list[str]:
    """The start of the command line that runs this module as the engine child."""
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_FLAG, str(parent_pid), socket_fd]
    module = "desktop_agent.providers.engine_child"
    return [sys.executable, "-m", module, str(parent_pid), socket_fd]


def die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def inherited_socket(socket_fd: str) -> socket.socket:
    """The listening socket the app handed over."""
    if sys.platform == "win32":
        if socket_fd == SHARED_SOCKET:
            return socket.fromshare(sys.stdin.buffer.read())
    return socket.socket(fileno=int(socket_fd))


def serve(sock: socket.socket, args: list[str], api_key: str) -> None:
    """`python -m llama_cpp.server ARGS`, but on `sock` and requiring `api_key`."""
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.cli import add_args_from_model
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    parser = argparse.ArgumentParser(prog="llama_cpp.server")
    add_args_from_model(parser, Settings)
    given = {
        name: value for name, value in vars(parser.parse_args(args)).items() if value is not None
    }
    server = {k: v for k, v in given.items() if k in ServerSettings.model_fields}
    server["api_key"] = api_key
    model = {k: v for k, v in given.items() if k in ModelSettings.model_fields}
    app = create_app(
        server_settings=ServerSettings(**server), model_settings=[ModelSettings(**model)]
    )
    uvicorn.Server(uvicorn.Config(app)).run(sockets=[sock])


def main() -> None:
    parent = int(sys.argv[1])
    socket_fd = sys.argv[2]
    args = sys.argv[4:] if sys.argv[3:4] == ["--"] else sys.argv[3:]
    api_key = os.environ.pop(KEY_VARIABLE, "")
    sock = inherited_socket(socket_fd)
    if not api_key:
        sys.exit(f"engine_child: no API key in {KEY_VARIABLE}; refusing to serve without one")
    die_with_parent(parent)
    if os.getppid() != parent:  # the app died before we got here
        return
    serve(sock, args, api_key)


if __name__ == "__main__":
    main()
