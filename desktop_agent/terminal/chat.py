"""The chat itself: one prompt or an interactive session in a `Session`, Ctrl+C
handling, tool approvals asked on the terminal, and the slash commands
(/new, /model, /compact, /context, /exit)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import IO, Any

from rich.console import Console
from rich.markup import escape

from ..app.attachments import Attachment, human_size
from ..app.projects import is_remote
from ..app.session import Session
from ..app.usage_text import UsageTally, totals_text
from ..engine import Event
from ..engine.approval import ALLOW, ALWAYS, DENY
from ..engine.events import ToolApprovalRequest
from ..engine.handle import RunHandle
from ..engine.model import ModelError, close_model
from ..printable import printable
from .render import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, TerminalRenderer

__all__ = ["new_conversation_id", "run_chat", "stdin_lines"]


class _StdinLines:
    """Lines from stdin, read on a daemon thread so the loop never blocks on it
    (and the process can exit while a read is pending)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        loop = self.loop = asyncio.get_running_loop()

        def read() -> None:
            for line in sys.stdin:
                loop.call_soon_threadsafe(self.queue.put_nowait, line.rstrip("\n"))
            loop.call_soon_threadsafe(self.queue.put_nowait, None)

        threading.Thread(target=read, name="stdin", daemon=True).start()

    async def next(self) -> str | None:
        return await self.queue.get()


_stdin_lines: _StdinLines | None = None


def stdin_lines() -> _StdinLines:
    """The one reader of this process's stdin (messages and approval answers)."""
    global _stdin_lines
    if _stdin_lines is None or _stdin_lines.loop is not asyncio.get_running_loop():
        _stdin_lines = _StdinLines()
    return _stdin_lines


async def run_chat(
    prompt: str | None,
    session: Session,
    *,
    json_mode: bool = False,
    stats: bool = False,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
    attachments: Sequence[Attachment] = (),
    project: str | None = None,
) -> int:
    """Run one prompt (or an interactive session) in `session`; returns the exit
    status. The conversation is recorded in the history unless the session keeps
    none (`--no-save`); with `project` (a name) it starts in that project."""
    out = out or sys.stdout
    err = err or sys.stderr
    await session.start()
    for problem in session.problems:
        err.write(f"note: {printable(problem)}\n")
    orchestrator = session.orchestrator
    conversation = [new_conversation_id()]
    project_id = None
    if project is not None:
        found = session.projects.find(project) if session.projects is not None else None
        if found is None:
            why = "no project named" if session.projects is not None else "no history, so no"
            err.write(f"error: {why} {printable(repr(project))}\n")
            await session.aclose()
            return EXIT_FAILED
        project_id = found.id
        session.start_in_project(conversation[0], project_id)
        host = is_remote(session.provider_of(conversation[0]))
        if host and not json_mode:
            err.write(f"note: project {printable(found.name)}: passages are sent to {host}\n")

    async def answer_approval(handle: RunHandle, event: ToolApprovalRequest) -> None:
        """Ask on the terminal whether a tool may run (end of input: no)."""
        arguments = printable(json.dumps(event.arguments, ensure_ascii=False))
        name = printable(event.tool_name)
        err.write(f"Allow {name} {arguments}?  [y] once  [a] always  [N] no: ")
        err.flush()
        line = await stdin_lines().next()
        if line is None:
            err.write("\nno answer (end of input): denied\n")
        decision = {"y": ALLOW, "yes": ALLOW, "a": ALWAYS, "always": ALWAYS}.get(
            (line or "").strip().lower(), DENY
        )
        err.flush()
        handle.approve(event.call_id, decision)

    asking: set[asyncio.Task[None]] = set()
    interrupts: list[float] = []
    loop = asyncio.get_running_loop()
    exit_now = asyncio.Event()

    def on_sigint() -> None:
        now = time.monotonic()
        if orchestrator.busy(conversation[0]) and not interrupts:
            interrupts.append(now)
            orchestrator.cancel(conversation[0])
        else:
            exit_now.set()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)

    pending = list(attachments)  # they go with the first message

    tallies: dict[str, UsageTally] = {}

    async def ask(message: str) -> int:
        tally = tallies.setdefault(conversation[0], UsageTally())
        renderer = TerminalRenderer(out, err, json_mode=json_mode, stats=stats, tally=tally)
        try:
            handle = session.conversations.send(conversation[0], message, pending)
        except ValueError as exc:  # AttachmentError, or a model without vision
            err.write(f"error: {printable(str(exc))}\n")
            return EXIT_FAILED
        except ModelError as exc:
            err.write(f"error: {printable(exc.message)}\n")
            return EXIT_FAILED
        if pending and not json_mode:
            for a in pending:
                note = f", {a.note}" if a.note else ""
                err.write(f"attached {printable(a.name)} ({human_size(a.size)}{note})\n")
        pending.clear()
        stream = handle.events()
        try:
            async for event in stream:
                assert isinstance(event, Event)  # (mode EVENTS)
                renderer.handle(event)
                if isinstance(event, ToolApprovalRequest):
                    task = asyncio.ensure_future(answer_approval(handle, event))
                    asking.add(task)
                    task.add_done_callback(asking.discard)
        finally:
            await stream.aclose()
            renderer.close()
        if stats and not json_mode and tally.requests:
            err.write(totals_text(tally) + "\n")
            err.flush()
        if renderer.status == "completed":
            return EXIT_OK
        if renderer.status == "cancelled":
            if not json_mode:
                err.write("interrupted\n")
            return EXIT_INTERRUPTED
        err.write(f"error: {printable(renderer.error or 'the run failed')}\n")
        return EXIT_FAILED

    async def ask_or_exit(message: str) -> int | None:
        asking = asyncio.ensure_future(ask(message))
        quitting = asyncio.ensure_future(exit_now.wait())
        await asyncio.wait({asking, quitting}, return_when=asyncio.FIRST_COMPLETED)
        quitting.cancel()
        if not asking.done():  # a second Ctrl+C while stopping: leave now
            orchestrator.cancel(conversation[0])
            asking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asking
            return None
        return asking.result()

    try:
        if prompt is not None:
            status = await ask_or_exit(prompt)
            return EXIT_INTERRUPTED if status is None else status
        return await _interactive(
            session, conversation, out, err, ask_or_exit, exit_now, interrupts, project_id
        )
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        await session.aclose()


