"""Everything around the transcript, offscreen: header, sidebar, empty state,
banner, themes, zoom, settings pages, accessibility."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt as QtNS
from PySide6.QtGui import QAccessible, QGuiApplication, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QScrollBar

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.appearance import Appearance, settings_saver
from desktop_agent.gui.empty_state import SUGGESTIONS
from desktop_agent.gui.sidebar import Row
from desktop_agent.gui.sidebar_delegate import GROUPS, group_of
from desktop_agent.gui.theme import TEXT_PAIRS, build_palette, contrast, token
from desktop_agent.gui.window import MainWindow
from desktop_agent.storage import Store
from tests.gui.conftest import Gui
from tests.support.scripted_server import Reply, ScriptedServer

Qt: Any = QtNS


def open_window(
    gui: Gui, config: ConnectionConfig, db: Path | None = None, **kw: Any
) -> MainWindow:
    window = MainWindow(config, frame_ms=16, history=(lambda: Store(db)) if db else None, **kw)
    window.show()
    window.activateWindow()
    gui.until(lambda: bool(window.windowHandle() and window.windowHandle().isExposed()), "shown")
    gui.run(window.start())
    return window


@pytest.fixture
def windows(gui: Gui) -> Iterator[list[MainWindow]]:
    opened: list[MainWindow] = []
    yield opened
    for w in opened:
        if not w.closed.is_set():
            gui.run(w.shutdown())
    # (the next tests start from the default look)
    QApplication.setPalette(build_palette(False))


def press(gui: Gui, widget: Any, key: Any, modifier: Any = None) -> None:
    async def act() -> None:
        if modifier is None:
            gui.qtbot.keyClick(widget, key)
        else:
            gui.qtbot.keyClick(widget, key, modifier)

    gui.run(act())


# -- theme ------------------------------------------------------------------------------


def test_text_colours_pass_wcag_aa_in_both_schemes() -> None:
    for dark in (False, True):
        for fg, bg in TEXT_PAIRS:
            ratio = contrast(token(fg, dark), token(bg, dark))
            assert ratio >= 4.5, (dark, fg, bg, round(ratio, 2))
        # and what the palette hands the widgets, role by role
        pal = build_palette(dark)
        role = QPalette.ColorRole
        for fg_role, bg_role in (
            (role.Text, role.Base),
            (role.WindowText, role.Window),
            (role.ButtonText, role.Button),
            (role.HighlightedText, role.Highlight),
            (role.PlaceholderText, role.Base),
            (role.Link, role.Base),
            (role.ToolTipText, role.ToolTipBase),
        ):
            ratio = contrast(pal.color(fg_role).name(), pal.color(bg_role).name())
            assert ratio >= 4.5, (dark, fg_role, bg_role, round(ratio, 2))
    assert round(contrast("#ffffff", "#000000"), 1) == 21.0
    assert contrast("#9b9b9b", "#ffffff") < 4.5  # (LOOK.md's "avoid": the check can fail)


def test_theme_switches_at_runtime_and_follows_the_system(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow]
) -> None:
    window = open_window(gui, config)
    windows.append(window)
    looks = window.chrome.looks
    base = QPalette.ColorRole.Base
    gui.call(looks.set_scheme, "dark")
    gui.until(lambda: window.transcript.palette().color(base).name() == "#212121", "dark")
    assert window.sidebar.view.palette().color(QPalette.ColorRole.Window).name() == "#171717"
    assert window.theme.dark  # (what the transcript renders with)
    icon_before = window.pane.header.new_button.icon().pixmap(18, 18).toImage()
    gui.call(looks.set_scheme, "light")
    gui.until(lambda: window.transcript.palette().color(base).name() == "#ffffff", "light")
    assert not window.theme.dark
    # the icons were redrawn in the new text colour
    assert window.pane.header.new_button.icon().pixmap(18, 18).toImage() != icon_before
    # "system" follows the desktop live (offscreen Qt reports no scheme: the reading
    # is replaced, the change arrives through QStyleHints.colorSchemeChanged)
    gui.call(looks.set_scheme, "system")
    looks.system_dark = lambda: True
    gui.call(QGuiApplication.styleHints().colorSchemeChanged.emit, Qt.ColorScheme.Dark)
    gui.until(lambda: window.transcript.palette().color(base).name() == "#212121", "system dark")
    # the desktop's high-contrast setting, live
    looks.system_high_contrast = lambda: True
    hints = QGuiApplication.styleHints().accessibility()
    gui.call(hints.contrastPreferenceChanged.emit, Qt.ContrastPreference.HighContrast)
    gui.until(
        lambda: window.transcript.palette().color(QPalette.ColorRole.Text).name() == "#ffffff",
        "high contrast",
    )
    looks.system_high_contrast = lambda: False
    gui.call(hints.contrastPreferenceChanged.emit, Qt.ContrastPreference.NoPreference)
    assert window.transcript.palette().color(QPalette.ColorRole.Text).name() == "#ececec"
    # an explicit choice is not overridden by the desktop
    gui.call(looks.set_scheme, "light")
    gui.call(QGuiApplication.styleHints().colorSchemeChanged.emit, Qt.ColorScheme.Dark)
    assert window.transcript.palette().color(base).name() == "#ffffff"


def test_high_contrast_draws_text_and_borders_at_full_strength() -> None:
    pal = build_palette(False, high_contrast=True)
    assert pal.color(QPalette.ColorRole.Text).name() == "#000000"
    assert pal.color(QPalette.ColorRole.Mid).name() == "#000000"
    assert build_palette(True, high_contrast=True).color(QPalette.ColorRole.Text).name() == (
        "#ffffff"
    )


def test_zoom_keys_and_zoom_remembered_across_restart(
    gui: Gui,
    config: ConnectionConfig,
    windows: list[MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from desktop_agent.app.settings import load_settings

    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    base = QApplication.font().pointSizeF()
    first = open_window(
        gui,
        config,
        appearance=Appearance.from_settings(load_settings()),
        save_appearance=settings_saver(),
    )
    windows.append(first)
    press(gui, first.composer, Qt.Key_Equal, Qt.ControlModifier)
    press(gui, first.composer, Qt.Key_Equal, Qt.ControlModifier)
    assert first.chrome.looks.appearance.zoom == 120
    assert first.transcript.font().pointSizeF() == pytest.approx(base * 1.2)
    assert first.composer.font().pointSizeF() == pytest.approx(base * 1.2)
    card = first.pane.empty.suggestions[0]  # (styled: given the font explicitly)
    assert card.styleSheet() and card.font().pointSizeF() == pytest.approx(base * 1.2)
    gui.run(first.shutdown())
    assert load_settings()["appearance"]["scheme"] == "system"
    assert load_settings()["appearance"]["zoom"] == 120

    second = open_window(
        gui,
        config,
        appearance=Appearance.from_settings(load_settings()),
        save_appearance=settings_saver(),
    )
    windows.append(second)
    assert second.transcript.font().pointSizeF() == pytest.approx(base * 1.2)
    press(gui, second.composer, Qt.Key_Minus, Qt.ControlModifier)
    assert second.chrome.looks.appearance.zoom == 110
    press(gui, second.composer, Qt.Key_0, Qt.ControlModifier)
    assert second.transcript.font().pointSizeF() == pytest.approx(base)
    assert load_settings()["appearance"]["zoom"] == 100


def test_appearance_from_hostile_settings_falls_back() -> None:
    assert Appearance.from_settings({"appearance": {"scheme": "neon", "zoom": 10**9}}) == (
        Appearance("system", 300)
    )
    assert Appearance.from_settings({"appearance": "x"}) == Appearance()
    assert Appearance.from_settings({"appearance": {"zoom": True}}).zoom == 100
    hostile = {"sidebar_width": -5, "sidebar_hidden": "yes", "window_width": 10**9,
               "window_height": "tall"}  # fmt: skip
    looks = Appearance.from_settings({"appearance": hostile})
    assert (looks.sidebar_width, looks.sidebar_hidden) == (200, False)
    assert (looks.window_width, looks.window_height) == (16384, 740)


def test_window_size_and_sidebar_remembered_across_restart(
    gui: Gui,
    config: ConnectionConfig,
    windows: list[MainWindow],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The window opens at the size it was closed at, with the sidebar as wide as it
    was, or hidden (Ctrl+B) if it was."""
    from desktop_agent.app.settings import load_settings

    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    db = tmp_path / "h.db"

    def reopen() -> MainWindow:
        window = open_window(
            gui,
            config,
            db,
            appearance=Appearance.from_settings(load_settings()),
            save_appearance=settings_saver(),
        )
        windows.append(window)
        return window

    first = reopen()
    assert (first.width(), first.height()) == (1100, 740)  # (the defaults)
    gui.call(first.resize, 1000, 650)
    gui.call(first.splitter.setSizes, [333, 667])
    gui.run(first.shutdown())
    saved = load_settings()["appearance"]
    assert (saved["window_width"], saved["window_height"], saved["sidebar_width"]) == (
        1000, 650, 333
    )  # fmt: skip
    second = reopen()
    assert (second.width(), second.height()) == (1000, 650)
    assert second.splitter.sizes()[0] == 333 and second.sidebar.isVisible()
    press(gui, second.composer, Qt.Key_B, Qt.ControlModifier)  # hide the sidebar
    gui.run(second.shutdown())
    assert load_settings()["appearance"]["sidebar_hidden"] is True
    third = reopen()
    assert not third.sidebar.isVisible()
    press(gui, third.composer, Qt.Key_B, Qt.ControlModifier)
    assert third.sidebar.isVisible() and third.splitter.sizes()[0] == 333


