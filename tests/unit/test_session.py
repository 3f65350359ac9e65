"""What the window asks of its session (app/session.py), without Qt: the provider a
conversation uses, new saved providers mid-run, new tool settings. A real SQLite
store, scripted models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from desktop_agent.app.providers import ConnectionConfig, Providers
from desktop_agent.app.session import Session
from desktop_agent.app.settings import ToolSettings
from desktop_agent.engine import Approvals
from desktop_agent.engine.model import ChatChunk, Timeouts
from desktop_agent.storage import Store
from desktop_agent.testing import ScriptedModel

MAIN = ConnectionConfig(kind="openai", id="main", model="main-model", system_prompt="main")
OTHER = ConnectionConfig(kind="openai", id="other", model="other-model", system_prompt="other")


class Model(ScriptedModel):
    """A scripted model that can hold its answer until released, and says when it
    was closed."""

    def __init__(self, name: str) -> None:
        super().__init__([f"from {name}"], model=name, loop=True)
        self.gate: asyncio.Event | None = None
        self.closed = False

    async def stream_completion(
        self,
        messages: Sequence[Any],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        timeouts: Timeouts | None = None,
    ) -> AsyncIterator[ChatChunk]:
        if self.gate is not None:
            await self.gate.wait()
        async for chunk in super().stream_completion(messages, tools, timeouts=timeouts):
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    made: dict[str, Model] = {}

    def factory(config: ConnectionConfig) -> Model:
        made[config.id] = Model(config.id)
        return made[config.id]

    session = Session(
        MAIN,
        providers=Providers([MAIN, OTHER], "main"),
        store=Store(tmp_path / "history.db"),
        model_factory=factory,
    )
    session.made = made  # type: ignore[attr-defined]
    await session.start()
    yield session
    await session.aclose()


def answers(session: Session, conversation_id: str) -> list[str]:
    assert session.store is not None
    return [m.content for m in session.store.path(conversation_id) if m.role == "assistant"]


async def test_a_provider_chosen_before_the_first_message_answers_it(session: Session) -> None:
    session.choose_provider("c-1", "other")
    assert session.provider_of("c-1").id == "other"
    await session.conversations.send("c-1", "hello").wait()
    assert answers(session, "c-1") == ["from other"]
    assert session.store is not None
    assert session.store.conversation("c-1").provider_id == "other"  # type: ignore[union-attr]
    assert session.provider_of("c-2").id == "main"


async def test_a_provider_chosen_later_is_kept_with_the_conversation(
    session: Session, tmp_path: Path
) -> None:
    await session.conversations.send("c-1", "hello").wait()
    session.choose_provider("c-1", "other")
    await session.conversations.send("c-1", "again").wait()
    assert answers(session, "c-1") == ["from main", "from other"]
    again = Session(MAIN, providers=Providers([MAIN, OTHER], "main"), store=Store(tmp_path / "h2"))
    assert again.provider_of("c-1").id == "main"  # (another history)
    assert session.store is not None
    stored = session.store.conversation("c-1")
    assert stored is not None and (stored.provider_id, stored.model) == ("other", "other-model")


async def test_new_providers_apply_to_the_next_run_and_the_old_model_closes_after_it(
    session: Session,
) -> None:
    made: dict[str, Model] = session.made  # type: ignore[attr-defined]
    old = made["main"]
    old.gate = asyncio.Event()
    running = session.conversations.send("c-1", "slow")
    renamed = ConnectionConfig(kind="openai", id="main", model="new-model", system_prompt="new")
    session.set_providers(Providers([renamed, OTHER], "main"))
    assert made["main"] is not old and session.orchestrator.model is made["main"]
    assert session.orchestrator.config.system_prompt == "new"
    await asyncio.sleep(0)
    assert not old.closed  # its run still uses it
    old.gate.set()
    await running.wait()
    assert answers(session, "c-1") == ["from main"]
    for _ in range(5):
        await asyncio.sleep(0)
    assert old.closed
    await session.conversations.send("c-2", "next").wait()
    assert made["main"].requests and made["main"].requests[0][0]["content"] == "new"


async def test_new_providers_forget_the_choices_looked_up(session: Session) -> None:
    session.choose_provider("c-1", "other")
    session.set_providers(Providers([MAIN], "main"))
    assert session.provider_of("c-1").id == "main"


async def test_tool_settings_change_approvals_and_builtins(tmp_path: Path) -> None:
    session = Session(MAIN, approvals=Approvals({"write_file"}))
    await session.start(model=ScriptedModel([]))
    try:
        settings = ToolSettings(
            disabled=frozenset({"run_shell", "current_time"}),
            workspace=str(tmp_path),
            always_allowed=frozenset({"calculator"}),
        )
        problems = session.apply_tool_settings(settings, rebuild=False)
        assert problems == [] and session.approvals.always == {"calculator"}
        assert session.tools == []  # not rebuilt
        session.apply_tool_settings(settings)
        names = session.orchestrator.config.tools.names
        assert "calculator" in names and "current_time" not in names
        assert "run_shell" not in names
    finally:
        await session.aclose()
