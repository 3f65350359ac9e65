"""`desktop-agent chat`: the event stream rendered in a terminal, with rich.

* On a terminal: the answer streams in place and is shown as Markdown once it is
  complete; a spinner names the tool that runs; afterwards "✓ name (N ms)".
* Piped (stdout not a terminal): plain text, no spinner, no escape codes; tool
  lines go to stderr so stdout carries the answer alone.
* `--json`: one event per line in the wire form of DESIGN.md, nothing else.

Nothing a model, a tool or a server says reaches the terminal as a control
character (`printable`: no title changes, clipboard writes, hidden text) or as
rich markup (it is drawn as `Text`, links in Markdown show their target).

Exit status: 0 when the answer completed; 1 with one line on stderr when the run
failed (bad endpoint, bad key, timeout...); 130 when interrupted (Ctrl+C).
Every conversation is recorded in the history (the window's sidebar,
`desktop-agent history`) unless `--no-save` or the setting "save_history": false.
Interactive mode (no prompt): the conversation goes on, `/new`, `/model NAME`, `/exit`;
Ctrl+C stops the current answer, a second Ctrl+C (or Ctrl+D) exits.
"""

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
from rich.live import Live
from rich.markdown import Markdown
from rich.markup import escape
from rich.text import Text

from .app.attachments import Attachment, human_size
from .app.presentation import argument_summary
from .app.session import Session
from .app.usage_text import UsageTally, answer_figures, left_out_text, totals_text
from .engine import Event
from .engine.approval import ALLOW, ALWAYS, DENY
from .engine.events import (
    ContextReport,
    Done,
    ErrorReport,
    MessageChunk,
    MessageComplete,
    StateChange,
    ToolApprovalRequest,
    ToolCallEnd,
    ToolCallStart,
    UsageReport,
)
from .engine.handle import RunHandle
from .engine.model import ModelError, close_model
from .engine.status import AgentStatus, RunOutcome
from .printable import json_line, printable

