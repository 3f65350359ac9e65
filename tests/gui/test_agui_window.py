"""An AG-UI agent in the window: the reference agent (official ag-ui-protocol
package, real HTTP on the window's own loop) through the real provider
(`model_from_config`, kind "agui"): its text, its tool call shown as a tool card
with its result (run by the agent, nothing run here), its reasoning, and its
RUN_ERROR as the run's error."""

from __future__ import annotations

import json

from desktop_agent import tool
from desktop_agent.app.providers import ConnectionConfig, Providers, header_lines
from desktop_agent.gui.agent_state import AgentStateDialog
from desktop_agent.gui.settings_dialog import SettingsDialog
from desktop_agent.gui.window import MainWindow
from tests.gui.conftest import Gui
from tests.support.agui_server import ReferenceAgent

ran_here: list[str] = []


@tool("Look a city up")
def lookup(city: str) -> str:
    ran_here.append(city)
    return "never"


def test_agent_text_tool_card_reasoning_and_error(gui: Gui) -> None:
    agent = ReferenceAgent()
    url = gui.run(agent.start())
    window = MainWindow(
        ConnectionConfig(kind="agui", base_url=url, model="AG-UI agent"),
        tools=[lookup],
        frame_ms=16,
    )
    window.show()
    try:
        gui.run(window.start())
        assert "AG-UI agent" in window.status.model_label.text()
        gui.call(window.send, "tools")
        gui.until(lambda: not window.busy, "the run to finish")
        text = window.transcript.toPlainText()
        assert "Let me check." in text and "It is sunny in Oslo." in text
        assert "lookup" in text  # the tool card
        assert "lookup · run by the agent" in text
        assert ran_here == []  # the agent ran it
        assert len(agent.inputs) == 1
        # The agent's state (a snapshot, then a JSON Patch delta) is viewable: Ctrl+Shift+S.
        gui.call(window.actions_by_name["agent_state"].trigger)
        dialog = window.findChild(AgentStateDialog)
        assert dialog is not None and dialog.isVisible()
        assert json.loads(dialog.view.toPlainText()) == {"step": "done", "city": "Oslo"}
        assert dialog.view.accessibleName() == "Agent state"
        gui.call(dialog.reject)
        gui.call(window.send, "think")
        gui.until(lambda: not window.busy, "the second run")
        assert "Hello!" in window.transcript.toPlainText()
        gui.call(window.send, "error")
        gui.until(lambda: not window.busy, "the failing run")
        assert "the agent fell over" in window.transcript.toPlainText()
        assert window.status.status == "failed"
    finally:
        window.close()
        gui.run(agent.stop())


def test_settings_keep_the_api_and_the_agents_headers(gui: Gui) -> None:
    agent = ConnectionConfig(kind="agui", id="a", base_url="http://127.0.0.1:1/agent")
    server = ConnectionConfig(kind="openai", id="b", base_url="http://127.0.0.1:2/v1", api="auto")
    dialog = SettingsDialog(Providers([agent, server], "a"))
    try:
        shown = dialog.protocol.headers.isVisibleTo  # (rows that do not apply are hidden)
        assert shown(dialog) and not dialog.protocol.api.isVisibleTo(dialog)
        assert not dialog.n_ctx.isVisibleTo(dialog)  # (a local model's row)
        dialog.protocol.headers.setPlainText("X-Team: blue\nnot a header")
        dialog.list.setCurrentRow(1)
        assert dialog.protocol.api.isVisibleTo(dialog) and not shown(dialog)
        assert dialog.protocol.api.currentText() == "Auto (probe once)"
        dialog.protocol.api.setCurrentIndex(1)  # Responses
        saved = dialog.providers()
    finally:
        dialog.deleteLater()
    first, second = saved.items
    assert (first.kind, first.headers) == ("agui", "X-Team: blue\nnot a header")
    assert (second.kind, second.api) == ("openai", "responses")
    assert header_lines(first.headers) == {"X-Team": "blue"}