# -- empty state, banner ----------------------------------------------------------------


def test_empty_state_suggestions_fill_the_composer_from_the_keyboard(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow], http_server: ScriptedServer
) -> None:
    window = open_window(gui, config)
    windows.append(window)
    empty = window.pane.empty
    assert window.pane.showing_empty and empty.isVisible()
    assert config.model in empty.model_label.text()
    assert "Tools" in empty.tools_label.text() or "No tools" in empty.tools_label.text()
    assert "Ctrl+K" in empty.hints.text()
    # Tab from Send reaches the first suggestion; Space picks it
    gui.call(window.send_button.setFocus)
    press(gui, window.send_button, Qt.Key_Tab)
    assert QApplication.focusWidget() is empty.suggestions[0]
    press(gui, empty.suggestions[0], Qt.Key_Space)
    assert window.composer.toPlainText() == SUGGESTIONS[0][1]
    assert QApplication.focusWidget() is window.composer
    # sending leaves the empty state for the transcript
    http_server.add(Reply(text="sure"))
    press(gui, window.composer, Qt.Key_Return)
    gui.until(lambda: window.transcript.last_answer() == "sure", "the answer")
    assert not window.pane.showing_empty and window.transcript.isVisible()
    # a new conversation shows it again
    press(gui, window.composer, Qt.Key_N, Qt.ControlModifier)
    assert window.pane.showing_empty


