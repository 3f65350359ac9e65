"""The window on the embedded model, and connection choice at start (discovery)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from desktop_agent.app.providers import ConnectionConfig, resolve_auto
from desktop_agent.gui.window import MainWindow
from desktop_agent.providers.discovery import discover
from tests.gui.conftest import Gui, answers_a_message


def open_window(gui: Gui, config: ConnectionConfig) -> MainWindow:
    window = MainWindow(config)
    window.show()
    gui.run(window.start())
    return window


@pytest.fixture
def no_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKTOP_AGENT_DISCOVERY_PORTS", "nothing=9")


@pytest.mark.slow
def test_window_chats_with_the_embedded_model(gui: Gui, no_servers: None) -> None:
    window = open_window(gui, ConnectionConfig())  # nothing configured: "auto"
    try:
        assert window.config.kind == "local"
        assert window.windowTitle() == "desktop-agent — SmolLM2-135M-Instruct · on this computer"
        engine: Any = window.orchestrator.model.engine  # type: ignore[union-attr]
        gui.until(lambda: engine.state == "ready", "the model")
        assert window.status.model_label.text() == "SmolLM2-135M-Instruct · on this computer"
        answers_a_message(gui, window)
    finally:
        gui.run(window.shutdown())


@pytest.mark.parametrize("kind", ["missing", "not-gguf"])
def test_bad_gguf_path_is_a_clear_error_in_the_window(gui: Gui, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "weights.gguf"
    if kind == "not-gguf":
        path.write_bytes(b"PK\x03\x04 not a model")
    config = ConnectionConfig(kind="local", model="weights", gguf_path=str(path))
    window = open_window(gui, config)
    try:
        gui.until(lambda: window.transcript.last("error") is not None, "the error")
        error = window.transcript.last("error")
        assert error is not None
        assert (
            "does not exist" if kind == "missing" else "is not a GGUF model file"
        ) in error.source
        assert window.isVisible()
    finally:
        gui.run(window.shutdown())


async def _models_server(models: list[str]) -> tuple[web.AppRunner, int]:
    async def handler(_request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": m} for m in models]})

    app = web.Application()
    app.router.add_get("/v1/models", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, runner.addresses[0][1]


def test_discovery_and_preference_order(gui: Gui, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> dict[str, Any]:
        runner, port = await _models_server(["llama3.2", "qwen2.5"])
        try:
            servers = {"Ollama": port, "LM Studio": 9, "llama.cpp": 1}
            found = await discover(servers, limit=0.3)
            monkeypatch.setenv("DESKTOP_AGENT_DISCOVERY_PORTS", f"Ollama={port},LM Studio=9")
            picked_before = ConnectionConfig(picked_server=f"http://127.0.0.1:{port}/v1")
            chosen, _ = await resolve_auto(picked_before)
            unpicked, _ = await resolve_auto(ConnectionConfig())
        finally:
            await runner.cleanup()
        gone, _ = await resolve_auto(picked_before)  # the server is no longer running
        import desktop_agent.providers.local as local

        monkeypatch.setattr(local, "local_engine_available", lambda: False)
        nothing, _ = await resolve_auto(ConnectionConfig())
        return {
            "found": found,
            "chosen": chosen,
            "unpicked": unpicked,
            "gone": gone,
            "nothing": nothing,
        }

    r = gui.run(scenario())
    assert [(d.name, d.models) for d in r["found"]] == [("Ollama", ("llama3.2", "qwen2.5"))]
    assert r["chosen"].kind == "openai"
    assert r["chosen"].model == "llama3.2"
    assert r["chosen"].label().startswith("llama3.2 · 127.0.0.1:")
    assert r["unpicked"].kind == "local"  # found, but never picked: the embedded model
    assert r["gone"].kind == "local"
    assert r["nothing"].kind == "none"


def test_first_run_panel_when_nothing_is_available(
    gui: Gui, monkeypatch: pytest.MonkeyPatch, no_servers: None
) -> None:
    import desktop_agent.providers.local as local

    monkeypatch.setattr(local, "local_engine_available", lambda: False)
    window = open_window(gui, ConnectionConfig())
    try:
        assert window.config.kind == "none"
        # (the first-run notice is part of the empty state, shown over the transcript)
        assert window.pane.showing_empty
        text = window.pane.empty.notices.text()
        assert "No model is set up yet" in text and "Ollama (http://127.0.0.1:11434/v1)" in text
        assert window.windowTitle() == "desktop-agent — not connected (Ctrl+, to connect)"
        gui.call(window.send, "hello?")
        gui.until(lambda: window.transcript.last("error") is not None, "the error")
        assert "Press Ctrl+, to connect" in window.transcript.last("error").source  # type: ignore[union-attr]
    finally:
        gui.run(window.shutdown())


def test_remote_endpoint_never_contacted_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "DESKTOP_AGENT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    config = ConnectionConfig.resolve(saved={})
    assert config.kind == "auto"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert ConnectionConfig.resolve(saved={}).kind == "openai"
    saved = replace(ConnectionConfig(), kind="local").to_settings()
    assert ConnectionConfig.resolve(saved=saved).kind == "local"
    assert "api_key" not in saved


def test_gguf_choice_persists(gui: Gui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_agent.app.settings import load_settings, save_settings
    from desktop_agent.gui.settings_dialog import SettingsDialog

    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    model_file = tmp_path / "Other-Model.Q8_0.gguf"
    model_file.write_bytes(b"GGUF" + b"\0" * 16)
    dialog = SettingsDialog(ConnectionConfig(kind="openai", api_key="sk-secret-1234"))
    gui.qtbot.addWidget(dialog)
    dialog.preset.setCurrentIndex(0)  # "On this computer"
    dialog.gguf_path.setText(str(model_file))
    dialog.n_ctx.setValue(4096)
    chosen = dialog.current()
    assert (chosen.kind, chosen.model, chosen.n_ctx) == ("local", "Other-Model", 4096)
    save_settings(chosen.to_settings())
    again = ConnectionConfig.resolve(saved=load_settings())
    assert (again.kind, again.gguf_path, again.n_ctx) == ("local", str(model_file), 4096)
    assert again.label() == "Other-Model · on this computer"
    assert "sk-secret-1234" not in (tmp_path / "settings.json").read_text()
