"""Run a shell command in the workspace folder (off unless the user turns it on;
every call needs approval). Output and time are limited; a command that runs too
long is killed with its whole process group."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from ..engine import Tool, tool

__all__ = ["run_command", "shell_tool"]

TIMEOUT_S = 60.0
MAX_OUTPUT_CHARS = 50_000


async def run_command(
    command: str, cwd: Path, *, limit_s: float = TIMEOUT_S, max_chars: int = MAX_OUTPUT_CHARS
) -> str:
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
    try:
        output, _ = await asyncio.wait_for(process.communicate(), limit_s)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _kill(process)
        await process.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise TimeoutError(f"the command ran longer than {limit_s:g} s and was stopped") from None
    text = output.decode("utf-8", errors="replace")
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n[… output cut at {max_chars:,} characters]"
    return f"exit code {process.returncode}\n{text}".rstrip()


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    try:
        if sys.platform != "win32":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
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