def test_connecting_notice_clears_once_connected(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow], http_server: ScriptedServer
) -> None:
    http_server.add(Reply(text="hello back"))
    window = MainWindow(config, frame_ms=16)
    windows.append(window)
    window.show()
    gui.call(window.send, "hello")  # before the session has started
    banner = window.pane.banner
    assert banner.isVisible() and banner.text().startswith("Connecting…")
    assert not any(e.kind == "notice" for e in window.transcript.entries)
    gui.run(window.start())
    assert not banner.isVisible() and banner.text() == ""
    gui.until(lambda: window.transcript.last_answer() == "hello back", "the queued message sent")
    assert "Connecting" not in window.transcript.toPlainText()


def test_model_loading_banner_clears_when_ready(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow]
) -> None:
    window = open_window(gui, config)
    windows.append(window)
    gui.call(window.settings.engine_state_changed, "loading", "Loading the model…")
    assert window.pane.banner.isVisible() and window.pane.banner.text() == "Loading the model…"
    gui.call(window.settings.engine_state_changed, "ready", "")
    assert not window.pane.banner.isVisible()


# -- sidebar ----------------------------------------------------------------------------


def rows_of(titles_and_ages: list[tuple[str, float]]) -> list[Row]:
    now = time.time()
    return [Row(f"c{i}", title, now - age) for i, (title, age) in enumerate(titles_and_ages)]


