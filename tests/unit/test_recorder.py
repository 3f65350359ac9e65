"""The recorder: the event stream of real runs (Orchestrator + ScriptedModel) into
a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_agent import Orchestrator
from desktop_agent.engine.model import ModelConnectionError, RetryPolicy
from desktop_agent.storage import Recorder, Store
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.tools.basic import calculator
from tests.support.clock import elapse


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "history.db")
    yield s  # type: ignore[misc]
    s.close()


def recording(store: Store, turns: list[Turn | str], **kw: object) -> Orchestrator:
    orchestrator = Orchestrator(ScriptedModel(turns), tools=[calculator], **kw)  # type: ignore[arg-type]
    Recorder(store, orchestrator.dispatcher, checkpoint_s=0.05).start()
    return orchestrator


async def test_a_run_with_a_tool_call_is_recorded(store: Store) -> None:
    orchestrator = recording(
        store,
        [
            Turn(
                reasoning="Use the calculator.",
                tool_calls=[ScriptedToolCall("calculator", {"expression": "6*7"}, id="call_1")],
            ),
            Turn(text="It is **42**."),
        ],
    )
    await orchestrator.submit("What is 6 × 7?", tenant_id="c1").wait()
    shown = store.path("c1")
    assert [(m.role, m.content, m.status) for m in shown] == [
        ("user", "What is 6 × 7?", "complete"),
        ("assistant", "", "complete"),
        ("tool", "42", "complete"),
        ("assistant", "It is **42**.", "complete"),
    ]
    assert shown[1].reasoning == "Use the calculator."
    [call] = shown[1].tool_calls or []
    assert call["id"].startswith("call_") and call["id"] != "call_1"  # the app's own id
    assert call == {
        "id": call["id"],
        "provider_id": "call_1",  # kept for the wire back to the provider
        "name": "calculator",
        "arguments": '{"expression": "6*7"}',
    }
    assert shown[2].tool_call_id == call["id"] and shown[2].tool_name == "calculator"
    [conv] = store.conversations()
    assert conv.title == "What is 6 × 7?"
    # What the store gives back is what the engine would send next time.
    assert store.model_messages("c1") == list(orchestrator.messages("c1"))


@pytest.mark.virtual_clock
async def test_streaming_text_is_checkpointed_then_completed(store: Store) -> None:
    # 200 chunks, 5 ms apart on the loop's (virtual) clock; checkpoints every 50 ms.
    orchestrator = recording(store, [Turn(text="word " * 200, chunk_size=5, delay=0.005)])
    handle = orchestrator.submit("talk", tenant_id="c1")
    await elapse(0.4)
    [_user, partial] = store.path("c1")
    assert partial.status == "partial"
    assert partial.content and partial.content != "word " * 200
    assert ("word " * 200).startswith(partial.content)
    await handle.wait()
    assert store.path("c1")[-1].content == "word " * 200
    assert store.path("c1")[-1].status == "complete"


@pytest.mark.virtual_clock
async def test_cancelled_and_failed_runs_are_marked(store: Store) -> None:
    orchestrator = recording(
        store,
        [
            Turn(text="a long answer " * 100, chunk_size=3, delay=0.005),
            Turn(text="partly", chunk_size=2, error=ModelConnectionError("lost"), error_after=2),
            Turn(error=ModelConnectionError("refused")),
        ],
        retry=RetryPolicy(max_attempts=1),
    )
    handle = orchestrator.submit("one", tenant_id="c1")
    await elapse(0.1)  # some of the answer streamed (and was checkpointed)
    orchestrator.cancel("c1")
    await handle.wait()
    cancelled = store.path("c1")[-1]
    assert cancelled.status == "cancelled" and cancelled.content
    await orchestrator.submit("two", tenant_id="c1").wait()
    failed = store.path("c1")[-1]
    assert (failed.status, failed.content) == ("failed", "part")
    assert "lost" in (failed.error or "")
    await orchestrator.submit("three", tenant_id="c1").wait()
    user = store.path("c1")[-1]  # nothing was answered: the error is on the question
    assert (user.role, user.content) == ("user", "three")
    assert "refused" in (user.error or "")


async def test_regenerating_records_a_new_version(store: Store) -> None:
    orchestrator = recording(store, ["First answer.", "Second answer."])
    await orchestrator.submit("Hi", tenant_id="c1").wait()
    question = store.path("c1")[0]
    store.set_leaf("c1", question.id)
    orchestrator.set_messages("c1", store.model_messages("c1"))
    await orchestrator.submit(None, tenant_id="c1").wait()
    shown = store.path("c1")
    assert [m.content for m in shown] == ["Hi", "Second answer."]
    assert store.versions(shown) == {shown[1].id: (2, 2)}
    assert store.switch_version(shown[1].id, -1) is not None
    assert [m.content for m in store.path("c1")] == ["Hi", "First answer."]


async def test_a_write_that_fails_is_reported_and_recording_goes_on(
    store: Store, tmp_path: Path
) -> None:
    errors: list[str] = []
    orchestrator = Orchestrator(ScriptedModel(["ok", "ok again"]))
    Recorder(store, orchestrator.dispatcher, on_error=errors.append).start()
    store._db.execute(
        "CREATE TRIGGER no_users BEFORE INSERT ON messages WHEN new.role = 'user' "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    await orchestrator.submit("lost", tenant_id="c1").wait()
    assert errors and "disk says no" in errors[0]
    store._db.execute("DROP TRIGGER no_users")
    await orchestrator.submit("kept", tenant_id="c1").wait()
    assert [m.content for m in store.path("c1")][-2:] == ["kept", "ok again"]


async def test_a_provider_repeating_a_call_id_loses_no_tool_result(store: Store) -> None:
    """The same provider id in two steps of a run once failed the store's UNIQUE
    constraint and lost the second tool result (issue 12)."""
    again = ScriptedToolCall("calculator", {"expression": "1+1"}, id="call_0")
    orchestrator = recording(
        store, [Turn(tool_calls=[again]), Turn(tool_calls=[again]), "Two and two."]
    )
    state = await orchestrator.submit("twice", tenant_id="c1").wait()
    assert state.status == "done"
    tools = [m for m in store.path("c1") if m.role == "tool"]
    assert [m.content for m in tools] == ["2", "2"]
    assert len({m.tool_call_id for m in tools}) == 2
    assert store.model_messages("c1") == list(orchestrator.messages("c1"))


async def test_the_user_message_is_recorded_from_its_event(store: Store) -> None:
    """The recorder learns the user's message from USER_MESSAGE (stored under the
    event's message_id), not from a key of the first state change."""
    from desktop_agent.engine.dispatcher import EventDispatcher
    from desktop_agent.engine.events import Done, EventMeta, UserMessage
    from desktop_agent.engine.status import RunOutcome

    dispatcher = EventDispatcher()
    Recorder(store, dispatcher).start()
    dispatcher.publish(UserMessage("Hi there", "run_9:user", meta=EventMeta("run_9", "c9", 0)))
    dispatcher.publish(Done(RunOutcome.CANCELLED, 0.0, meta=EventMeta("run_9", "c9", 1)))
    [message] = store.path("c9")
    assert (message.id, message.role, message.content) == ("run_9:user", "user", "Hi there")


async def test_any_failure_costs_one_event_not_the_recording(store: Store) -> None:
    """A text SQLite cannot take (a lone surrogate reaching the recorder past the edges)
    raised UnicodeEncodeError, which the recorder let through: the dispatcher removed it
    and nothing more was saved in the session (issue 12 review)."""
    errors: list[str] = []
    orchestrator = Orchestrator(ScriptedModel(["ok", "ok again"]))
    Recorder(store, orchestrator.dispatcher, on_error=errors.append).start()
    await orchestrator.submit("lost \ud800", tenant_id="c1").wait()
    assert errors and "surrogates not allowed" in errors[0]
    await orchestrator.submit("kept", tenant_id="c1").wait()
    assert [m.content for m in store.path("c1")][-2:] == ["kept", "ok again"]
