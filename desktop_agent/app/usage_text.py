"""Usage, speed and context figures as short texts, the same on every surface.

`answer_figures` is the line under an answer ("1,234 in · 210 out · 0.4 s to first
token · 35 tokens/s · $0.0012"), `meter_text` the context meter's text, `totals_text` a
conversation's totals; `UsageTally` adds a conversation's requests up as they come.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # (annotations only: nothing of the engine before the first paint)
    from ..engine.events import ContextReport, UsageReport

__all__ = [
    "UsageTally",
    "answer_figures",
    "fill_level",
    "left_out_text",
    "meter_text",
    "totals_text",
]


def _tokens(n: int, estimated: bool = False) -> str:
    return f"{'~' if estimated else ''}{n:,}"


def _cost(cost: float) -> str:
    return f"${cost:.4f}" if cost < 1 else f"${cost:,.2f}"


def answer_figures(usage: UsageReport) -> str:
    """One answer's figures; "~" marks counts the app made (the server sent none)."""
    parts = [
        f"{_tokens(usage.prompt_tokens, usage.estimated)} in",
        f"{_tokens(usage.completion_tokens, usage.estimated)} out",
    ]
    if usage.first_token_ms is not None:
        parts.append(f"{usage.first_token_ms / 1000:.2f} s to first token")
    if usage.tokens_per_second is not None:
        parts.append(f"{usage.tokens_per_second:.1f} tokens/s")
    if usage.cost is not None:
        parts.append(_cost(usage.cost))
    return " · ".join(parts)


def fill_level(tokens: int, window: int | None) -> str:
    """ "low", "high" (past 75 %) or "full" (past 90 %) - the meter's colour."""
    if not window:
        return "low"
    share = tokens / window
    return "full" if share > 0.9 else "high" if share > 0.75 else "low"


def meter_text(report: ContextReport) -> str:
    if report.window:
        share = round(100 * report.tokens / report.window)
        return f"{report.tokens:,} / {report.window:,} tokens ({share} %)"
    return f"{report.tokens:,} tokens"


def left_out_text(report: ContextReport) -> str | None:
    """The marker for what a request left out, or None when everything was sent."""
    if not report.dropped:
        return None
    n = report.dropped
    what = f"{n} earlier message{'s' if n != 1 else ''}"
    if report.summary:
        return f"Earlier messages summarized ({what}, about {report.dropped_tokens:,} tokens)"
    return f"{what} left out to fit the model's context (about {report.dropped_tokens:,} tokens)"


class UsageTally:
    """A conversation's requests, added up. (A plain class: a dataclass costs ~0.5 ms
    to make, before the window's first paint.)"""

    __slots__ = ("completion_tokens", "cost", "estimated", "prompt_tokens", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost: float | None = None
        self.estimated = False

    def __repr__(self) -> str:
        return (
            f"UsageTally(requests={self.requests}, prompt_tokens={self.prompt_tokens}, "
            f"completion_tokens={self.completion_tokens}, cost={self.cost}, "
            f"estimated={self.estimated})"
        )

    def add(self, usage: UsageReport) -> None:
        self.requests += 1
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.estimated = self.estimated or usage.estimated
        if usage.cost is not None:
            self.cost = (self.cost or 0.0) + usage.cost


def totals_text(tally: UsageTally) -> str:
    """ "Conversation: 3 requests · 4,100 in · 620 out · $0.0031"."""
    n = tally.requests
    parts = [
        f"{n} request{'s' if n != 1 else ''}",
        f"{_tokens(tally.prompt_tokens, tally.estimated)} in",
        f"{_tokens(tally.completion_tokens, tally.estimated)} out",
    ]
    if tally.cost is not None:
        parts.append(_cost(tally.cost))
    return "Conversation: " + " · ".join(parts)
