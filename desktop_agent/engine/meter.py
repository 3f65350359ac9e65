"""Usage, speed and context figures of one model request, as events; and the message
for a conversation that still does not fit.

Where an endpoint reports no usage (the embedded engine's stream omits it), the app
counts: the prompt as it fitted it, the answer with the same counter (`estimated`).
"""

from __future__ import annotations

from .compaction import ContextKeeper
from .context import OFF, Fit
from .events import ContextReport, EventMeta, UsageReport
from .model import Usage

__all__ = ["context_report", "too_long", "usage_report"]


def context_report(
    fitted: Fit, keeper: ContextKeeper, retry: bool, *, meta: EventMeta
) -> ContextReport:
    return ContextReport(
        fitted.tokens,
        fitted.window,
        keeper.last_policy.reserve,
        keeper.last_policy.strategy,
        len(fitted.messages),
        fitted.dropped,
        fitted.dropped_tokens,
        fitted.summary,
        retry,
        meta=meta,
    )


def usage_report(
    usage: Usage | None,
    fitted: Fit,
    keeper: ContextKeeper,
    written: str,
    sent_at: float,
    first_at: float | None,
    ended_at: float,
    *,
    meta: EventMeta,
) -> UsageReport:
    """The request's usage (the endpoint's, else counted) with its speed and cost."""
    estimated = usage is None or (usage.prompt_tokens == 0 and usage.completion_tokens == 0)
    if estimated:
        completion = keeper.counter.count_text(written) if written else 0
        usage = Usage(fitted.tokens, completion, fitted.tokens + completion)
    assert usage is not None
    first_ms = round((first_at - sent_at) * 1000, 1) if first_at is not None else None
    speed = None
    if first_at is not None and usage.completion_tokens > 0:
        streamed = ended_at - first_at
        if streamed > 0:
            speed = round(usage.completion_tokens / streamed, 1)
    cost = None
    if keeper.prices is not None:
        cost = round(keeper.prices.cost(usage.prompt_tokens, usage.completion_tokens), 8)
    return UsageReport(
        usage.prompt_tokens,
        usage.completion_tokens,
        usage.total_tokens or usage.prompt_tokens + usage.completion_tokens,
        estimated,
        first_ms,
        speed,
        cost,
        meta=meta,
    )


def too_long(detail: str, keeper: ContextKeeper, *, retried: bool) -> str:
    """What to tell the user when the conversation does not fit even after compacting."""
    if keeper.last_policy.strategy == OFF:
        done = "Compaction is off for this conversation, so everything was sent."
    elif retried:
        done = "It was compacted harder and sent again, and still did not fit."
    else:
        done = "The answer had already begun, so it was not sent again."
    return (
        f"The conversation is too long for the model's context. {done} "
        "Start a new conversation, choose a model with a bigger context (or raise the "
        "context size in Settings), or turn compaction on. "
        f"The server said: {detail}"
    )
