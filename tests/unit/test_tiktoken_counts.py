"""tiktoken for OpenAI's models: used only when its encoding is cached (never a download
at run time), and then the counts of a request are within 5 % of tiktoken's own count
(the OpenAI cookbook's rule: 3 tokens a message, 3 to prime the reply)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_agent.engine.context import TokenCounter
from desktop_agent.providers import tokens

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France, and why is it famous?"},
    {"role": "assistant", "content": "Paris: the Louvre, the Eiffel Tower, and its cafés."},
    {"role": "user", "content": "def add(a, b):\n    return a + b\n# explain this code"},
    {"role": "assistant", "content": "It returns the sum of its two arguments. " * 20},
    {"role": "user", "content": "Thanks! Summarise our chat in one sentence."},
]


def test_no_cached_encoding_means_no_tiktoken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty: nothing cached
    monkeypatch.setattr(tokens, "seed_from_package", lambda name: False)  # no bpe-openai
    tokens.openai_counter.cache_clear()
    assert tokens.openai_counter("gpt-4o-mini") is None  # (and no network was tried)
    assert tokens.openai_counter("llama3.1") is None  # not an OpenAI model


def test_counts_within_five_percent_of_tiktoken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tiktoken")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tokens.openai_counter.cache_clear()
    count = tokens.openai_counter("gpt-4o-mini")  # seeds the empty cache from bpe-openai
    assert count is not None
    import tiktoken

    encoding = tiktoken.get_encoding("o200k_base")
    expected = 3 + sum(
        3 + len(encoding.encode(m["content"])) + len(encoding.encode(m["role"])) for m in MESSAGES
    )
    ours = TokenCounter(count).messages(MESSAGES)
    assert abs(ours - expected) <= 0.05 * expected, (ours, expected)
    # the estimate errs high where tiktoken is not available
    assert TokenCounter().messages(MESSAGES) >= expected
    tokens.openai_counter.cache_clear()
