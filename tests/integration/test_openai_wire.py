"""The real openai client over real HTTP against the scripted server: every wire
shape and every failure the engine issue lists."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from desktop_agent import (
    Agent,
    AuthenticationError,
    Event,
    EventType,
    RetryPolicy,
    StreamEngine,
    Timeouts,
    tool,
)
from desktop_agent.engine.events import UsageReport
from desktop_agent.providers.openai import OpenAIClient
from tests.support.clock import until
from tests.support.contract import check_run, provider_ids, text_of, tool_ends
from tests.support.scripted_server import Fail, Reply, ScriptedServer

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


@tool("Add two integers")
def add(a: int, b: int) -> int:
    return a + b


@tool("Multiply two integers")
def mul(a: int, b: int) -> int:
    return a * b


async def run(client: OpenAIClient, message: str = "hi", **agent_kwargs: object) -> list[Event]:
    agent = Agent("sys", model=client, **agent_kwargs)  # type: ignore[arg-type]
    events = [e async for e in StreamEngine().stream(agent, message)]
    check_run(events)  # type: ignore[arg-type]
    return events  # type: ignore[return-value]


def error_of(events: list[Event]) -> dict[str, object]:
    return next(e.to_dict()["data"] for e in events if e.type is EventType.ERROR)


async def test_text_streams_with_usage(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Reply(text="Hello from the scripted server!", chunk_size=3))
    events = await run(client)
    assert text_of(events) == "Hello from the scripted server!"
    usage = next(e for e in events if e.type is EventType.USAGE)
    assert usage.total_tokens > 0
    body = server.requests[0].body
    assert body["stream"] is True and body["model"] == "scripted-small"
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
    ]
    assert server.requests[0].headers["Authorization"] == "Bearer sk-test-key-123456"


async def test_interleaved_tool_calls_run_and_answer(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    server.add(
        Reply(
            text="Computing.",
            tool_calls=[
                ["call_a", "add", '{"a": 20, "b": 22}'],
                ["call_m", "mul", '{"a": 6, "b": 7}'],
            ],
            interleave_tools=True,
            chunk_size=3,
        ),
        Reply(text="Both are 42."),
    )
    events = await run(client, "compute", tools=[add, mul])
    given = provider_ids(events)  # the app's ids -> the server's
    args: dict[str, str] = {}
    for e in events:
        if e.type is EventType.TOOL_CALL_ARGS:
            key = given[e.call_id]
            args[key] = args.get(key, "") + e.delta
    assert args == {"call_a": '{"a": 20, "b": 22}', "call_m": '{"a": 6, "b": 7}'}
    assert tool_ends(events) == {"call_a": "42", "call_m": "42"}
    second = server.requests[1].body["messages"]
    assert second[2]["tool_calls"][1]["function"] == {
        "name": "mul",
        "arguments": '{"a": 6, "b": 7}',
    }
    assert second[3:] == [
        {"role": "tool", "tool_call_id": "call_a", "content": "42"},
        {"role": "tool", "tool_call_id": "call_m", "content": "42"},
    ]
    assert server.requests[0].body["tools"][0]["function"]["name"] == "add"
    assert text_of(events).endswith("Both are 42.")


async def test_the_servers_call_ids_go_back_only_when_usable(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    """A provider's ids are kept for the wire back to it, unless they repeat or carry
    markup: then the app's own (unique) ids go on the wire, paired consistently."""
    server.add(
        Reply(
            tool_calls=[
                ["call_0", "add", '{"a": 1, "b": 2}'],
                ["call_0", "mul", '{"a": 2, "b": 3}'],  # the same id again
                ['x"><b>', "add", '{"a": 3, "b": 4}'],  # markup in an id
            ]
        ),
        Reply(tool_calls=[["call_0", "add", '{"a": 5, "b": 6}']]),  # again, next step
        Reply(text="done"),
    )
    events = await run(client, "go", tools=[add, mul])
    check_run(events)
    last = server.requests[2].body["messages"]
    asked = [c["id"] for m in last if m["role"] == "assistant" for c in m["tool_calls"]]
    answered = [m["tool_call_id"] for m in last if m["role"] == "tool"]
    assert asked[0] == "call_0"  # the provider's own id, back on the wire
    assert len(set(asked)) == 4 and asked == answered  # unique, and each result paired
    assert all(a == "call_0" or (a.startswith("call_") and a[5:].isalnum()) for a in asked)
    assert sorted(m["content"] for m in last if m["role"] == "tool") == ["11", "3", "6", "7"]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_fields(server: ScriptedServer, client: OpenAIClient, field: str) -> None:
    server.add(Reply(text="42", reasoning="Six times seven.", reasoning_field=field))
    events = await run(client)
    reasoning = "".join(e.chunk for e in events if e.type is EventType.REASONING_CHUNK)
    assert reasoning == "Six times seven."
    assert text_of(events) == "42"


