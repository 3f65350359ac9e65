"""A conversation of any length keeps working against a server that enforces its context.

The scripted server refuses (400, context_length_exceeded) every request whose tokens
pass its limit, and reports the limit as llama.cpp's `/props` `n_ctx`; the app learns
the window from there, fits each request, and summarises or drops what is left out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from desktop_agent import Agent
from desktop_agent.engine.compaction import SUMMARY_PROMPT, ContextKeeper
from desktop_agent.engine.context import ContextPolicy
from desktop_agent.engine.events import ContextReport, ErrorReport, Event, UsageReport
from desktop_agent.engine.state import AgentState
from desktop_agent.engine.tools import tool
from desktop_agent.providers.context_window import known_window, model_facts
from desktop_agent.providers.openai import OpenAIClient
from tests.support.clock import until
from tests.support.scripted_server import Fail, Reply, ScriptedServer, request_tokens

LIMIT = 4096


@pytest.fixture
async def server() -> AsyncIterator[ScriptedServer]:
    async with ScriptedServer() as s:
        s.token_limit = LIMIT
        yield s


@tool
def lookup(topic: str) -> str:
    """Look a topic up."""
    return f"notes on {topic}: " + "n" * 400


def is_summary_request(body: dict[str, Any]) -> bool:
    return body["messages"][0]["content"] == SUMMARY_PROMPT


def assert_pairs_intact(messages: list[dict[str, Any]]) -> None:
    open_calls: set[str] = set()
    for m in messages:
        if m["role"] == "tool":
            assert m["tool_call_id"] in open_calls
            open_calls.discard(m["tool_call_id"])
        else:
            assert not open_calls
            open_calls = {c["id"] for c in m.get("tool_calls") or ()}
    assert not open_calls


async def collect(agent: Agent, message: str, state: Any) -> tuple[Any, list[Event]]:
    handle = agent.start(message, state)
    events = [e async for e in handle.events()]
    return await handle.wait(), events


@pytest.mark.parametrize("strategy", ["summarise", "drop_oldest"])
async def test_fifty_turns_keep_answering_within_the_limit(
    server: ScriptedServer, strategy: str
) -> None:
    summaries: list[str] = []

    def respond(body: dict[str, Any]) -> Reply | None:
        if is_summary_request(body):
            summaries.append(body["messages"][1]["content"])
            return Reply(text=f"Summary {len(summaries)}: they asked about topics.")
        last = body["messages"][-1]
        if last["role"] == "user" and "look it up" in last["content"]:
            return Reply(tool_calls=[["p1", "lookup", json.dumps({"topic": "t"})]])
        return None

    server.responder = respond
    server.default = Reply(text="An answer of some length. " * 24)
    client = OpenAIClient(api_key="", model="scripted-small", base_url=server.base_url)
    keeper = ContextKeeper(ContextPolicy(reserve=400, strategy=strategy))
    agent = Agent("You are terse.", model=client, tools=[lookup], context=keeper)
    state = None
    reports: list[ContextReport] = []
    for turn in range(50):
        text = f"Turn {turn}: " + ("please look it up" if turn % 7 == 3 else "tell me more " * 20)
        state, events = await collect(agent, text, state)
        assert state.status.value == "done", [e for e in events if isinstance(e, ErrorReport)]
        assert state.last_answer
        reports += [e for e in events if isinstance(e, ContextReport)]
        assert any(isinstance(e, UsageReport) for e in events)
    await client.aclose()

    assert client.context_window == LIMIT  # learned from /props
    assert all(tokens <= LIMIT for tokens in server.request_tokens)
    chats = [r.body for r in server.requests if not is_summary_request(r.body)]
    for body in chats:
        assert_pairs_intact(body["messages"])
        assert body["messages"][0]["role"] == "system"
        assert body["messages"][0]["content"].startswith("You are terse.")
        assert request_tokens(body) <= LIMIT - 400  # the answer's room was kept
    # the history keeps everything: 50 user messages, every tool call and result
    assert sum(m["role"] == "user" for m in state.messages) == 50
    assert sum(m["role"] == "tool" for m in state.messages) == 7
    assert len(state.messages) > len(chats[-1]["messages"]) * 3
    dropped = [r for r in reports if r.dropped]
    assert dropped and dropped[-1].window == LIMIT and dropped[-1].strategy == strategy
    if strategy == "summarise":
        assert summaries and all(r.summary for r in dropped)
        assert "Summary of the earlier part" in chats[-1]["messages"][0]["content"]
        # summaries are extended, not rewritten from scratch before every request
        assert len(summaries) < len(dropped)
        assert any("(Summary so far:" in s for s in summaries)
    else:
        assert not summaries and not any(r.summary for r in dropped)
        assert "earlier messages of this conversation" in chats[-1]["messages"][0]["content"]


async def test_context_error_compacts_harder_and_retries_once(server: ScriptedServer) -> None:
    # The window is unknown (no /props), so nothing is fitted until the server says no.
    server.token_limit = None
    history: list[dict[str, Any]] = [{"role": "system", "content": "sys"}]
    for i in range(30):
        history += [
            {"role": "user", "content": f"q{i} " + "x" * 300},
            {"role": "assistant", "content": f"a{i} " + "y" * 300},
        ]
    server.add(
        Fail(400, "This model's maximum context length is 4096 tokens."), Reply(text="fitted")
    )
    client = OpenAIClient(api_key="", model="scripted-small", base_url=server.base_url)
    agent = Agent("sys", model=client, context=ContextKeeper(ContextPolicy(strategy="drop_oldest")))
    state, events = await collect(agent, "now", AgentState(messages=tuple(history)))
    await client.aclose()
    assert state.status.value == "done" and state.last_answer == "fitted"
    first, second = server.requests
    assert len(second.body["messages"]) < len(first.body["messages"])
    (report,) = [e for e in events if isinstance(e, ContextReport)]
    assert report.retry and report.dropped > 0
    assert not any(isinstance(e, ErrorReport) for e in events)


async def test_still_too_long_says_what_to_do(server: ScriptedServer) -> None:
    server.token_limit = None
    server.add(
        Fail(400, "the request exceeds the available context size"),
        Fail(400, "the request exceeds the available context size"),
        Reply(text="never"),
    )
    client = OpenAIClient(api_key="", model="scripted-small", base_url=server.base_url)
    agent = Agent("sys", model=client)
    state, events = await collect(agent, "hello " * 50, None)
    await client.aclose()
    assert state.status.value == "failed"
    (error,) = [e for e in events if isinstance(e, ErrorReport)]
    assert error.error_type == "context_length"
    assert "too long for the model's context" in error.error
    assert "compacted harder and sent again" in error.error
    assert "new conversation" in error.error and "bigger context" in error.error
    assert len(server.requests) == 2  # retried once, not more


async def test_model_facts_from_openrouter_style_list(server: ScriptedServer) -> None:
    server.token_limit = None
    facts = await model_facts(server.base_url, "scripted-small")
    assert facts.window is None  # the scripted /models says nothing about it
    assert known_window("openai/gpt-4o-mini") == 128_000
    assert known_window("unknown-model") is None
    server.token_limit = 3000
    facts = await model_facts(server.base_url, "scripted-small")
    assert (facts.window, facts.source) == (3000, "llama.cpp /props")


async def test_model_facts_from_openrouter_and_ollama(server: ScriptedServer) -> None:
    server.token_limit = None
    server.model_info["scripted-small"] = {
        "context_length": 32768,
        "pricing": {"prompt": "0.0000025", "completion": "0.00001"},
    }
    facts = await model_facts(server.base_url, "scripted-small")
    assert (facts.window, facts.source) == (32768, "/models")
    assert facts.prompt_price == pytest.approx(2.5) and facts.completion_price == pytest.approx(10)
    server.lmstudio_models = [
        {"id": "qwen2.5-7b-instruct", "max_context_length": 32768, "loaded_context_length": 8192}
    ]
    facts = await model_facts(server.base_url, "qwen2.5-7b-instruct")
    assert (facts.window, facts.source) == (8192, "LM Studio /api/v0/models")  # as loaded
    server.ollama_show["llama3.2:1b"] = {"model_info": {"llama.context_length": 131072}}
    facts = await model_facts(server.base_url, "llama3.2:1b")
    assert (facts.window, facts.source) == (131072, "Ollama /api/show")


async def test_openrouter_prices_give_each_answer_a_cost(server: ScriptedServer) -> None:
    server.token_limit = None
    server.model_info["scripted-small"] = {
        "context_length": 32768,
        "pricing": {"prompt": "0.000002", "completion": "0.000008"},
    }
    server.add(Reply(text="a priced answer"))
    client = OpenAIClient(api_key="", model="scripted-small", base_url=server.base_url)
    agent = Agent("sys", model=client)
    _state, events = await collect(agent, "hi", None)
    await client.aclose()
    (usage,) = [e for e in events if isinstance(e, UsageReport)]
    # 3 prompt tokens (the scripted usage) at $2/M, and the completion at $8/M
    expected = (usage.prompt_tokens * 2 + usage.completion_tokens * 8) / 1_000_000
    assert usage.cost == pytest.approx(expected) and usage.cost > 0
    (context,) = [e for e in events if isinstance(e, ContextReport)]
    assert context.window == 32768


async def test_summarising_is_cancelled_with_the_run(server: ScriptedServer) -> None:
    summary_asked = asyncio.Event()

    def respond(body: dict[str, Any]) -> Reply | None:
        if is_summary_request(body):
            summary_asked.set()
            return Reply(text="never finished", hang_after=0)
        return None

    server.responder = respond
    server.token_limit = None
    client = OpenAIClient(api_key="", model="scripted-small", base_url=server.base_url)
    keeper = ContextKeeper(ContextPolicy(window=5000, reserve=500))
    agent = Agent("sys", model=client, context=keeper)
    history: list[dict[str, Any]] = [{"role": "system", "content": "sys"}]
    for i in range(40):
        history += [
            {"role": "user", "content": f"q{i} " + "x" * 400},
            {"role": "assistant", "content": f"a{i} " + "y" * 400},
        ]
    handle = agent.start("next", AgentState(messages=tuple(history)))
    await asyncio.wait_for(summary_asked.wait(), 10)
    handle.cancel()
    state = await handle.wait()
    assert state.status.value == "cancelled"
    assert len(server.requests) == 1  # the summary request only; the answer never asked
    await until(lambda: len(server.disconnects) == 1, "the summary request to be dropped")
    await client.aclose()


async def test_counts_with_llama_cpp_tokenize_within_five_percent(server: ScriptedServer) -> None:
    """A llama.cpp server (it has /props) counts with its own /tokenize: the request's
    count is within 5 % of the server's (the scripted server counts 4 characters a
    token, and 4 for each message's markers)."""
    server.token_limit = 100_000
    server.add(Reply(text="counted"))
    client = OpenAIClient(api_key="", model="scripted-small", base_url=server.base_url)
    agent = Agent("You count.", model=client)
    history: list[dict[str, Any]] = [{"role": "system", "content": "You count."}]
    for i in range(20):
        history += [
            {"role": "user", "content": f"Question {i}: " + "how many tokens is this? " * (i + 1)},
            {"role": "assistant", "content": f"Answer {i}: " + "about this many. " * (i + 2)},
        ]
    _state, events = await collect(agent, "and this?", AgentState(messages=tuple(history)))
    await client.aclose()
    assert client.server_tokenizer
    (context,) = [e for e in events if isinstance(e, ContextReport)]
    theirs = server.request_tokens[-1]
    assert abs(context.tokens - theirs) <= 0.05 * theirs, (context.tokens, theirs)
