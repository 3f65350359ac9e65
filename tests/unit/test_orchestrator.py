"""Conversations as tenants; runs belong to the orchestrator."""

from __future__ import annotations

import asyncio

import pytest

from desktop_agent import AgentState, EventType, Orchestrator, StreamMode
from desktop_agent.testing import ScriptedModel, Turn
from tests.support.clock import elapse
from tests.support.contract import check_run, text_of


class EchoModel(ScriptedModel):
    """Answers with the last user message, slowly, so runs overlap."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.active = 0
        self.peak = 0

    async def stream_completion(self, messages, tools=None, *, timeouts=None):  # type: ignore[no-untyped-def]
        from desktop_agent import ChatChunk

        self.requests.append(list(messages))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            last = next(m["content"] for m in reversed(messages) if m["role"] == "user")
            for word in f"echo: {last}".split(" "):
                await asyncio.sleep(self.delay)
                yield ChatChunk(content=word + " ")
            yield ChatChunk(finish_reason="stop")
        finally:
            self.active -= 1


async def test_history_is_per_tenant() -> None:
    orch = Orchestrator(EchoModel(), system_prompt="sys")
    a = [e async for e in orch.submit("apple", tenant_id="A").events()]
    b = [e async for e in orch.submit("banana", tenant_id="B").events()]
    a2 = [e async for e in orch.submit("again", tenant_id="A").events()]
    for run in (a, b, a2):
        check_run(run)  # type: ignore[arg-type]
    assert {e.tenant_id for e in b} == {"B"}
    assert [m["content"] for m in orch.messages("A") if m["role"] == "user"] == ["apple", "again"]
    assert [m["content"] for m in orch.messages("B") if m["role"] == "user"] == ["banana"]


@pytest.mark.virtual_clock
async def test_tenants_run_concurrently_and_a_busy_tenant_queues() -> None:
    model = EchoModel(delay=0.01)
    orch = Orchestrator(model)

    async def ask(tenant: str, msg: str) -> list:  # type: ignore[type-arg]
        return [e async for e in orch.submit(msg, tenant_id=tenant).events()]

    results = await asyncio.gather(ask("A", "one two"), ask("B", "three"), ask("A", "four"))
    for run in results:
        check_run(run)
    assert model.peak == 2  # A and B together; A's second message waited
    first_a_done = results[0][-1].meta.timestamp
    second_a_start = results[2][0].meta.timestamp
    assert second_a_start >= first_a_done
    history = orch.messages("A")
    assert [m["content"] for m in history if m["role"] == "user"] == ["one two", "four"]


@pytest.mark.virtual_clock
async def test_consumer_that_stops_watching_does_not_stop_the_run() -> None:
    orch = Orchestrator(
        ScriptedModel([Turn(text="a long answer " * 20, chunk_size=3, delay=0.002)])
    )
    stream = orch.submit("hi", tenant_id="T").events()
    async for event in stream:
        if event.type is EventType.MESSAGE_CHUNK:
            break
    await stream.aclose()
    assert orch.busy("T")
    handle = orch.runs("T")[0]
    final = await handle.wait()
    assert final.status.value == "done"
    assert orch.messages("T")[-1]["content"] == "a long answer " * 20


@pytest.mark.virtual_clock
async def test_cancel_tenant_stops_running_and_queued_runs() -> None:
    orch = Orchestrator(ScriptedModel([Turn(text="x" * 100, chunk_size=1, delay=0.01)], loop=True))
    watch = orch.dispatcher.subscribe(tenant_id="T")
    first = orch.submit("one", tenant_id="T")
    second = orch.submit("two", tenant_id="T")
    await elapse(0.05)  # the first is streaming
    assert orch.cancel("T")
    await first.wait()
    await second.wait()
    events = watch.drain_nowait()
    by_run: dict[str, list] = {}  # type: ignore[type-arg]
    for e in events:
        by_run.setdefault(e.run_id, []).append(e)
    assert set(by_run) == {first.run_id, second.run_id}
    for run_events in by_run.values():
        check_run(run_events)
        assert run_events[-1].status == "cancelled"
    assert len(by_run[second.run_id]) == 1  # never started: a lone DONE
    assert not orch.busy("T")


async def test_values_mode_through_orchestrator() -> None:
    orch = Orchestrator(ScriptedModel(["hello world"]))
    items = [x async for x in orch.submit("hi", tenant_id="V").events(StreamMode.VALUES)]
    assert all(isinstance(x, AgentState) for x in items)
    assert items[0].messages[-1] == {"role": "user", "content": "hi"}  # type: ignore[union-attr]
    assert items[-1].messages[-1]["content"] == "hello world"  # type: ignore[union-attr]


@pytest.mark.virtual_clock
async def test_aclose_cancels_everything() -> None:
    orch = Orchestrator(ScriptedModel([Turn(text="y" * 100, chunk_size=1, delay=0.01)], loop=True))
    handles = [orch.submit("q", tenant_id=t) for t in "ABC"]
    await elapse(0.03)  # all three are streaming
    await orch.aclose()
    assert all(h.done for h in handles)
    assert all(orch.state(t).status.value == "cancelled" for t in "ABC")


async def test_set_history_then_continue() -> None:
    model = EchoModel()
    orch = Orchestrator(model)
    orch.set_messages(
        "H", [{"role": "user", "content": "old"}, {"role": "assistant", "content": "ok"}]
    )
    events = [e async for e in orch.submit("new", tenant_id="H").events()]
    assert text_of(events) == "echo: new "  # type: ignore[arg-type]
    assert [m["content"] for m in model.requests[0]] == ["old", "ok", "new"]