async def test_reasoning_is_not_sent_back(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Reply(text="a", reasoning="secret thoughts"), Reply(text="b"))
    agent = Agent(model=client)
    state = await agent.handle_message("one")
    assert state.messages[-1]["reasoning"] == "secret thoughts"
    await agent.handle_message("two", state)
    assert all("reasoning" not in m for m in server.requests[1].body["messages"])


async def test_server_rejecting_stream_options(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    server.reject_stream_options = True
    server.add(Reply(text="fine without usage"), Reply(text="again"))
    events = await run(client)
    assert text_of(events) == "fine without usage"
    # No usage from the server: the app counted it (and says so).
    (usage,) = [e for e in events if isinstance(e, UsageReport)]
    assert usage.estimated and usage.completion_tokens > 0 and usage.prompt_tokens > 0
    assert "stream_options" in server.requests[0].body
    assert "stream_options" not in server.requests[1].body
    await run(client)  # learned: asks without it straight away
    assert "stream_options" not in server.requests[2].body


async def test_server_refusing_streaming(server: ScriptedServer, client: OpenAIClient) -> None:
    server.reject_streaming = True
    server.add(Reply(text="One whole answer."))
    events = await run(client)
    chunks = [e for e in events if e.type is EventType.MESSAGE_CHUNK]
    assert [c.chunk for c in chunks] == ["One whole answer."]
    assert server.requests[1].body.get("stream") is not True


async def test_server_ignoring_stream_flag(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(
        Reply(text="JSON, not SSE.", tool_calls=[["c", "add", '{"a":1,"b":1}']], ignore_stream=True)
    )
    server.add(Reply(text="2"))
    events = await run(client, tools=[add])
    assert next(e for e in events if e.type is EventType.TOOL_CALL_END).result == "2"


async def test_sloppy_server_without_finish_reason_but_done(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    server.add(Reply(text="no finish, but [DONE]", omit_finish=True))
    events = await run(client)
    assert events[-1].status == "completed"
    assert text_of(events) == "no finish, but [DONE]"


async def test_malformed_chunk(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Reply(text="abcdefghijklmnop", chunk_size=2, malformed_after=3))
    events = await run(client, retry=FAST_RETRY)
    err = error_of(events)
    assert err["error_type"] == "bad_response"
    assert "not valid JSON" in str(err["error"])
    complete = next(e for e in events if e.type is EventType.MESSAGE_COMPLETE)
    assert complete.content == "abcdef"  # partial text kept
    assert events[-1].status == "failed"
    assert len(server.requests) == 1  # text had been shown: no retry


async def test_stream_cut_without_finish(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Reply(text="abcdefghij", chunk_size=2, cut_after=2))
    events = await run(client, retry=FAST_RETRY)
    err = error_of(events)
    assert "closed before the answer was finished" in str(err["error"])
    assert next(e for e in events if e.type is EventType.MESSAGE_COMPLETE).content == "abcd"


async def test_connection_reset_mid_stream(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Reply(text="abcdefghij", chunk_size=2, reset_after=3))
    events = await run(client, retry=FAST_RETRY)
    err = error_of(events)
    assert err["error_type"] == "connection"
    assert "broke during the answer" in str(err["error"])
    assert next(e for e in events if e.type is EventType.MESSAGE_COMPLETE).content == "abcdef"
    assert len(server.requests) == 1


async def test_reset_before_any_text_is_retried(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    server.add(Reply(text="lost", reset_after=0), Reply(text="second try"))
    events = await run(client, retry=FAST_RETRY)
    assert text_of(events) == "second try"
    assert len(server.requests) == 2


async def test_429_honours_retry_after(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(
        Fail(429, "Slow down", headers={"Retry-After": "0.3"}),
        Reply(text="after the wait"),
    )
    events = await run(client, retry=RetryPolicy(max_attempts=3, base_delay=0.01))
    assert text_of(events) == "after the wait"
    gap = server.requests[1].at - server.requests[0].at
    assert gap >= 0.3, gap  # waited at least what the server asked


async def test_429_exhausted_gives_clear_error(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    server.add(
        *[Fail(429, "Rate limit reached for requests", headers={"retry-after-ms": "10"})] * 3
    )
    events = await run(client, retry=FAST_RETRY)
    err = error_of(events)
    assert err == {
        "error": f"Rate limited by 127.0.0.1:{server.port} (429); retry after 0.01 s: "
        "Rate limit reached for requests (after 3 attempts)",
        "error_type": "rate_limit",
        "recoverable": True,
    }


async def test_5xx_is_retried(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Fail(503, "overloaded"), Fail(500, "oops"), Reply(text="third time lucky"))
    events = await run(client, retry=FAST_RETRY)
    assert text_of(events) == "third time lucky"


async def test_401_with_and_without_key(server: ScriptedServer) -> None:
    server.require_key = "sk-right-key"
    wrong = OpenAIClient(api_key="sk-wrong-key-999", model="m", base_url=server.base_url)
    events = await run(wrong, retry=FAST_RETRY)
    err = error_of(events)
    assert err["error_type"] == "auth" and err["recoverable"] is False
    assert "rejected the API key (401): Incorrect API key provided." in str(err["error"])
    assert "sk-wrong-key-999" not in str(err["error"])
    assert len(server.requests) == 1
    keyless = OpenAIClient(api_key="", model="m", base_url=server.base_url)
    err = error_of(await run(keyless))
    assert "needs an API key (401): set OPENAI_API_KEY or add a key in Settings." in str(
        err["error"]
    )
    await wrong.aclose()
    await keyless.aclose()


async def test_key_echoed_by_server_is_redacted(server: ScriptedServer) -> None:
    key = "sk-echoed-secret-42"
    server.add(Fail(400, f"bad request from key {key}"))
    client = OpenAIClient(api_key=key, model="m", base_url=server.base_url)
    err = error_of(await run(client))
    assert key not in str(err["error"]) and "[redacted]" in str(err["error"])
    await client.aclose()


async def test_endpoint_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = OpenAIClient(api_key="k", model="m", base_url=f"http://127.0.0.1:{port}/v1")
    events = await run(client, retry=FAST_RETRY)
    err = error_of(events)
    assert err["error_type"] == "connection"
    assert str(err["error"]).startswith(f"Cannot reach 127.0.0.1:{port}:")
    assert str(err["error"]).endswith("(after 3 attempts)")
    await client.aclose()


async def test_404_model(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Fail(404, "The model `nope` does not exist"))
    err = error_of(await run(client))
    assert "Not found at" in str(err["error"]) and "'scripted-small'" in str(err["error"])


async def test_first_token_timeout_over_http(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Reply(text="never", hang_after=0))
    events = await run(client, timeouts=Timeouts(first_token=0.2))
    err = error_of(events)
    assert err["error_type"] == "timeout"
    await until(lambda: bool(server.disconnects), "the hanging connection to be closed")


async def test_idle_timeout_over_http(server: ScriptedServer, client: OpenAIClient) -> None:
    server.add(Reply(text="abcdefgh", chunk_size=2, hang_after=2))
    events = await run(client, timeouts=Timeouts(idle=0.2))
    assert error_of(events)["error"] == "Timed out: no data from the model for 0.2 s."
    assert next(e for e in events if e.type is EventType.MESSAGE_COMPLETE).content == "abcd"


async def test_cancel_closes_the_http_stream_quickly(
    server: ScriptedServer, client: OpenAIClient
) -> None:
    server.add(Reply(text="abcdefgh" * 10, chunk_size=2, hang_after=4))
    agent = Agent(model=client)
    events: list[Event] = []
    cancelled_at = 0.0
    handle = agent.start("x")
    async for e in handle.events():
        events.append(e)
        if e.type is EventType.MESSAGE_CHUNK and e.index == 3:
            cancelled_at = time.monotonic()
            handle.cancel()
    check_run(events)
    assert events[-1].status == "cancelled"
    complete = next(e for e in events if e.type is EventType.MESSAGE_COMPLETE)
    assert complete.to_dict()["data"] == {
        "message_id": complete.message_id,
        "content": "abcdefgh",
        "finish_reason": "cancelled",
    }
    for _ in range(100):
        if server.disconnects:
            break
        await asyncio.sleep(0.01)
    assert server.disconnects, "the server never saw the connection close"
    # Not a timing assertion on speed: the server polls every 5 ms, and a
    # connection left open would show no disconnect at all.
    assert server.disconnects[0] >= cancelled_at


async def test_list_models_and_complete(server: ScriptedServer, client: OpenAIClient) -> None:
    assert await client.list_models() == ["scripted-large", "scripted-small"]
    server.add(Reply(text="whole", tool_calls=[["c1", "add", '{"a":1,"b":2}']]))
    completion = await client.complete([{"role": "user", "content": "x"}])
    assert completion.content == "whole"
    assert completion.tool_calls[0].name == "add"
    assert completion.finish_reason == "tool_calls"
    assert completion.usage is not None and completion.usage.total_tokens == 8


async def test_list_models_error_is_model_error(server: ScriptedServer) -> None:
    server.require_key = "right"
    c = OpenAIClient(api_key="wrong-key", model="m", base_url=server.base_url)
    with pytest.raises(AuthenticationError, match=r"rejected the API key \(401\)"):
        await c.list_models()
    await c.aclose()


def test_environment_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("DESKTOP_AGENT_MODEL", "my-model")
    c = OpenAIClient()
    assert c.base_url == "http://127.0.0.1:9/v1"
    assert c.model == "my-model"
    assert c.host == "127.0.0.1:9"
    assert c._client.api_key == "sk-from-env"