def test_sidebar_never_scrolls_sideways_at_240px(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow], tmp_path: Path
) -> None:
    window = open_window(gui, config, tmp_path / "history.db")
    windows.append(window)
    long_title = ("A very long conversation title " * 10)[:300]
    assert len(long_title) == 300
    gui.call(window.sidebar.model.set_rows, rows_of([(long_title, 0), ("short", 60)]))
    gui.call(window.splitter.setSizes, [240, 860])
    gui.until(lambda: window.sidebar.width() == 240, "the sidebar at 240 px")
    view = window.sidebar.view
    bar = view.horizontalScrollBar()
    assert not bar.isVisible() and bar.maximum() == 0
    assert not any(b.isVisible() for b in window.sidebar.findChildren(QScrollBar) if b is bar)
    rect = view.visualRect(window.sidebar.model.index(0))
    assert rect.right() < view.viewport().width()
    # the painted title is elided; the whole one is the tooltip and the accessible text
    assert long_title in str(window.sidebar.model.index(0).data(Qt.ToolTipRole))
    # the sidebar can be made wider, up to 480, and collapsed with Ctrl+B
    assert window.sidebar.maximumWidth() == 480
    press(gui, window.composer, Qt.Key_B, Qt.ControlModifier)
    assert not window.sidebar.isVisible()
    gui.call(window.pane.header.sidebar_button.click)
    assert window.sidebar.isVisible()


def test_groups_by_local_midnight() -> None:
    now = time.mktime((2026, 11, 30, 15, 0, 0, 0, 0, -1))
    assert group_of(now - 3600, now) == "Today"
    assert group_of(now - 16 * 3600, now) == "Yesterday"  # 23:00 the day before
    assert group_of(now - 4 * 86400, now) == "Previous 7 days"
    assert group_of(now - 30 * 86400, now) == "Older"
    assert GROUPS == ("Today", "Yesterday", "Previous 7 days", "Older")


def test_sidebar_groups_search_and_keys(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow], tmp_path: Path
) -> None:
    window = open_window(gui, config, tmp_path / "history.db")
    windows.append(window)
    sidebar = window.sidebar
    rows = rows_of([("Kyoto trip", 60), ("Tax return", 2 * 86400), ("Old recipe", 40 * 86400)])
    gui.call(sidebar.model.set_rows, rows)
    starts = [sidebar.delegate.starts_group(i) for i in range(3)]
    assert starts == [True, True, True]  # three groups: each row starts one
    heights = [sidebar.view.visualRect(sidebar.model.index(i)).height() for i in range(3)]
    assert all(h >= 36 + 28 for h in heights)  # a row and its group label
    # Ctrl+K focuses the search field; typing filters the list; Enter opens the match
    press(gui, window.composer, Qt.Key_K, Qt.ControlModifier)
    assert QApplication.focusWidget() is sidebar.search
    opened: list[str] = []
    sidebar.activated.connect(opened.append)

    async def type_query() -> None:
        gui.qtbot.keyClicks(sidebar.search, "tax")

    gui.run(type_query())
    assert sidebar.visible_ids() == ["c1"]
    press(gui, sidebar.search, Qt.Key_Return)
    assert opened == ["c1"]
    gui.call(sidebar.search.clear)
    assert sidebar.visible_ids() == ["c0", "c1", "c2"]
    # F2 renames the current row in place; Delete asks to delete it
    gui.call(sidebar.view.setFocus)
    gui.call(sidebar.view.setCurrentIndex, sidebar.model.index(2))
    press(gui, sidebar.view, Qt.Key_F2)
    assert sidebar.view.state() == QAbstractItemView.State.EditingState
    press(gui, QApplication.focusWidget(), Qt.Key_Escape)
    deleted: list[str] = []
    sidebar.delete_requested.connect(deleted.append)
    gui.call(sidebar.view.setFocus)
    press(gui, sidebar.view, Qt.Key_Delete)
    assert deleted == ["c2"]
    # ● on a conversation answering
    gui.call(sidebar.model.set_live, "c0", True)
    assert str(sidebar.model.index(0).data(Qt.DisplayRole)).startswith("● ")


