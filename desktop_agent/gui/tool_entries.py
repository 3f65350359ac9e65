"""The transcript's tool entries: a call with its arguments and result (a one-line
summary; details on click; long results previewed, binary described), and the
approval card of a tool waiting for the user. (A mixin of `Transcript`; the
`TranscriptParts` protocol is what it uses of it.)"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any, Protocol

from ..app.presentation import argument_summary
from .formatting import describe_result, pretty_json

if TYPE_CHECKING:
    from .theme import Theme
    from .transcript import Entry

__all__ = ["RESULT_PREVIEW_CHARS", "ToolEntries"]

#: Tool results longer than this are cut for display (the full text is one click away).
RESULT_PREVIEW_CHARS = 2000


class TranscriptParts(Protocol):
    theme: Theme
    entries: list[Entry]
    _by_key: dict[str, Entry]

    def _add(self, kind: str, key: str | None = None, **fields: Any) -> Entry: ...
    def _at_bottom(self) -> bool: ...
    def _follow(self, was_at_bottom: bool) -> None: ...
    def _replace(self, entry: Entry, start: int, html_text: str) -> int: ...
    # (this part's own methods, called across)
    def add_tool_call(self, call_id: str, name: str, arguments: Any) -> Entry: ...
    def _render_tool(self, entry: Entry) -> None: ...
    def _render_approval(self, entry: Entry) -> None: ...
    def pending_approvals(self) -> list[str]: ...
    def _pre(self, title: str, text: str) -> str: ...


class ToolEntries:
    def add_tool_call(self: TranscriptParts, call_id: str, name: str, arguments: Any) -> Entry:
        entry = self._by_key.get(call_id)
        at_bottom = self._at_bottom()
        if entry is None:
            entry = self._add("tool", key=call_id, tool_name=name)
        entry.arguments = arguments
        entry.running = True
        self._render_tool(entry)
        self._follow(at_bottom)
        return entry

    def finish_tool_call(
        self: TranscriptParts,
        call_id: str,
        name: str,
        result: str | None,
        error: str | None,
        duration_ms: float,
    ) -> Entry:
        entry = self._by_key.get(call_id) or self.add_tool_call(call_id, name, None)
        at_bottom = self._at_bottom()
        entry.running = False
        entry.result = result
        entry.error = error
        entry.duration_ms = duration_ms
        self._render_tool(entry)
        self._follow(at_bottom)
        return entry

    def _render_tool(self: TranscriptParts, entry: Entry) -> None:
        t = self.theme
        name = html.escape(entry.tool_name)
        summary = html.escape(argument_summary(entry.arguments))
        if entry.running:
            status = f'<span style="color:{t.muted};">running…</span>'
        elif entry.error:
            status = f'<span style="color:{t.error_border};">✗ {html.escape(entry.error)}</span>'
        else:
            preview = html.escape(argument_summary(describe_result(entry.result or ""), 50))
            shown = f' <span style="color:{t.muted};">→ {preview}</span>' if preview else ""
            took = f" {entry.duration_ms:.0f} ms" if (entry.duration_ms or 0) >= 0 else ""
            status = f'<span style="color:{t.ok};">✓{took}</span>{shown}'
        arrow = "▾" if entry.expanded else "▸"
        line = (
            f'<p style="margin:0;"><a href="toggle:{entry.key}?details" '
            f'style="color:{t.muted}; text-decoration:none;">{arrow}</a> '
            f'<span style="font-family:monospace;"><b>{name}</b>({summary})</span> '
            f"{status}</p>"
        )
        parts = [line]
        if entry.expanded:
            parts.append(self._pre("arguments", pretty_json(entry.arguments)))
            if entry.result is not None:
                shown = entry.result
                more = ""
                if not entry.show_full and len(shown) > RESULT_PREVIEW_CHARS:
                    shown = shown[:RESULT_PREVIEW_CHARS]
                    more = (
                        f'<p style="margin:0;"><a href="toggle:{entry.key}?full">'
                        f"show all {len(entry.result):,} characters</a></p>"
                    )
                parts.append(self._pre("result", describe_result(shown)) + more)
        self._replace(entry, 0, "".join(parts))

    def add_approval(self: TranscriptParts, call_id: str, name: str, arguments: Any) -> Entry:
        """A card asking whether a tool may run: its full arguments, and the choices."""
        at_bottom = self._at_bottom()
        entry = self._add("approval", key=f"approval:{call_id}", tool_name=name)
        entry.arguments = arguments
        entry.extra["call_id"] = call_id
        self._render_approval(entry)
        self._follow(at_bottom)
        return entry

    def resolve_approval(self: TranscriptParts, call_id: str, outcome: str) -> None:
        """Show what became of the request: "allow", "always", "deny" or a note."""
        entry = self._by_key.get(f"approval:{call_id}")
        if entry is not None and "outcome" not in entry.extra:
            entry.extra["outcome"] = outcome
            self._render_approval(entry)

    def pending_approvals(self: TranscriptParts) -> list[str]:
        """Call ids of the cards still waiting for an answer, oldest first."""
        return [
            e.extra["call_id"]
            for e in self.entries
            if e.kind == "approval" and "outcome" not in e.extra
        ]

    def _render_approval(self: TranscriptParts, entry: Entry) -> None:
        t = self.theme
        call_id = entry.extra["call_id"]
        name = html.escape(entry.tool_name)
        head = (
            f'<p style="margin:0;"><b>⚠ Allow <span style="font-family:monospace;">{name}</span>'
            " to run?</b></p>"
        )
        args = self._pre("arguments", pretty_json(entry.arguments))
        outcome = entry.extra.get("outcome")
        if outcome is None:
            choices = (
                f'<p style="margin:4px 0 0 0;">'
                f'<a href="approve:{call_id}?allow"><b>Allow once</b></a> '
                f'<span style="color:{t.muted};">(Enter)</span> &nbsp;·&nbsp; '
                f'<a href="approve:{call_id}?always">Always allow {name}</a> &nbsp;·&nbsp; '
                f'<a href="approve:{call_id}?deny">Deny</a> '
                f'<span style="color:{t.muted};">(Esc)</span></p>'
            )
        else:
            said = {
                "allow": "✓ Allowed once",
                "always": f"✓ Always allowed ({name} no longer asks; Settings → Tools revokes)",
                "deny": "✗ Denied: the model is told so",
            }.get(outcome, html.escape(outcome))
            choices = f'<p style="margin:4px 0 0 0; color:{t.muted};">{said}</p>'
        self._replace(entry, 0, head + args + choices)

    def _pre(self: TranscriptParts, title: str, text: str) -> str:
        return (
            f'<p style="margin:2px 0 0 0; color:{self.theme.muted};">{title}</p>'
            f'<pre style="margin:0; font-family:monospace;">{html.escape(text)}</pre>'
        )
