"""Fan-out: many subscribers, slow ones merge text and never block anyone."""

from __future__ import annotations

import asyncio

import pytest

from desktop_agent import Event, EventDispatcher, EventMeta, EventType, SubscriptionOverflow
from desktop_agent.engine.events import Done, MessageChunk, MessageComplete, StateChange
from desktop_agent.engine.status import AgentStatus, RunOutcome
from tests.support.contract import check_run


def chunk(seq: int, text: str, message_id: str = "m1", run: str = "r1") -> MessageChunk:
    return MessageChunk(text, message_id, seq, meta=EventMeta(run, "t", seq))


def structural(seq: int, run: str = "r1") -> Event:
    meta = EventMeta(run, "t", seq)
    return StateChange(AgentStatus.THINKING, AgentStatus.STREAMING, meta=meta)


def complete(seq: int, message_id: str = "m1", run: str = "r1") -> Event:
    return MessageComplete(message_id, "ab", "stop", meta=EventMeta(run, "t", seq))


async def test_every_subscriber_gets_every_event_in_order() -> None:
    d = EventDispatcher()
    subs = [d.subscribe() for _ in range(3)]
    events = [chunk(i, str(i)) for i in range(10)]
    for e in events:
        d.publish(e)
    for sub in subs:
        assert [await sub.recv() for _ in range(10)] == events


async def test_join_and_leave_at_any_time() -> None:
    d = EventDispatcher()
    early = d.subscribe()
    d.publish(chunk(0, "a"))
    late = d.subscribe()
    d.publish(chunk(1, "b"))
    early.close()
    d.publish(chunk(2, "c"))
    assert d.subscriber_count == 1
    got_early = [e async for e in early]
    assert [e.chunk for e in got_early] == ["a", "b"]
    assert (await late.recv()).chunk == "b"
    assert (await late.recv()).chunk == "c"


async def test_recv_waits_for_publish() -> None:
    d = EventDispatcher()
    sub = d.subscribe()
    waiter = asyncio.ensure_future(sub.recv())
    for _ in range(10):  # give it every chance to (wrongly) finish
        await asyncio.sleep(0)
    assert not waiter.done()
    d.publish(chunk(0, "x"))
    assert (await waiter).chunk == "x"


async def test_slow_subscriber_merges_text_and_loses_nothing() -> None:
    d = EventDispatcher(maxsize=8)
    fast = d.subscribe()
    slow = d.subscribe()
    sent = []
    seq = 0
    for i in range(1000):
        if i % 250 == 0:
            d.publish(structural(seq))
            seq += 1
        e = chunk(seq, f"<{i}>")
        d.publish(e)
        sent.append(e.chunk)
        seq += 1
        assert fast.recv_nowait() is not None or i % 250 == 0  # fast reader keeps up
        while fast.recv_nowait() is not None:
            pass
    assert slow.pending < 8 + 2 * 4 + 4, slow.pending  # bounded, not 1004
    got = slow.drain_nowait()
    assert "".join(e.chunk for e in got if e.type is EventType.MESSAGE_CHUNK) == "".join(sent)
    assert sum(e.span for e in got) == seq
    assert [e.type for e in got].count(EventType.STATE_CHANGE) == 4
    assert slow.merged_events == seq - len(got)


async def test_merging_keeps_streams_apart_and_respects_structure() -> None:
    d = EventDispatcher(maxsize=4)
    sub = d.subscribe()
    evs = [chunk(0, "a", "m1"), chunk(1, "b", "m1"), complete(2)]
    evs += [chunk(3 + i, c, "m2") for i, c in enumerate("cdefghij")]
    for e in evs:
        d.publish(e)
    got = sub.drain_nowait()
    assert len(got) < len(evs)
    assert got[0].chunk == "ab" and got[0].span == 2
    assert got[1].type is EventType.MESSAGE_COMPLETE  # never merged across
    rest = got[2:]
    assert all(e.message_id == "m2" for e in rest)
    assert "".join(e.chunk for e in rest) == "cdefghij"
    assert sum(e.span for e in got) == len(evs)
    assert [e.seq for e in got] == sorted(e.seq for e in got)


async def test_a_reader_that_never_reads_is_disconnected_not_unbounded() -> None:
    d = EventDispatcher(maxsize=4, hard_limit=50)
    dead = d.subscribe()
    alive = d.subscribe()
    for i in range(60):
        d.publish(structural(i))
        assert alive.recv_nowait() is not None
    assert dead.closed and dead.pending == 0
    assert d.subscriber_count == 1
    with pytest.raises(SubscriptionOverflow):
        await dead.recv()


async def test_run_filtered_subscription_ends_after_done() -> None:
    d = EventDispatcher()
    sub = d.subscribe(run_id="r1")
    d.publish(chunk(0, "x", run="r2"))
    d.publish(chunk(0, "y", run="r1"))
    done = Done(RunOutcome.COMPLETED, 1.0, meta=EventMeta("r1", "t", 1))
    d.publish(done)
    d.publish(chunk(2, "late", run="r1"))
    got = [e async for e in sub]
    assert [e.type for e in got] == [EventType.MESSAGE_CHUNK, EventType.DONE]
    assert d.subscriber_count == 0


async def test_slow_subscriber_does_not_slow_the_agent() -> None:
    """A reader that sleeps between events still gets a valid, complete run."""
    from desktop_agent import Agent
    from desktop_agent.testing import ScriptedModel, Turn

    text = "".join(f"w{i} " for i in range(3000))
    agent = Agent(model=ScriptedModel([Turn(text=text, chunk_size=3)]))
    slow = agent.dispatcher.subscribe(maxsize=16)
    fast = agent.dispatcher.subscribe(maxsize=100_000)
    state = await agent.handle_message("go")  # completes without any reader reading
    assert state.last_answer == text
    got_fast = fast.drain_nowait()
    check_run(got_fast)
    got_slow = []
    async for e in slow:
        got_slow.append(e)
        await asyncio.sleep(0)
        if e.type is EventType.DONE:
            break
    check_run(got_slow, merged_ok=True)
    assert len(got_slow) < len(got_fast) / 10
