"""The window, offscreen, against the scripted server over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import sys
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import Qt as QtNS
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QApplication

from desktop_agent import Timeouts, tool
from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.window import MainWindow
from desktop_agent.tools.basic import calculator
from tests.gui.conftest import Gui
from tests.support.scripted_server import Fail, Reply, ScriptedServer

Qt: Any = QtNS


@tool("Wait a little, then add")
async def slow_add(a: int, b: int) -> int:
    await asyncio.sleep(0.3)
    return a + b


def make_window(gui: Gui, config: ConnectionConfig, **kwargs: Any) -> MainWindow:
    window = MainWindow(config, tools=[slow_add, calculator], frame_ms=16, **kwargs)
    window.show()
    window.activateWindow()
    gui.until(
        lambda: bool(window.windowHandle() and window.windowHandle().isExposed()), "on screen"
    )
    gui.run(window.start())
    return window


def type_and_send(gui: Gui, window: MainWindow, text: str) -> None:
    async def act() -> None:
        window.composer.setFocus()
        gui.qtbot.keyClicks(window.composer, text)
        gui.qtbot.keyClick(window.composer, Qt.Key_Return)

    gui.run(act())


def press(gui: Gui, widget: Any, key: Any, modifier: Any = None) -> None:
    async def act() -> None:
        if modifier is None:
            gui.qtbot.keyClick(widget, key)
        else:
            gui.qtbot.keyClick(widget, key, modifier)

    gui.run(act())


def wait_idle(gui: Gui, window: MainWindow) -> None:
    gui.until(lambda: not window.busy, "the run to finish")


def test_prompt_streams_in(gui: Gui, window: MainWindow, http_server: ScriptedServer) -> None:
    answer = "Hello! This answer arrives **in pieces**, one chunk at a time.\n\n- one\n- two"
    http_server.add(Reply(text=answer, chunk_size=4, delay=0.005))
    where = f"127.0.0.1:{http_server.port} (this computer)"
    assert window.windowTitle() == f"desktop-agent — scripted-small · {where}"
    chunks: list[str] = []
    assert window.bridge is not None
    window.bridge.chunk_received.connect(lambda event: chunks.append(event.chunk))
    type_and_send(gui, window, "Say hello")
    gui.until(lambda: window.busy, "the run to start")
    assert window.composer.toPlainText() == ""
    assert window.status.spinner.running
    gui.until(lambda: len(chunks) >= 3, "text to stream in")
    assert window.status.spinner.running, "spinner stopped while streaming"
    wait_idle(gui, window)
    assert "".join(chunks) == answer  # byte-identical through the bridge
    assert window.transcript.last_answer() == answer
    text = window.transcript.toPlainText()
    assert "Say hello" in text and "arrives in pieces, one chunk" in text
    assert not window.status.spinner.running
    assert window.send_button.text() == "Send"
    assert http_server.requests[0].body["messages"][-1] == {"role": "user", "content": "Say hello"}


def test_tool_call_shows_in_status_bar_and_transcript(
    gui: Gui, window: MainWindow, http_server: ScriptedServer
) -> None:
    http_server.add(
        Reply(text="Let me add.", tool_calls=[["call_1", "slow_add", '{"a": 2, "b": 40}']]),
        Reply(text="The answer is 42."),
    )
    type_and_send(gui, window, "add 2 and 40")
    gui.until(lambda: "⚙ slow_add(" in window.status.tools_text, "the running tool")
    assert "a=2, b=40" in window.status.tools_text
    assert window.status.spinner.running
    assert window.status.state_label.text() == "Running tools…"
    gui.until(lambda: window.status.tools_text.startswith("✓ slow_add ("), "the tool's completion")
    wait_idle(gui, window)
    assert window.status.tools_text.startswith("✓ slow_add (")
    assert not window.status.spinner.running
    history = window.orchestrator.messages(window.tenant_id)  # type: ignore[union-attr]
    [call_id] = [c["id"] for m in history for c in m.get("tool_calls") or ()]
    entry = window.transcript.entry(call_id)
    assert entry is not None and entry.result == "42" and entry.error is None
    text = window.transcript.toPlainText()
    assert "✓ ⚙ slow_add ▸ a=2, b=40" in text  # (a card: state, tool, arguments)
    assert "The answer is 42." in text
    # Expanding the entry shows arguments and result.
    link = window.transcript.app_link("toggle", call_id, "details")
    gui.call(window.transcript.anchorClicked.emit, QUrl(link))
    assert '"a": 2' in window.transcript.toPlainText()


def test_concurrent_tools_all_shown(
    gui: Gui, window: MainWindow, http_server: ScriptedServer
) -> None:
    calls = [["c1", "slow_add", '{"a": 1, "b": 1}'], ["c2", "slow_add", '{"a": 2, "b": 2}']]
    http_server.add(
        Reply(tool_calls=calls),
        Reply(text="2 and 4"),
    )
    type_and_send(gui, window, "two sums")
    gui.until(lambda: window.status.tools_text.count("⚙ slow_add(") == 2, "both tools shown")
    wait_idle(gui, window)


def test_esc_cancels_and_keeps_partial_text(
    gui: Gui, window: MainWindow, http_server: ScriptedServer
) -> None:
    http_server.add(Reply(text="partial words then silence", chunk_size=4, hang_after=3))
    type_and_send(gui, window, "talk")
    gui.until(lambda: (window.transcript.last_answer() or "").startswith("part"), "partial text")
    press(gui, window.composer, Qt.Key_Escape)
    # The server never finishes: only the cancel can end this run.
    wait_idle(gui, window)
    assert window.status.state_label.text() == "Stopped"
    assert not window.status.spinner.running
    assert window.transcript.last_answer() == "partial words"[:12]
    assert "(stopped)" in window.transcript.toPlainText()
    gui.until(lambda: bool(http_server.disconnects), "the HTTP stream to close")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("down", "Cannot reach 127.0.0.1:"),
        ("401", "rejected the API key (401)"),
        ("429", "Rate limited by 127.0.0.1"),
        ("timeout", "Timed out: the model sent nothing for 0.3 s."),
    ],
)
def test_errors_show_inline_and_reenable_composer(
    gui: Gui, config: ConnectionConfig, http_server: ScriptedServer, case: str, expected: str
) -> None:
    if case == "down":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        config = replace(config, base_url=f"http://127.0.0.1:{port}/v1")
    elif case == "401":
        http_server.require_key = "sk-other"
    elif case == "429":
        http_server.add(*[Fail(429, "Too many requests", headers={"Retry-After": "0.01"})] * 3)
    else:
        http_server.add(Reply(text="never", hang_after=0))
    w = make_window(gui, config, timeouts=Timeouts(first_token=0.3))
    try:
        type_and_send(gui, w, "hello?")
        wait_idle(gui, w)
        error = w.transcript.last("error")
        assert error is not None, w.transcript.toPlainText()
        assert expected in error.source
        assert "Retry" in w.transcript.toPlainText()
        assert not w.busy and not w.composer.busy
        assert w.send_button.text() == "Send"
        assert not w.status.spinner.running
        assert w.status.state_label.text() == "Failed"
        assert w.transcript.entries[0].source == "hello?"  # the user's text survives
    finally:
        gui.run(w.shutdown())


def test_retry_after_error(gui: Gui, window: MainWindow, http_server: ScriptedServer) -> None:
    http_server.add(Fail(400, "bad request, try again"), Reply(text="second time works"))
    type_and_send(gui, window, "please")
    wait_idle(gui, window)
    assert window.transcript.last("error") is not None
    gui.call(window.transcript.anchorClicked.emit, QUrl(window.transcript.app_link("retry")))
    gui.until(lambda: window.transcript.last_answer() == "second time works", "the retried answer")
    wait_idle(gui, window)
    assert window.transcript.last("error") is None
    assert [e.kind for e in window.transcript.entries] == ["user", "assistant"]
    assert http_server.requests[1].body["messages"][-1] == {"role": "user", "content": "please"}


HOSTILE = (
    'Look: <img src="file:///etc/passwd"> and ![x](file:///etc/hostname) and '
    '<a href="file:///etc/passwd">click</a> <script>alert(1)</script> '
    "[web](https://example.org) ![remote](https://example.org/pixel.png)"
)


def test_hostile_output_loads_nothing_and_shows_as_text(
    gui: Gui, window: MainWindow, http_server: ScriptedServer
) -> None:
    http_server.add(Reply(text=HOSTILE, chunk_size=7))
    type_and_send(gui, window, "be evil")
    wait_idle(gui, window)
    text = window.transcript.toPlainText()
    assert '<img src="file:///etc/passwd">' in text
    assert "<script>alert(1)</script>" in text
    assert '<a href="file:///etc/passwd">click</a>' in text
    doc = window.transcript.document()
    images = []
    anchors = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                images.append(fmt.toImageFormat().name())
            if fmt.isAnchor():
                anchors.append(fmt.anchorHref())
            it += 1
        block = block.next()
    assert images == []
    assert window.transcript.refused_resources == []
    assert all(not a.startswith("file:") for a in anchors), anchors
    assert "https://example.org" in anchors
    # Clicking a link: only http, https and mailto are handed to the browser.
    refused: list[str] = []
    opened: list[str] = []
    window.transcript.link_refused.connect(refused.append)
    window.transcript.link_opened.connect(opened.append)
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.setUrlHandler("https", window, "noop")  # don't launch a browser in tests
    gui.call(window.transcript.anchorClicked.emit, QUrl("file:///etc/passwd"))
    gui.call(window.transcript.anchorClicked.emit, QUrl("javascript:alert(1)"))
    assert refused == ["file:///etc/passwd", "javascript:alert(1)"]
    assert opened == []
    # And even a direct request for a resource is refused.
    assert window.transcript.loadResource(2, QUrl("file:///etc/passwd")) is None


def test_keyboard_shortcuts(gui: Gui, window: MainWindow, http_server: ScriptedServer) -> None:
    http_server.add(
        Reply(text="first answer"), Reply(text="regenerated answer"), Reply(text="edited answer")
    )

    # Shift+Enter adds a line; Enter sends.
    async def compose() -> None:
        window.composer.setFocus()
        gui.qtbot.keyClicks(window.composer, "line one")
        gui.qtbot.keyClick(window.composer, Qt.Key_Return, Qt.ShiftModifier)
        gui.qtbot.keyClicks(window.composer, "line two")

    gui.run(compose())
    assert window.composer.toPlainText() == "line one\nline two"
    press(gui, window.composer, Qt.Key_Return)
    wait_idle(gui, window)
    assert http_server.requests[0].body["messages"][-1]["content"] == "line one\nline two"
    # Ctrl+Shift+C copies the last answer.
    press(gui, window.composer, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    assert QGuiApplication.clipboard().text() == "first answer"
    # Ctrl+R regenerates it.
    press(gui, window.composer, Qt.Key_R, Qt.ControlModifier)
    gui.until(lambda: window.transcript.last_answer() == "regenerated answer", "a new answer")
    wait_idle(gui, window)
    assert [e.kind for e in window.transcript.entries] == ["user", "assistant"]
    # Up in the empty composer edits the last message; Enter resends it.
    press(gui, window.composer, Qt.Key_Up)
    assert window.composer.toPlainText() == "line one\nline two"
    gui.run(_async(lambda: window.composer.setPlainText("edited question")))
    press(gui, window.composer, Qt.Key_Return)
    gui.until(lambda: window.transcript.last_answer() == "edited answer", "the edited answer")
    wait_idle(gui, window)
    sent = http_server.requests[-1].body["messages"]
    assert [m["content"] for m in sent if m["role"] == "user"] == ["edited question"]
    assert [e.kind for e in window.transcript.entries] == ["user", "assistant"]
    # F1 lists the shortcuts; Ctrl+L focuses the composer; Ctrl+N starts afresh.
    opened: list[object] = []
    window.dialog_opened.connect(opened.append)
    press(gui, window.composer, Qt.Key_F1)
    assert [type(d).__name__ for d in opened] == ["ShortcutsDialog"]
    assert any(type(d).__name__ == "ShortcutsDialog" and d.isVisible() for d in window.dialogs)
    for dialog in window.dialogs:
        dialog.close()
    gui.call(window.activateWindow)
    gui.until(lambda: QApplication.activeWindow() is window, "the window to be active again")
    gui.call(window.send_button.setFocus)
    assert window.focusWidget() is window.send_button
    press(gui, window.send_button, Qt.Key_L, Qt.ControlModifier)
    assert window.focusWidget() is window.composer
    old_tenant = window.tenant_id
    press(gui, window.composer, Qt.Key_N, Qt.ControlModifier)
    assert window.tenant_id != old_tenant
    assert window.transcript.entries == []


async def _async(fn: Any) -> Any:
    return fn()


def test_controls_have_accessible_names(window: MainWindow) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLabel, QPlainTextEdit, QTextEdit

    missing = [
        type(w).__name__
        for w in window.findChildren(QWidget_types())
        if isinstance(w, QAbstractButton | QPlainTextEdit | QTextEdit) and not w.accessibleName()
    ]
    assert missing == []
    assert window.composer.accessibleName() == "Message"
    assert window.transcript.accessibleName() == "Conversation transcript"
    labels = [w for w in window.status.findChildren(QLabel) if w.accessibleName()]
    assert len(labels) >= 3


def QWidget_types() -> Any:
    from PySide6.QtWidgets import QWidget

    return QWidget


def test_tab_order_reaches_every_control(gui: Gui, window: MainWindow) -> None:
    def chain() -> list[str]:
        seen = []
        widget = window.composer
        for _ in range(4):
            seen.append(widget.objectName() or type(widget).__name__)
            widget = widget.nextInFocusChain()
            while not (widget.focusPolicy() & Qt.TabFocus) or not widget.isVisible():
                widget = widget.nextInFocusChain()
        return seen

    # a new conversation: the suggestions of the empty state after Send
    assert chain()[:3] == ["composer", "QPushButton", "suggestion"]
    gui.call(window.pane.set_empty, False)  # (as once a message is shown)
    assert chain()[:3] == ["composer", "QPushButton", "transcript"]


def test_pyside_void_calls_do_not_corrupt_none_refcount(qapp: Any) -> None:
    """PySide6 6.12.0 on CPython 3.11 drops None's refcount on every void call."""
    from PySide6.QtWidgets import QTextEdit

    edit = QTextEdit()
    cursor = QTextCursor(edit.document())
    fmt = QTextCharFormat()
    before = sys.getrefcount(None)
    for _ in range(100_000):
        cursor.setCharFormat(fmt)  # a Qt method that returns nothing
    after = sys.getrefcount(None)
    assert after >= before - 1000, (before, after)
