"""How one run's events are drawn: rich on a terminal, plain text when piped,
one JSON line per event with `--json`; token and cost figures with `--stats`."""

from __future__ import annotations

from typing import IO, Any

from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.text import Text

from ..app.presentation import argument_summary
from ..app.usage_text import UsageTally, answer_figures, left_out_text
from ..engine import Event
from ..engine.events import (
    ContextReport,
    Done,
    ErrorReport,
    MessageChunk,
    MessageComplete,
    StateChange,
    ToolCallEnd,
    ToolCallStart,
    UsageReport,
)
from ..engine.status import AgentStatus, RunOutcome
from ..printable import json_line, printable

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "TerminalRenderer"]

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
