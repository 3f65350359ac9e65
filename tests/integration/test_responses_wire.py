"""The Responses API wire: the real openai client against the scripted server's
/v1/responses. First the fake is proved faithful (the SDK's own typed stream and
its `ResponseStreamEvent` models accept every event), then the provider: text,
tool calls with arguments in deltas and no name on `done`, arguments only on
`done`, reasoning, usage, `response.failed`, a cut stream, Auto's one probe, and
`previous_response_id`."""

from __future__ import annotations

import json
from typing import Any, get_args

import openai
import pytest
from openai.types.responses import ResponseStreamEvent

from desktop_agent import Agent, BadResponseError, ServerError, tool
from desktop_agent.engine.model import ChatChunk
from desktop_agent.providers.openai import OpenAIClient
from desktop_agent.providers.responses import probed
from tests.support.responses_server import render_response_events
from tests.support.scripted_server import Reply, ScriptedServer


@tool("Add two integers")
def add(a: int, b: int) -> int:
    return a + b


#: The SDK's model of each stream event type.
MODELS: dict[str, Any] = {
    get_args(member.model_fields["type"].annotation)[0]: member
    for member in get_args(get_args(ResponseStreamEvent)[0])
}

TOOL_REPLY = Reply(tool_calls=[["call_a", "add", '{"a": 20, "b": 22}']], chunk_size=3)


async def collect(
    client: OpenAIClient, tools: list[dict[str, Any]] | None = None
) -> list[ChatChunk]:
    messages = [{"role": "user", "content": "hi"}]
    return [c async for c in client.stream_completion(messages, tools)]


@pytest.mark.parametrize(
    "reply",
    [
        Reply(text="Hello there, friend.", reasoning="Let me think."),
        TOOL_REPLY,
        Reply(text="x", responses_failure="the model crashed"),
    ],
)
async def test_the_fake_is_faithful(reply: Reply) -> None:
    """Every event validates against the SDK's models, and the SDK's own stream
    parses the served bytes into the same types."""
    events, closing = render_response_events(reply)
    for raw in events + closing:
        MODELS[raw["type"]].model_validate(raw, strict=False)
    async with ScriptedServer() as server:
        server.add(reply)
        client = openai.AsyncOpenAI(api_key="k", base_url=server.base_url)
        stream = await client.responses.create(model="scripted", input="hi", stream=True)
        seen = [event.type async for event in stream]
        await client.close()
    assert seen == [e["type"] for e in events + closing]


async def test_text_reasoning_and_usage() -> None:
    async with ScriptedServer() as server:
        server.add(Reply(text="Hello there, friend.", reasoning="Let me think."))
        client = OpenAIClient(api_key="", base_url=server.base_url, model="m", api="responses")
        chunks = await collect(client)
        await client.aclose()
        request = server.requests[-1]
    assert request.path == "/v1/responses"
    assert request.body["input"] == [{"role": "user", "content": "hi"}]
    assert request.body["stream"] is True and "previous_response_id" not in request.body
    assert "".join(c.content or "" for c in chunks) == "Hello there, friend."
    assert "".join(c.reasoning or "" for c in chunks) == "Let me think."
    assert chunks[-1].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 3


@pytest.mark.parametrize("args_in_done", [False, True])
async def test_tool_calls_through_the_agent(args_in_done: bool) -> None:
    reply = Reply(
        tool_calls=[["call_a", "add", '{"a": 20, "b": 22}']],
        chunk_size=3,
        responses_args_in_done=args_in_done,
    )
    async with ScriptedServer() as server:
        server.add(reply, Reply(text="It is 42."))
        client = OpenAIClient(api_key="", base_url=server.base_url, model="m", api="responses")
        agent = Agent(model=client, tools=[add])
        state = await agent.handle_message("add")
        await client.aclose()
        second = server.requests[-1].body
    assert state.messages[-1]["content"] == "It is 42."
    assert second["tools"][0]["name"] == "add" and "function" not in second["tools"][0]
    call = next(i for i in second["input"] if i.get("type") == "function_call")
    output = next(i for i in second["input"] if i.get("type") == "function_call_output")
    assert (call["name"], json.loads(call["arguments"])) == ("add", {"a": 20, "b": 22})
    assert call["call_id"] == "call_a" == output["call_id"]
    assert output["output"] == "42"


async def test_failure_and_cut_stream_are_clear_errors() -> None:
    async with ScriptedServer() as server:
        server.add(
            Reply(text="partial", responses_failure="the model crashed"),
            Reply(text="one two three four", chunk_size=2, cut_after=3),
        )
        client = OpenAIClient(api_key="", base_url=server.base_url, model="m", api="responses")
        with pytest.raises(ServerError, match="the model crashed"):
            await collect(client)
        with pytest.raises(BadResponseError, match=r"response\.completed"):
            await collect(client)
        await client.aclose()


async def test_auto_probes_once_per_endpoint() -> None:
    async with ScriptedServer() as chat_only, ScriptedServer() as modern:
        chat_only.no_responses = True
        chat_only.add(Reply(text="via chat"), Reply(text="chat again"))
        modern.add(Reply(text="via responses"))
        old = OpenAIClient(api_key="", base_url=chat_only.base_url, model="m", api="auto")
        new = OpenAIClient(api_key="", base_url=modern.base_url, model="m", api="auto")
        assert "".join(c.content or "" for c in await collect(old)) == "via chat"
        assert "".join(c.content or "" for c in await collect(old)) == "chat again"
        assert "".join(c.content or "" for c in await collect(new)) == "via responses"
        await old.aclose()
        await new.aclose()
        paths = [r.path for r in chat_only.requests]
    # one probe of /responses, then chat completions only
    assert paths == ["/v1/responses", "/v1/chat/completions", "/v1/chat/completions"]
    assert probed(chat_only.base_url) == "chat" and probed(modern.base_url) == "responses"


async def test_previous_response_id_sends_only_the_new_part() -> None:
    async with ScriptedServer() as server:
        server.add(Reply(text="First."), Reply(text="Second."))
        client = OpenAIClient(
            api_key="",
            base_url=server.base_url,
            model="m",
            api="responses",
            previous_response_id=True,
        )
        agent = Agent(model=client)
        state = await agent.handle_message("one")
        await agent.handle_message("two", state)
        await client.aclose()
        first, second = (r.body for r in server.requests)
    assert "previous_response_id" not in first
    assert second["previous_response_id"] == "resp_scripted"
    assert second["input"] == [{"role": "user", "content": "two"}]


def test_an_unknown_api_is_refused() -> None:
    with pytest.raises(ValueError, match="api must be one of"):
        OpenAIClient(api_key="", base_url="http://127.0.0.1:1/v1", api="soap")
