"""Fitting a conversation into the model's context: what stays, what is left out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from desktop_agent.engine.context import (
    ContextPolicy,
    TokenCounter,
    estimate_tokens,
    fit,
)
from desktop_agent.engine.model import ContextLengthError, is_context_error

Message = dict[str, Any]


def conversation(turns: int, size: int = 200) -> list[Message]:
    out: list[Message] = [{"role": "system", "content": "Be helpful."}]
    for i in range(turns):
        out.append({"role": "user", "content": f"question {i} " + "x" * size})
        if i % 3 == 1:  # a tool call and its two results
            out.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": f"c{i}a",
                            "type": "function",
                            "function": {"name": "t", "arguments": "{}"},
                        },
                        {
                            "id": f"c{i}b",
                            "type": "function",
                            "function": {"name": "t", "arguments": "{}"},
                        },
                    ],
                }
            )
            out.append({"role": "tool", "tool_call_id": f"c{i}a", "content": "r" * size})
            out.append({"role": "tool", "tool_call_id": f"c{i}b", "content": "r" * size})
        out.append({"role": "assistant", "content": f"answer {i} " + "y" * size})
    out.append({"role": "user", "content": "the latest question"})
    return out


def assert_pairs_intact(messages: tuple[Message, ...] | list[Message]) -> None:
    open_calls: set[str] = set()
    for m in messages:
        if m["role"] == "tool":
            assert m["tool_call_id"] in open_calls, "a tool result without its call"
            open_calls.discard(m["tool_call_id"])
        else:
            assert not open_calls, "a call without its result"
            open_calls = {c["id"] for c in m.get("tool_calls") or ()}


def test_estimate_errs_high_and_counts_non_ascii() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcdef") == 2
    assert estimate_tokens("日本語") >= 3


def test_everything_fits_nothing_changes() -> None:
    messages = conversation(3, size=10)
    result = fit(messages, TokenCounter(), ContextPolicy(window=100_000, reserve=100))
    assert list(result.messages) == messages
    assert result.dropped == 0 and result.fits


def test_unknown_window_or_off_sends_everything() -> None:
    messages = conversation(50)
    for policy in (ContextPolicy(), ContextPolicy(window=500, strategy="off")):
        assert list(fit(messages, TokenCounter(), policy).messages) == messages


def test_long_conversation_is_cut_oldest_first_with_a_marker() -> None:
    messages = conversation(60)
    counter = TokenCounter()
    policy = ContextPolicy(window=2048, reserve=512, strategy="drop_oldest")
    result = fit(messages, counter, policy)
    assert result.fits and result.tokens <= 2048 - 512
    assert result.dropped > 0
    sent = result.messages
    assert sent[0]["role"] == "system" and sent[0]["content"].startswith("Be helpful.")
    assert f"[{result.dropped} earlier messages" in sent[0]["content"]
    assert sent[-1] == messages[-1]  # the latest user message stays
    assert sent[1]["role"] == "user"  # the kept part starts with a user's turn
    # what is kept is the newest part of the history, in order
    assert list(sent[1:]) == messages[len(messages) - len(sent) + 1 :]
    assert result.dropped == len(messages) - len(sent)
    assert_pairs_intact(sent)
    assert messages[0] == {"role": "system", "content": "Be helpful."}  # history untouched


@pytest.mark.parametrize("window", range(700, 4000, 97))
def test_tool_pairs_never_split_at_any_budget(window: int) -> None:
    result = fit(conversation(40), TokenCounter(), ContextPolicy(window=window, reserve=200))
    assert_pairs_intact(result.messages)
    assert result.fits


def test_pinned_messages_and_tools_always_stay() -> None:
    messages = conversation(60)
    messages[3] = {**messages[3], "pinned": True}
    tools = [{"type": "function", "function": {"name": "t", "parameters": {"x": "y" * 300}}}]
    counter = TokenCounter()
    result = fit(messages, counter, ContextPolicy(window=3000, reserve=500), tools)
    assert messages[3] in result.messages
    assert result.tokens >= counter.tools(tools) > 100
    assert result.tokens <= 2500


def test_harder_fits_in_less() -> None:
    messages = conversation(60)
    policy = ContextPolicy(window=4096, reserve=512)
    normal = fit(messages, TokenCounter(), policy)
    harder = fit(messages, TokenCounter(), policy, harder=True)
    assert harder.tokens < normal.tokens and harder.dropped > normal.dropped
    assert harder.tokens <= (4096 - 512) * 0.75


def test_summary_replaces_the_marker() -> None:
    result = fit(
        conversation(60), TokenCounter(), ContextPolicy(window=2048), summary="They spoke of x."
    )
    assert "Summary of the earlier part" in result.messages[0]["content"]
    assert "They spoke of x." in result.messages[0]["content"]
    assert "left out" not in result.messages[0]["content"]
    assert result.summary == "They spoke of x."


def test_counts_are_cached_per_message() -> None:
    calls: list[str] = []

    def count(text: str) -> int:
        calls.append(text)
        return len(text) // 4

    counter = TokenCounter(count)
    messages = conversation(20)
    first = counter.messages(messages)
    n = len(calls)
    assert counter.messages(messages) == first
    assert len(calls) == n  # nothing counted twice
    changed = {**messages[2], "content": "new"}
    counter.message(changed)
    assert len(calls) == n + 1


def test_counter_includes_tool_calls_and_overhead() -> None:
    counter = TokenCounter()
    plain = counter.message({"role": "assistant", "content": "hi"})
    call = {
        "id": "1",
        "type": "function",
        "function": {"name": "search", "arguments": json.dumps({"q": "x" * 90})},
    }
    with_call = counter.message({"role": "assistant", "content": "hi", "tool_calls": [call]})
    assert with_call > plain + 30


@pytest.mark.parametrize(
    "text",
    [
        "This model's maximum context length is 4097 tokens. However, you requested 5000.",
        "the request exceeds the available context size, try increasing it",
        "Requested tokens (2100) exceed context window of 2048",
        "context_length_exceeded",
        "prompt is too long: 210000 tokens > 200000 maximum",
    ],
)
def test_context_errors_are_recognised(text: str) -> None:
    assert is_context_error(text)


@pytest.mark.parametrize("text", ["Incorrect API key provided.", "model not found", "rate limited"])
def test_other_errors_are_not(text: str) -> None:
    assert not is_context_error(text)


def test_context_error_is_a_request_error_of_its_own_type() -> None:
    error = ContextLengthError("too long")
    assert error.error_type == "context_length" and not error.retryable


async def test_a_context_error_mid_stream_is_its_own_type() -> None:
    from desktop_agent.providers.openai_wire import read_sse

    async def lines() -> Any:
        for line in (
            'data: {"error": {"message": "the request exceeds the available context size"}}',
            "",
        ):
            yield line

    with pytest.raises(ContextLengthError):
        async for _chunk in read_sse(lines()):
            pass


async def test_other_errors_mid_stream_stay_server_errors() -> None:
    from desktop_agent.engine.model import ServerError
    from desktop_agent.providers.openai_wire import read_sse

    async def lines() -> Any:
        for line in ('data: {"error": {"message": "CUDA out of memory"}}', ""):
            yield line

    with pytest.raises(ServerError) as caught:
        async for _chunk in read_sse(lines()):
            pass
    assert not isinstance(caught.value, ContextLengthError)


def test_a_conversations_keeper_does_not_make_it_known() -> None:
    """Asking for a conversation's keeper ("Compact now", its settings dialog) before its
    first run must not make the orchestrator think its history is loaded."""
    from desktop_agent.engine.orchestrator import Orchestrator
    from desktop_agent.testing import ScriptedModel

    orchestrator = Orchestrator(ScriptedModel(["hi"]))
    keeper = orchestrator.context("c1")
    keeper.request_compaction()
    assert "c1" not in orchestrator.tenants()
    assert orchestrator.context("c1") is keeper  # one keeper per conversation
    assert orchestrator.context("c2") is not keeper
    assert orchestrator.config_for("c1").context is keeper
    assert keeper.parent is orchestrator.config.context
