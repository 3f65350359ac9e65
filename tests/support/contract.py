"""Checks of DESIGN.md's event-contract guarantees over one run's events."""

from __future__ import annotations

import json
from collections import defaultdict

from desktop_agent import Event, EventType


def check_run(events: list[Event], *, merged_ok: bool = False) -> None:
    """Assert guarantees 1-4 (and 5's "no text lost") for the events of one run.

    With `merged_ok`, text events may stand for several seqs (`data["merged"]`).
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
    dones = [e for e in events if e.type is EventType.DONE]
    assert len(dones) == 1, f"{len(dones)} DONE events"
    assert events[-1].type is EventType.DONE, "DONE is not last"
    # 2. chunks concatenate to MESSAGE_COMPLETE.content (and reasoning).
    text: dict[str, list[str]] = defaultdict(list)
    reasoning: dict[str, list[str]] = defaultdict(list)
    completed: set[str] = set()
    for e in events:
        if e.type is EventType.MESSAGE_CHUNK:
            assert e.data["message_id"] not in completed, "chunk after its MESSAGE_COMPLETE"
            text[e.data["message_id"]].append(e.data["chunk"])
        elif e.type is EventType.REASONING_CHUNK:
            reasoning[e.data["message_id"]].append(e.data["chunk"])
        elif e.type is EventType.MESSAGE_COMPLETE:
            mid = e.data["message_id"]
            completed.add(mid)
            assert "".join(text.get(mid, [])) == e.data["content"], "chunks != content"
            assert "".join(reasoning.get(mid, [])) == e.data.get("reasoning", "")
    assert set(text) <= completed, "a streamed message never completed"
    # 3. each TOOL_CALL_START has exactly one TOOL_CALL_END with its call_id; a call
    # that waited for approval and never started (denied, cancelled) ends once too.
    starts = [e.data["call_id"] for e in events if e.type is EventType.TOOL_CALL_START]
    asked = [e.data["call_id"] for e in events if e.type is EventType.TOOL_APPROVAL_REQUEST]
    ends = [e.data["call_id"] for e in events if e.type is EventType.TOOL_CALL_END]
    assert len(starts) == len(set(starts)), "a call started twice"
    assert len(ends) == len(set(ends)), "a call ended twice"
    unstarted = set(ends) - set(starts)
    assert set(starts) <= set(ends), f"started {starts} but ended only {ends}"
    assert unstarted <= set(asked), f"ended without starting or asking: {unstarted}"
    assert set(asked) <= set(ends), f"asked about {asked} but ended only {ends}"
    for e in events:
        if e.type is EventType.TOOL_CALL_END:
            call = e.data["call_id"]
            first = next(x for x in events if x.data.get("call_id") == call)
            assert (
                first.type
                in (
                    EventType.TOOL_CALL_START,
                    EventType.TOOL_CALL_ARGS,
                    EventType.TOOL_APPROVAL_REQUEST,
                )
                or first is e
            )
    # 4. a failed run has an ERROR before its DONE.
    if dones[0].data["status"] == "failed":
        assert any(e.type is EventType.ERROR for e in events[:-1]), "failed without ERROR"
    # The wire form round-trips.
    for e in events:
        wire = json.loads(json.dumps(e.to_dict()))
        assert Event.from_dict(wire) == e


def text_of(events: list[Event]) -> str:
    return "".join(e.data["chunk"] for e in events if e.type is EventType.MESSAGE_CHUNK)


def types_of(events: list[Event]) -> list[str]:
    return [e.type.value for e in events]


def provider_ids(events: list[Event]) -> dict[str, str]:
    """The app's call ids -> the ids the (scripted) provider gave those calls."""
    return {
        call["id"]: call.get("provider_id", "")
        for e in events
        if e.type is EventType.MESSAGE_COMPLETE
        for call in e.data.get("tool_calls") or ()
    }


def tool_ends(events: list[Event], field: str = "result") -> dict[str, object]:
    """`field` of each TOOL_CALL_END, by the provider's id of the call."""
    ids = provider_ids(events)
    return {
        ids.get(e.data["call_id"], e.data["call_id"]): e.data[field]
        for e in events
        if e.type is EventType.TOOL_CALL_END
    }


def app_id(events: list[Event], provider_id: str) -> str:
    """The app's id of the call the provider named `provider_id` (its first such)."""
    return next(app for app, given in provider_ids(events).items() if given == provider_id)