def new_conversation_id() -> str:
    """An id like the window's, so a `chat` conversation is one like any other."""
    return f"c-{uuid.uuid4().hex}"


async def _interactive(
    session: Session,
    conversation: list[str],
    out: IO[str],
    err: IO[str],
    ask_or_exit: Any,
    exit_now: asyncio.Event,
    interrupts: list[float],
    project_id: str | None = None,
) -> int:
    config = session.config
    console = Console(file=out, highlight=False)
    console.print(
        f"[bold]desktop-agent[/bold] · {escape(printable(config.label()))}  "
        "[dim](/new, /model NAME, /compact, /context, /exit; "
        "Ctrl+C stops an answer, twice exits)[/dim]"
    )
    lines = stdin_lines()
    while True:
        out.write("› ")
        out.flush()
        reading = asyncio.ensure_future(lines.next())
        quitting = asyncio.ensure_future(exit_now.wait())
        await asyncio.wait({reading, quitting}, return_when=asyncio.FIRST_COMPLETED)
        quitting.cancel()
        if not reading.done():  # Ctrl+C at the prompt
            reading.cancel()
            out.write("\n")
            return EXIT_OK
        line = reading.result()
        if line is None:  # Ctrl+D
            out.write("\n")
            return EXIT_OK
        line = line.strip()
        if not line:
            continue
        if line in ("/exit", "/quit"):
            return EXIT_OK
        if line.startswith("/context"):
            console.print(f"[dim]{escape(_context_command(session, conversation[0], line))}[/dim]")
            continue
        if line == "/compact":
            session.compact_now(conversation[0])
            console.print("[dim]The next message is sent compacted.[/dim]")
            continue
        if line == "/new":
            conversation[0] = new_conversation_id()
            if project_id is not None:
                session.start_in_project(conversation[0], project_id)
            console.print("[dim]New conversation.[/dim]")
            continue
        if line.startswith("/model"):
            name = line.partition(" ")[2].strip()
            if not name:
                console.print(f"[dim]Model: {escape(printable(config.model))}[/dim]")
                continue
            config = replace(config, model=name)
            await close_model(session.set_model(config))
            console.print(f"[dim]Now using {escape(printable(config.label()))}.[/dim]")
            continue
        if line.startswith("/"):
            console.print(
                f"[red]Unknown command {escape(printable(line.split()[0]))}[/red] "
                "(/new, /model NAME, /compact, /context, /exit)"
            )
            continue
        interrupts.clear()
        status = await ask_or_exit(line)
        if status is None:
            return EXIT_OK


def _context_command(session: Session, conversation_id: str, line: str) -> str:
    """`/context [summarise|drop_oldest|off|provider] [RESERVE]`: this conversation's own
    strategy and room for the answer."""
    from ..engine.context import STRATEGIES, ContextPolicy

    words = line.split()[1:]
    if not words:
        policy = session.context_policy(conversation_id)
        if policy is None:
            return "Context: as the provider is set. /context STRATEGY [RESERVE] changes it."
        return f"Context: {policy.strategy}, {policy.reserve} tokens kept for the answer."
    if words[0] == "provider":
        session.set_context_policy(conversation_id, None)
        return "Context: as the provider is set."
    if words[0] not in STRATEGIES or (len(words) > 1 and not words[1].isdigit()):
        return f"Usage: /context [{'|'.join(STRATEGIES)}|provider] [RESERVE]"
    reserve = int(words[1]) if len(words) > 1 else 1024
    session.set_context_policy(conversation_id, ContextPolicy(reserve=reserve, strategy=words[0]))
    return f"Context: {words[0]}, {reserve} tokens kept for the answer."
