"""The Settings dialog with the keyboard only: every page is reached from the
navigation list with the arrow keys, and every control of the page shown with Tab."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.app.settings import ToolSettings
from desktop_agent.gui.settings_dialog import SettingsDialog
from tests.gui.conftest import Gui


def _tab_stops(page: QWidget) -> list[QWidget]:
    """The controls on `page` that Tab should reach (shown, enabled, taking Tab focus)."""
    return [
        w
        for w in page.findChildren(QWidget)
        if w.isVisibleTo(page)
        and w.isEnabled()
        and w.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus
        and w.focusProxy() is None
    ]


def test_every_page_and_control_is_reached_with_the_keyboard(
    gui: Gui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    dialog = SettingsDialog(
        ConnectionConfig(kind="openai"), tool_settings=ToolSettings(workspace=str(tmp_path))
    )
    gui.qtbot.addWidget(dialog)
    dialog.show()
    gui.qtbot.waitExposed(dialog)
    dialog.activateWindow()
    nav = dialog.pages.nav
    nav.setFocus()
    gui.qtbot.keyClick(nav, Qt.Key.Key_Home)
    for row, name in enumerate(dialog.pages.names):
        if row:
            gui.qtbot.keyClick(nav, Qt.Key.Key_Down)
        assert dialog.pages.current_name == name
        page = dialog.pages.page(name)
        wanted = _tab_stops(page)
        reached: list[QWidget] = []
        for _ in range(len(wanted) + 20):
            focused = dialog.focusWidget()
            assert focused is not None
            gui.qtbot.keyClick(focused, Qt.Key.Key_Tab)
            now = dialog.focusWidget()
            if now is nav:
                break
            if now is not None:
                reached.append(now)
        missing = [w.accessibleName() or type(w).__name__ for w in wanted if w not in reached]
        assert not missing, f"{name}: Tab does not reach {missing}"
        assert dialog.focusWidget() is nav, f"{name}: Tab does not come back to the list"