def test_row_buttons_rename_and_delete_on_hover(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow], tmp_path: Path
) -> None:
    window = open_window(gui, config, tmp_path / "history.db")
    windows.append(window)
    sidebar = window.sidebar
    gui.call(sidebar.model.set_rows, rows_of([("First", 60), ("Second", 120)]))
    deleted: list[str] = []
    sidebar.delete_requested.connect(deleted.append)
    view = sidebar.view
    rect = view.visualRect(sidebar.model.index(1))
    buttons = sidebar.delegate.button_rects(rect)  # (row 1 starts no group)

    async def click(point: Any) -> None:
        gui.qtbot.mouseMove(view.viewport(), point)
        gui.qtbot.mouseClick(view.viewport(), Qt.LeftButton, pos=point)

    gui.run(click(buttons["rename"].center()))
    gui.until(lambda: view.state() == QAbstractItemView.State.EditingState, "the title editor")
    assert view.currentIndex().row() == 1
    press(gui, QApplication.focusWidget(), Qt.Key_Escape)
    gui.run(click(buttons["delete"].center()))
    assert deleted == ["c1"]


# -- header, settings -------------------------------------------------------------------


def test_header_buttons(gui: Gui, config: ConnectionConfig, windows: list[MainWindow]) -> None:
    window = open_window(gui, config)
    windows.append(window)
    header = window.pane.header
    for button in header.buttons:
        assert not button.icon().isNull()  # (set after the first paint)
        assert button.toolTip() and button.accessibleName() and button.accessibleDescription()
    assert header.title_label.text() == "New conversation"
    # the model picker says which model answers, also with one provider saved
    assert window.provider_box.isVisibleTo(window)
    assert window.provider_box.currentText().startswith(config.model)
    opened: list[Any] = []
    window.dialog_opened.connect(opened.append)
    gui.call(header.settings_button.click)
    (dialog,) = opened
    assert type(dialog).__name__ == "SettingsDialog"
    assert dialog.pages.names == [
        "General",
        "Providers",
        "Models",
        "Tools",
        "Data",
        "Appearance",
        "Shortcuts",
        "About",
    ] or dialog.pages.names == [
        "General",
        "Providers",
        "Models",
        "Tools",
        "MCP servers",
        "Data",
        "Appearance",
        "Shortcuts",
        "About",
    ]
    gui.call(dialog.reject)
    old = window.tenant_id
    window.transcript.add_user("hi", key="k")  # (something to leave)
    gui.call(header.new_button.click)
    assert window.tenant_id != old


def test_settings_pages_fit_900x600_and_validate_inline(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow]
) -> None:
    from PySide6.QtWidgets import QLabel

    window = open_window(gui, config)
    windows.append(window)
    dialog: Any = gui.call(window.open_settings)
    dialog.resize(900, 600)
    gui.until(lambda: dialog.height() == 600, "the dialog at 900×600")
    stack = dialog.pages.stack
    for name in dialog.pages.names:
        gui.call(dialog.pages.show_page, name)
        page = dialog.pages.page(name)
        hint = page.minimumSizeHint()
        assert hint.height() <= stack.height() and hint.width() <= stack.width(), name
    # another part adds a page
    extra = QLabel("more here")
    gui.call(lambda: dialog.add_page("Extra", extra, before="Appearance"))
    assert dialog.pages.names.index("Extra") == dialog.pages.names.index("Appearance") - 1
    assert extra.accessibleName() == "Extra"
    # a bad base URL: said next to the field, and Save keeps the dialog open
    gui.call(dialog.pages.show_page, "General")
    saved: list[Any] = []
    dialog.saved.connect(saved.append)
    gui.call(dialog.base_url.setText, "ftp://example.org")
    assert not dialog.base_url_error.isHidden()
    assert "http://" in dialog.base_url_error.text()
    gui.call(dialog.save)
    assert saved == [] and dialog.isVisible()
    assert dialog.pages.current_name == "Providers"
    gui.call(dialog.base_url.setText, "http://127.0.0.1:9/v1")
    assert dialog.base_url_error.isHidden()
    gui.call(dialog.reject)


