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

Here: `main`, which builds the session; render.py draws a run's events; chat.py runs
the conversation (Ctrl+C, approvals, slash commands).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from ..app.session import Session
from ..printable import printable
from .chat import run_chat
from .render import EXIT_FAILED, EXIT_INTERRUPTED, TerminalRenderer

__all__ = ["TerminalRenderer", "main", "run_chat"]


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
    project: str | None = None,
    stats: bool = False,
) -> int:
    """`desktop-agent chat`; `save=False` (`--no-save`) keeps no history; `attach`: files
    sent with the first message; `project`: the project (name) it starts in."""
    attachments = []
    if attach:
        from ..app.attachments import AttachmentError, AttachmentLimits, prepare_file
        from ..app.settings import load_settings

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
            run_chat(
                prompt,
                session,
                json_mode=json_mode,
                attachments=attachments,
                project=project,
                stats=stats,
            )
        )
    except KeyboardInterrupt:  # before the handler was installed
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