__all__ = ["TerminalRenderer", "main", "run_chat"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


class TerminalRenderer:
    """Draws one run's events; remembers how the run ended."""

    def __init__(
        self,
        out: IO[str],
        err: IO[str],
        *,
        json_mode: bool = False,
        stats: bool = False,
        tally: UsageTally | None = None,
    ) -> None:
        self.json_mode = json_mode
        self.stats = stats
        self.tally = tally if tally is not None else UsageTally()
        self.out = out
        self.err = err
        self.console = Console(file=out, highlight=False, soft_wrap=True)
        self.err_console = Console(file=err, highlight=False, soft_wrap=True)
        self.rich = self.console.is_terminal and not json_mode
        self.status: RunOutcome | None = None  # DONE's status
        self.error: str | None = None
        self._live: Live | None = None
        self._text = ""
        self._spinner: Any = None
        self._tools: dict[str, str] = {}
        self._line_open = False  # plain mode: the answer's last line has no newline yet

    # -- dispatch ------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        if self.json_mode:
            self.out.write(json_line(event.to_dict()) + "\n")
            self.out.flush()
        else:
            match event:
                case MessageChunk():
                    self._on_message_chunk(event)
                case MessageComplete():
                    self._on_message_complete(event)
                case StateChange():
                    self._on_state_change(event)
                case ToolCallStart():
                    self._on_tool_call_start(event)
                case ToolCallEnd():
                    self._on_tool_call_end(event)
                case ContextReport():
                    if (left_out := left_out_text(event)) is not None:
                        self._note(f"({left_out})")
                case UsageReport() if self.stats:
                    self._note(answer_figures(event))
        if isinstance(event, UsageReport):
            self.tally.add(event)
        # (The user's message is on the terminal already: typed, or the prompt.)
        if isinstance(event, ErrorReport):
            self.error = event.error
        elif isinstance(event, Done):
            self.status = event.status
            self._stop_spinner()
            self._stop_live()

    # -- text ------------------------------------------------------------------------

    def _on_message_chunk(self, event: MessageChunk) -> None:
        self._stop_spinner()
        chunk = printable(event.chunk)
        if not chunk:
            return
        if self.rich:
            if self._live is None:
                self._text = ""
                self._live = Live(
                    Text(""),
                    console=self.console,
                    refresh_per_second=12,
                    vertical_overflow="visible",
                )
                self._live.start()
            self._text += chunk
            self._live.update(Text(self._text))
        else:
            self.out.write(chunk)
            self.out.flush()
            self._line_open = not chunk.endswith("\n")

    def _on_message_complete(self, event: MessageComplete) -> None:
        if self.rich and self._live is not None:
            content = printable(event.content)
            # hyperlinks=False: a link shows its target as text, no terminal link
            self._live.update(Markdown(content, hyperlinks=False) if content else Text(""))
            self._stop_live()
        elif self._line_open:
            self.out.write("\n")
            self.out.flush()
            self._line_open = False
        if event.finish_reason == "cancelled":
            self._note("(stopped)")
        elif event.finish_reason == "length":
            self._note("(cut short: the answer reached the model's context or length limit)")

    def _stop_live(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -- progress --------------------------------------------------------------------

    def _spin(self, text: str) -> None:
        if not self.rich:
            return
        shown = Text(printable(text))  # not markup
        if self._spinner is None:
            self._spinner = self.console.status(shown, spinner="dots")
            self._spinner.start()
        else:
            self._spinner.update(shown)

    def _stop_spinner(self) -> None:
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def _on_state_change(self, event: StateChange) -> None:
        if event.new_status is AgentStatus.THINKING:
            self._spin("Thinking…")
        elif event.new_status is AgentStatus.AWAITING_APPROVAL:
            self._spin("Waiting for approval…")

    def _on_tool_call_start(self, event: ToolCallStart) -> None:
        summary = printable(argument_summary(event.arguments, 50))
        self._tools[event.call_id] = f"{event.tool_name}({summary})"
        self._spin("⚙ " + "  ⚙ ".join(self._tools.values()))

    def _on_tool_call_end(self, event: ToolCallEnd) -> None:
        self._tools.pop(event.call_id, None)
        name = event.tool_name
        if event.error:
            line = f"✗ {name}: {event.error}"
        else:
            line = f"✓ {name} ({event.duration_ms:.0f} ms)"
        self._note(line, style="red" if event.error else "green")
        if self._tools:
            self._spin("⚙ " + "  ⚙ ".join(self._tools.values()))
        else:
            self._stop_spinner()

    def _note(self, text: str, style: str = "dim") -> None:
        text = printable(text)
        if self.rich:
            self.console.print(Text(text, style=style))
        else:
            if self._line_open:
                self.out.write("\n")
                self.out.flush()
                self._line_open = False
            self.err.write(text + "\n")
            self.err.flush()

    def close(self) -> None:
        self._stop_spinner()
        self._stop_live()


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
) -> int:
    """Run one prompt (or an interactive session) in `session`; returns the exit
    status. The conversation is recorded in the history unless the session keeps
    none (`--no-save`)."""
    out = out or sys.stdout
    err = err or sys.stderr
    await session.start()
    for problem in session.problems:
        err.write(f"note: {printable(problem)}\n")
    orchestrator = session.orchestrator
    conversation = [new_conversation_id()]

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
            session, conversation, out, err, ask_or_exit, exit_now, interrupts
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
    from .engine.context import STRATEGIES, ContextPolicy

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


def main(
    prompt: str | None,
    *,
    base_url: str | None = None,
    model: str | None = None,
    json_mode: bool = False,
    local: bool = False,
    save: bool = True,
    attach: Sequence[str] = (),
    agui: str | None = None,
    api: str | None = None,
    stats: bool = False,
) -> int:
    """`desktop-agent chat`; `save=False` (`--no-save`) keeps no history; `attach`: files
    sent with the first message."""
    attachments = []
    if attach:
        from .app.attachments import AttachmentError, AttachmentLimits, prepare_file
        from .app.settings import load_settings

        limits = AttachmentLimits.from_settings(load_settings())
        try:
            attachments = [prepare_file(path, limits) for path in attach]
        except AttachmentError as exc:
            sys.stderr.write(f"error: {printable(str(exc))}\n")
            return EXIT_FAILED

    def engine_state(state: str, message: str) -> None:
        if not json_mode and state in ("loading", "restarting", "failed"):
            sys.stderr.write(printable(message) + "\n")
            sys.stderr.flush()

    session = Session.open(
        base_url=base_url,
        model=model,
        local=local,
        agui=agui,
        api=api,
        save=None if save else False,
        on_engine_state=engine_state,
    )
    try:
        return asyncio.run(
            run_chat(prompt, session, json_mode=json_mode, attachments=attachments, stats=stats)
        )
    except KeyboardInterrupt:  # before the handler was installed
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
