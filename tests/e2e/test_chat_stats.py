"""`desktop-agent chat --stats` and `--json` carry usage, speed and context figures
(real processes against the scripted server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop_agent import Event
from desktop_agent.engine.events import ContextReport, UsageReport
from tests.e2e.test_terminal import chat
from tests.support.contract import check_run
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.threaded_server import threaded_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with threaded_server() as srv:
        yield srv


def test_stats_after_each_answer_and_totals(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="first answer"), Reply(text="second answer", usage=False))
    result = chat(tmp_path, server.base_url, "--stats", stdin="one\ntwo\n")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    figures = [line for line in lines if " in · " in line and "Conversation" not in line]
    assert len(figures) == 2, result.stderr
    # the first: the server's usage (3 in, as the scripted server reports it)
    assert figures[0].startswith("3 in · ") and "s to first token" in figures[0]
    assert "tokens/s" in figures[0]
    # the second: no usage in the stream, so counted ("~")
    assert figures[1].startswith("~") and " out" in figures[1]
    totals = [line for line in lines if line.startswith("Conversation: ")]
    assert totals[-1].startswith("Conversation: 2 requests · ~")


def test_user_price_gives_a_cost(tmp_path: Path, server: ScriptedServer) -> None:
    settings = {
        "providers": [
            {
                "id": "p1",
                "kind": "openai",
                "base_url": server.base_url,
                "model": "scripted-small",
                "price_in": 2.0,
                "price_out": 8.0,
            }
        ],
        "default_provider": "p1",
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    server.add(Reply(text="priced"))
    result = chat(tmp_path, server.base_url, "--stats", "hi")
    assert result.returncode == 0, result.stderr
    assert "$0.0" in result.stderr, result.stderr


def test_json_carries_usage_and_context(tmp_path: Path, server: ScriptedServer) -> None:
    server.add(Reply(text="json with usage"))
    result = chat(tmp_path, server.base_url, "--json", "hi")
    assert result.returncode == 0, result.stderr
    events = [Event.from_dict(json.loads(line)) for line in result.stdout.splitlines()]
    check_run(events)
    (usage,) = [e for e in events if isinstance(e, UsageReport)]
    assert usage.prompt_tokens == 3 and usage.completion_tokens > 0 and not usage.estimated
    assert usage.first_token_ms is not None and usage.first_token_ms >= 0
    raw = [json.loads(line) for line in result.stdout.splitlines()]
    wire = next(r for r in raw if r["type"] == "usage")["data"]
    assert {"first_token_ms", "tokens_per_second", "cost", "estimated"} <= set(wire)
    # gpt-4o-mini (the default model) has a known context length: the meter's figures
    (context,) = [e for e in events if isinstance(e, ContextReport)]
    assert context.window == 128_000 and 0 < context.tokens < 4000  # with the tools


def test_context_command_sets_the_conversations_strategy(
    tmp_path: Path, server: ScriptedServer
) -> None:
    server.add(Reply(text="fitted"))
    result = chat(
        tmp_path, server.base_url, "--json", stdin="/context drop_oldest 700\n/context\nhello\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Context: drop_oldest, 700 tokens kept for the answer." in result.stdout
    raw = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    context = next(r for r in raw if r["type"] == "context")["data"]
    assert (context["strategy"], context["reserve"]) == ("drop_oldest", 700)
