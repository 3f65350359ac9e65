"""The real embedded engine (llama.cpp + SmolLM2-135M) at 2,048 tokens: counts match its
tokenizer, a too-long request is named as such, and 30 turns keep answering."""

from __future__ import annotations

import json

import httpx2
import pytest

from desktop_agent import Agent
from desktop_agent.engine.compaction import ContextKeeper
from desktop_agent.engine.context import ContextPolicy, TokenCounter, estimate_tokens
from desktop_agent.engine.events import ContextReport, ErrorReport, UsageReport
from desktop_agent.engine.model import ContextLengthError
from desktop_agent.engine.state import AgentState
from desktop_agent.providers.local import EmbeddedEngine, LocalModel

pytestmark = pytest.mark.slow

SAMPLES = [
    "The quick brown fox jumps over the lazy dog, twice, before breakfast.",
    "def fit(messages, budget):\n    return [m for m in messages if m['tokens'] < budget]\n",
    "In 1869 the Suez Canal opened; ships no longer sailed around Africa to reach India.",
    "Résumé: naïve café owners in Zürich prefer crème brûlée to Käsekuchen.",
]


async def prompt_tokens(engine: EmbeddedEngine, messages: list[dict[str, str]]) -> int:
    """The engine's own count of a chat prompt: a whole (non-streamed) answer's usage."""
    headers = {"Authorization": f"Bearer {engine.api_key}"}
    async with httpx2.AsyncClient(timeout=120, headers=headers) as client:
        response = await client.post(
            f"{engine.base_url}/chat/completions",
            json={"model": engine.label, "messages": messages, "max_tokens": 1},
        )
    return int(json.loads(response.content)["usage"]["prompt_tokens"])


async def test_counts_match_the_engine_tokenizer() -> None:
    engine = EmbeddedEngine(n_ctx=2048)
    model = LocalModel(engine)
    try:
        assert model.context_window == 2048
        server = await model.count_tokens(SAMPLES)
        # the estimate (used where no tokenizer answers) errs high, never low
        for text, exact in zip(SAMPLES, server, strict=True):
            assert exact > 5 and estimate_tokens(text) >= exact
        messages = [{"role": "system", "content": "You are brief."}]
        for i, text in enumerate(SAMPLES * 3):
            messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
        keeper = ContextKeeper(counter=TokenCounter())
        await keeper.prime(model, messages)  # counted by /extras/tokenize/count
        ours = keeper.counter.messages(messages)
        theirs = await prompt_tokens(engine, messages)
        assert abs(ours - theirs) <= 0.05 * theirs, (ours, theirs)
    finally:
        await model.aclose()


async def test_too_long_request_is_named_not_a_closed_connection() -> None:
    engine = EmbeddedEngine(n_ctx=512)
    model = LocalModel(engine)
    try:
        with pytest.raises(ContextLengthError) as caught:
            async for _chunk in model.stream_completion(
                [{"role": "user", "content": "word " * 900}]
            ):
                pass
        assert "longer than the local model's context (512 tokens)" in str(caught.value)
        assert "exceed context window" in str(caught.value)
    finally:
        await model.aclose()


@pytest.mark.timeout(170)  # ~60 s here when the machine is quiet, more under load
async def test_thirty_turns_at_2048_tokens_keep_answering() -> None:
    engine = EmbeddedEngine(n_ctx=2048)
    model = LocalModel(engine, extra_body={"max_tokens": 32})  # (answers capped: time)
    # The default strategy; at 2,048 tokens the model is too small to summarise, so
    # what does not fit is left out (with the marker).
    keeper = ContextKeeper(ContextPolicy(reserve=256))
    agent = Agent("You are a helpful assistant.", model=model, context=keeper)
    state: AgentState | None = None
    reports: list[ContextReport] = []
    usages: list[UsageReport] = []
    try:
        for turn in range(30):
            handle = agent.start(f"Turn {turn}. Write a long essay about the sea. " * 6, state)
            events = [e async for e in handle.events()]
            state = await handle.wait()
            errors = [e.error for e in events if isinstance(e, ErrorReport)]
            assert state.status.value == "done", (turn, errors)
            assert state.last_answer
            reports += [e for e in events if isinstance(e, ContextReport)]
            usages += [e for e in events if isinstance(e, UsageReport)]
    finally:
        await model.aclose()
    assert len(reports) == 30 and all(r.window == 2048 for r in reports)
    assert all(r.tokens <= 2048 - 256 for r in reports)
    assert reports[-1].dropped > 0 and reports[-1].summary is None
    # the engine's stream has no usage: counted, with speed
    assert len(usages) == 30 and all(u.estimated and u.completion_tokens for u in usages)
    assert all(u.tokens_per_second for u in usages)
    assert state is not None and sum(m["role"] == "user" for m in state.messages) == 30
