"""Checks of DESIGN.md's event-contract guarantees over one run's events."""

from __future__ import annotations

import json
from collections import defaultdict

from desktop_agent import Event
from desktop_agent.engine.events import (
    Done,
    ErrorReport,
    MessageChunk,
    MessageComplete,
    ReasoningChunk,
    ToolApprovalRequest,
    ToolCallArgs,
    ToolCallEnd,
    ToolCallStart,
    UserMessage,
)
from desktop_agent.engine.status import RunOutcome


def check_run(events: list[Event], *, merged_ok: bool = False) -> None:
    """Assert guarantees 1-4 (and 5's "no text lost") for the events of one run.

    With `merged_ok`, text events may stand for several seqs (`merged`).
    """
    assert events, "no events"
    run_ids = {e.run_id for e in events}
    assert len(run_ids) == 1, f"events of several runs: {run_ids}"
    # 1. seq gapless (spans count merged events); exactly one DONE, and last.
    expected = 0
    for e in events:
        if merged_ok:
            assert e.seq >= expected, f"seq went back: {e.seq} < {expected}"
            expected = e.seq + 1 if e.span == 1 else expected + e.span
        else:
            assert e.seq == expected, f"seq gap: expected {expected}, got {e.seq} ({e.type})"
            expected += 1
    dones = [e for e in events if isinstance(e, Done)]
    assert len(dones) == 1, f"{len(dones)} DONE events"
    assert isinstance(events[-1], Done), "DONE is not last"
    # The user's message, if any, is the run's first event.
    users = [e for e in events if isinstance(e, UserMessage)]
    assert len(users) <= 1, "several USER_MESSAGEs"
    assert not users or (users[0] is events[0] and users[0].seq == 0), "USER_MESSAGE not first"
    # 2. chunks concatenate to MESSAGE_COMPLETE.content (and reasoning).
    text: dict[str, list[str]] = defaultdict(list)
    reasoning: dict[str, list[str]] = defaultdict(list)
    completed: set[str] = set()
    for e in events:
        if isinstance(e, MessageChunk):
            assert e.message_id not in completed, "chunk after its MESSAGE_COMPLETE"
            text[e.message_id].append(e.chunk)
        elif isinstance(e, ReasoningChunk):
            reasoning[e.message_id].append(e.chunk)
        elif isinstance(e, MessageComplete):
            completed.add(e.message_id)
            assert "".join(text.get(e.message_id, [])) == e.content, "chunks != content"
            assert "".join(reasoning.get(e.message_id, [])) == e.reasoning
    assert set(text) <= completed, "a streamed message never completed"
    # 3. each TOOL_CALL_START has exactly one TOOL_CALL_END with its call_id; a call
    # that waited for approval and never started (denied, cancelled) ends once too.
    starts = [e.call_id for e in events if isinstance(e, ToolCallStart)]
    asked = [e.call_id for e in events if isinstance(e, ToolApprovalRequest)]
    ends = [e.call_id for e in events if isinstance(e, ToolCallEnd)]
    assert len(starts) == len(set(starts)), "a call started twice"
    assert len(ends) == len(set(ends)), "a call ended twice"
    unstarted = set(ends) - set(starts)
    assert set(starts) <= set(ends), f"started {starts} but ended only {ends}"
    assert unstarted <= set(asked), f"ended without starting or asking: {unstarted}"
    assert set(asked) <= set(ends), f"asked about {asked} but ended only {ends}"
    about_calls = (ToolCallStart, ToolCallArgs, ToolApprovalRequest, ToolCallEnd)
    for e in events:
        if isinstance(e, ToolCallEnd):
            first = next(x for x in events if isinstance(x, about_calls) and x.call_id == e.call_id)
            assert isinstance(first, (ToolCallStart, ToolCallArgs, ToolApprovalRequest)) or (
                first is e
            )
    # 4. a failed run has an ERROR before its DONE.
    if dones[0].status is RunOutcome.FAILED:
        assert any(isinstance(e, ErrorReport) for e in events[:-1]), "failed without ERROR"
    # The wire form round-trips.
    for e in events:
        wire = json.loads(json.dumps(e.to_dict()))
        assert Event.from_dict(wire) == e


def text_of(events: list[Event]) -> str:
    return "".join(e.chunk for e in events if isinstance(e, MessageChunk))


def types_of(events: list[Event]) -> list[str]:
    return [e.type.value for e in events]


def provider_ids(events: list[Event]) -> dict[str, str]:
    """The app's call ids -> the ids the (scripted) provider gave those calls."""
    return {
        call.id: call.provider_id or ""
        for e in events
        if isinstance(e, MessageComplete)
        for call in e.tool_calls
    }


def tool_ends(events: list[Event], field: str = "result") -> dict[str, object]:
    """`field` of each TOOL_CALL_END, by the provider's id of the call."""
    ids = provider_ids(events)
    return {
        ids.get(e.call_id, e.call_id): getattr(e, field)
        for e in events
        if isinstance(e, ToolCallEnd)
    }


def app_id(events: list[Event], provider_id: str) -> str:
    """The app's id of the call the provider named `provider_id` (its first such)."""
    return next(app for app, given in provider_ids(events).items() if given == provider_id)