def test_appearance_page_changes_the_scheme(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow]
) -> None:
    window = open_window(gui, config)
    windows.append(window)
    dialog: Any = gui.call(window.open_settings)
    page = dialog.pages.page("Appearance")
    gui.call(page.scheme.setCurrentIndex, page.scheme.findData("dark"))
    assert window.chrome.looks.appearance.scheme == "dark"
    assert window.palette().color(QPalette.ColorRole.Window).name() == "#171717"
    gui.call(page.zoom.setValue, 150)
    assert window.chrome.looks.appearance.zoom == 150
    gui.call(dialog.reject)


# -- accessibility ----------------------------------------------------------------------


def a11y(widget: Any) -> tuple[str, Any]:
    iface = QAccessible.queryAccessibleInterface(widget)
    assert iface is not None
    return iface.text(QAccessible.Text.Name), iface.role()


def test_main_controls_through_qaccessible(
    gui: Gui, config: ConnectionConfig, windows: list[MainWindow], tmp_path: Path
) -> None:
    window = open_window(gui, config, tmp_path / "history.db")
    windows.append(window)
    role = QAccessible.Role
    header = window.pane.header
    assert a11y(header.new_button) == ("New conversation", role.Button)
    assert a11y(header.settings_button) == ("Settings", role.Button)
    assert a11y(header.sidebar_button) == ("Show or hide the sidebar", role.Button)
    assert a11y(window.sidebar.search) == ("Search conversations", role.EditableText)
    assert a11y(window.sidebar.view) == ("Conversation list", role.List)
    assert a11y(window.composer) == ("Message", role.EditableText)
    assert a11y(window.send_button) == ("Send or stop", role.Button)
    assert a11y(window.pane.empty.suggestions[0])[0] == "Suggestion: " + SUGGESTIONS[0][0]
    assert a11y(window.provider_box)[1] == role.ComboBox
    iface = QAccessible.queryAccessibleInterface(header.new_button)
    assert iface.text(QAccessible.Text.Description) == "Start a new conversation"
    dialog: Any = gui.call(window.open_settings)
    assert a11y(dialog.pages.nav) == ("Settings pages", role.List)
    # every control of the window and the dialog has a name and a description
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QListView, QWidget

    kinds = (QAbstractButton, QComboBox, QLineEdit, QListView)
    for top in (window.pane.header, window.pane.empty, window.sidebar):
        for w in top.findChildren(QWidget):
            # (not the combo boxes' pop-up lists: their own windows, named by the box)
            if isinstance(w, kinds) and w.window() is window and w.focusPolicy() != Qt.NoFocus:
                assert w.accessibleName(), type(w).__name__
                assert (
                    w.accessibleDescription()
                    or isinstance(w, QComboBox | QLineEdit | QListView)
                    or w.toolTip()
                ), w.accessibleName()

    def internal(w: Any) -> bool:  # (parts of a spin box or combo box: named by it)
        from PySide6.QtWidgets import QAbstractSpinBox

        return w.objectName().startswith("qt_") or isinstance(
            w.parent(), QComboBox | QAbstractSpinBox
        )

    unnamed = [
        (type(w).__name__, w.objectName())
        for w in dialog.findChildren(QWidget)
        if isinstance(w, kinds)
        and w.window() is dialog
        and not internal(w)
        and not a11y(w)[0]  # (through QAccessible: a button's text is its name)
    ]
    assert unnamed == []
    gui.call(dialog.reject)
