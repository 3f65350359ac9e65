"""Run a shell command in the workspace folder (off unless the user turns it on;
every call needs approval).

The command runs in its own process group. Its output is read while it runs, up
to `MAX_OUTPUT_BYTES`: past that the group is killed and the result says the
output was cut, so a command that prints without end costs no memory. A command
that runs past its time is killed with its group. The call ends when the command
(the shell) exits, even if something it left in the background still holds its
output; the rest of its group is then killed and what is left of the output read
for at most `DRAIN_S`.

What this does not reach: a process that leaves the group (`setsid`, a daemon
that double-forks into its own session) is no longer in the group and survives
the call; the result says so when it still holds the output. Killing every
descendant reliably would take a subreaper (`PR_SET_CHILD_SUBREAPER`), which is
process-wide: the app would then inherit and have to reap every orphan of every
child it runs (MCP servers, the local engine), racing asyncio's own child
watcher. Not worth it for a tool the user turns on and approves call by call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from ..engine import Tool, tool

__all__ = ["run_command", "shell_tool"]

TIMEOUT_S = 60.0
MAX_OUTPUT_BYTES = 50_000
#: How long the output is still read after the group was killed: only a process
#: that left the group (setsid) can hold the pipe open longer.
DRAIN_S = 2.0
_READ_BLOCK = 64 * 1024


async def run_command(
    command: str, cwd: Path, *, limit_s: float = TIMEOUT_S, max_bytes: int = MAX_OUTPUT_BYTES
) -> str:
    """Run `command`; "exit code N" and its output (stdout and stderr, at most
    `max_bytes`). Raises TimeoutError past `limit_s`."""
    kwargs: dict[str, object] = {}
    if sys.platform != "win32":
        kwargs["start_new_session"] = True  # its own process group, to kill it whole
    process = await asyncio.create_subprocess_shell(
        command,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        **kwargs,  # type: ignore[arg-type]
    )
    output = bytearray()
    cut = False

    async def read_output() -> None:
        nonlocal cut
        assert process.stdout is not None
        while block := await process.stdout.read(_READ_BLOCK):
            room = max_bytes - len(output)
            if len(block) > room:
                output.extend(block[:room])
                cut = True
                _kill_group(process)
                return
            output.extend(block)

    reader = asyncio.create_task(read_output())
    held_open = False
    try:
        async with asyncio.timeout(limit_s):
            await _exited(process)
            _kill_group(process)  # what it left running in the background
            done, _ = await asyncio.wait({reader}, timeout=DRAIN_S)
            held_open = not done
    except TimeoutError:
        raise TimeoutError(f"the command ran longer than {limit_s:g} s and was stopped") from None
    finally:
        _kill_group(process)
        if not reader.done():
            reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        if process.returncode is None:
            await process.wait()
    text = output.decode("utf-8", errors="replace")
    status = f"exit code {process.returncode}"
    if cut:
        status += " (stopped: too much output)"
        text += f"\n[… output cut at {max_bytes:,} bytes: the command was stopped]"
    elif held_open:
        text += "\n[… a process that left the command's group still holds its output]"
    return f"{status}\n{text}".rstrip()


async def _exited(process: asyncio.subprocess.Process) -> None:
    """Until the command exits. Not `process.wait()`: on Python 3.11 that also waits
    for the pipe to close, which a child left running in the background holds open.
    `returncode` is set as soon as the child watcher sees the exit."""
    pause = 0.005
    while process.returncode is None:
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill the command's process group (on Windows, the process)."""
    try:
        if sys.platform != "win32":
            # The group outlives its leader while a member runs; once it is empty
            # this is ESRCH.
            os.killpg(process.pid, signal.SIGKILL)
        elif process.returncode is None:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass


def shell_tool(workspace: Path | str) -> Tool:
    folder = Path(workspace).expanduser().resolve()

    @tool("Run a shell command in the workspace folder", side_effects=True, timeout=TIMEOUT_S + 5)
    async def run_shell(command: str) -> str:
        """
        Args:
            command: the command line, run by the system shell in the workspace folder.
        """
        return await run_command(command, folder)

    return run_shell
