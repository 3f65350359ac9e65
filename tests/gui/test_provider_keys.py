"""Settings → Test connection of a provider with no key of its own sends no key,
even with `OPENAI_API_KEY` in the environment (it belongs to OpenAI's API)."""

from __future__ import annotations

import pytest

from desktop_agent.app.providers import ConnectionConfig
from tests.gui.conftest import Gui
from tests.support.scripted_server import ScriptedServer

SECRET = "sk-secret-from-the-environment"


def test_test_connection_sends_no_environment_key(
    gui: Gui, http_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_agent.gui.settings_dialog import SettingsDialog

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    saved = {"providers": [{"id": "lm", "kind": "openai", "base_url": http_server.base_url}]}
    dialog = SettingsDialog(ConnectionConfig.resolve(saved=saved))
    gui.qtbot.addWidget(dialog)
    assert dialog.api_key.text() == ""
    gui.call(dialog.test_connection)
    gui.until(lambda: dialog.result_label.text().startswith(("✓", "✗")), "the test result")
    assert dialog.result_label.text().startswith("✓ Connected")
    [request] = http_server.model_requests
    assert "authorization" not in {k.lower() for k in request.headers}
    assert SECRET not in str(request.headers)
