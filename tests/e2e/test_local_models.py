"""The embedded engine with the models feature: tools through llama.cpp's function
calling, a pulled model chatting from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_agent import Agent, EventType, StreamEngine
from desktop_agent.providers.local import EmbeddedEngine, LocalModel, default_model_path
from desktop_agent.providers.models.catalog import FUNCTION_CALLING
from tests.support.contract import check_run
from tests.support.hub_server import ScriptedHub, running_hub

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(default_model_path() is None, reason="needs the `local` extra"),
]

ROOT = Path(__file__).resolve().parents[2]


async def test_a_forced_tool_call_reaches_the_tool_and_its_result_returns() -> None:
    """SmolLM2-135M would not choose a tool itself; forcing the choice proves the plumbing:
    the engine's function-calling format emits the call, the agent runs the tool, and
    the result goes back to the engine for the answer."""
    calls: list[str] = []

    def lookup_code(city: str) -> str:
        """The secret code of a city."""
        calls.append(city)
        return "XQ-4417"

    engine = EmbeddedEngine(chat_format=FUNCTION_CALLING)
    forced = {"type": "function", "function": {"name": "lookup_code"}}
    model = LocalModel(engine, tool_choice=forced, after_tool_choice="none")
    requests: list[list[dict]] = []  # type: ignore[type-arg]
    real = model.stream_completion

    def spy(messages, tools=None, **kw):  # type: ignore[no-untyped-def]
        requests.append(list(messages))
        return real(messages, tools, **kw)

    model.stream_completion = spy  # type: ignore[method-assign]
    agent = Agent("You are helpful.", model=model, tools=[lookup_code], max_steps=3)
    try:
        events = [e async for e in StreamEngine().stream(agent, "What is the code of Paris?")]
    finally:
        await model.aclose()
    check_run(events)  # type: ignore[arg-type]
    assert events[-1].status == "completed"
    assert len(calls) == 1 and isinstance(calls[0], str)
    end = next(e for e in events if e.type is EventType.TOOL_CALL_END)
    assert end.tool_name == "lookup_code" and end.result == "XQ-4417"
    assert len(requests) == 2
    assert any(m.get("role") == "tool" and m.get("content") == "XQ-4417" for m in requests[1])


async def test_a_model_without_tools_is_not_offered_them() -> None:
    engine = EmbeddedEngine()  # SmolLM2's own template: no tools
    model = LocalModel(engine)
    calls: list[str] = []

    def lookup_code(city: str) -> str:
        """The secret code of a city."""
        calls.append(city)
        return "XQ-4417"

    agent = Agent("You are helpful.", model=model, tools=[lookup_code], max_steps=2)
    try:
        events = [e async for e in StreamEngine().stream(agent, "Say hello.")]
    finally:
        await model.aclose()
    assert events[-1].status == "completed"
    assert calls == []
    assert not any(e.type is EventType.TOOL_CALL_START for e in events)


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedHub]:
    path = default_model_path()
    assert path is not None
    with running_hub() as running:
        running.add("test-org/smol-GGUF", "smol.gguf", path.read_bytes())
        yield running


def test_chat_local_with_a_pulled_model(hub: ScriptedHub, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DESKTOP_AGENT_HOME": str(tmp_path / "home"),
        "HF_ENDPOINT": hub.hub_url,
        "PYTHONPATH": str(ROOT),
        "DESKTOP_AGENT_DISCOVERY_PORTS": "nothing=9",
    }
    env.pop("OPENAI_BASE_URL", None)
    env.pop("OPENAI_API_KEY", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "desktop_agent", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    missing = run("chat", "--local", "--model", "hf:test-org/smol-GGUF/smol.gguf", "Hi")
    assert missing.returncode == 1 and "not installed" in missing.stderr
    assert run("models", "pull", "hf:test-org/smol-GGUF/smol.gguf").returncode == 0
    done = run("chat", "--local", "--no-save", "--model", "smol", "Say hello.")
    assert done.returncode == 0, done.stderr
    assert "Loading smol on this computer" in done.stderr  # the pulled file, not the bundled
    assert done.stdout.strip()
