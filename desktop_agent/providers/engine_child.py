"""Entry point of the embedded engine's child process: llama.cpp's OpenAI-compatible
server (`llama_cpp.server`) that exits when the app does, however the app ends.

    python -m desktop_agent.providers.engine_child PARENT_PID -- --model FILE --port N ...

On Linux the kernel signals the child when its parent dies (PR_SET_PDEATHSIG);
everywhere, a watchdog thread exits when the parent pid changes (the child was
re-parented because the app was killed).
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys
import threading
import time

#: The frozen app's executable runs the child when given this first argument
#: (a frozen app has no `python -m`); see `desktop_agent.frozen`.
FROZEN_FLAG = "--engine-child"


def child_command(parent_pid: int) -> list[str]:
    """The start of the command line that runs this module as the engine child."""
    if getattr(sys, "frozen", False):
        return [sys.executable, FROZEN_FLAG, str(parent_pid)]
    return [sys.executable, "-m", "desktop_agent.providers.engine_child", str(parent_pid)]


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


def main() -> None:
    parent = int(sys.argv[1])
    args = sys.argv[3:] if sys.argv[2:3] == ["--"] else sys.argv[2:]
    die_with_parent(parent)
    if os.getppid() != parent:  # the app died before we got here
        return
    sys.argv = ["llama_cpp.server", *args]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
