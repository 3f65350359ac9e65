"""Smaller window behaviours: frame coalescing, auto-scroll, copy, error reporting, theme."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from desktop_agent import EventDispatcher
from desktop_agent.engine.events import Done, Event, EventMeta, MessageChunk
from desktop_agent.engine.status import RunOutcome
from desktop_agent.gui.bridge import EventBridge
from desktop_agent.gui.colors import Theme
from desktop_agent.gui.transcript import Transcript
from tests.gui.conftest import Gui


def chunk(seq: int, text: str) -> Event:
    return MessageChunk(text, "m", seq, meta=EventMeta("r", "t", seq))


def test_bridge_coalesces_per_frame_and_keeps_every_byte(gui: Gui) -> None:
    dispatcher = EventDispatcher()
    bridge = EventBridge(dispatcher, frame_ms=30)
    got: list[str] = []
    frames: list[int] = []
    finished = asyncio.Event()
    bridge.chunk_received.connect(lambda event: got.append(event.chunk))
    bridge.frame_delivered.connect(frames.append)
    bridge.run_done.connect(lambda _done: finished.set())
    sent = [f"tok{i}·" for i in range(5000)]

    async def produce() -> None:
        bridge.start()
        for i, text in enumerate(sent):
            dispatcher.publish(chunk(i, text))
            if i % 50 == 0:
                await asyncio.sleep(0.001)  # a fast stream: ~50 chunks per millisecond
        meta = EventMeta("r", "t", len(sent))
        dispatcher.publish(Done(RunOutcome.COMPLETED, 1.0, meta=meta))
        await finished.wait()
        await bridge.aclose()

    gui.run(produce())
    assert "".join(got) == "".join(sent)
    assert len(got) <= len(frames)  # at most one merged text signal per frame
    assert len(frames) < len(sent) / 20  # bounded updates, not one per chunk


def test_bridge_frame_interval_is_validated() -> None:
    with pytest.raises(ValueError, match="frame_ms"):
        EventBridge(EventDispatcher(), frame_ms=0)


def test_auto_scroll_follows_unless_scrolled_up(qtbot: Any) -> None:
    t = Transcript()
    qtbot.addWidget(t)
    t.resize(500, 300)
    t.show()
    t.begin_assistant("m")
    for i in range(60):
        t.append_chunk("m", f"line {i}\n\n")
    bar = t.verticalScrollBar()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()  # followed the stream
    bar.setValue(0)  # the user scrolls up to read
    for i in range(20):
        t.append_chunk("m", f"more {i}\n\n")
    assert bar.value() == 0  # left where the user put it
    bar.setValue(bar.maximum())  # back at the bottom: following again
    t.append_chunk("m", "tail\n\n")
    assert bar.value() == bar.maximum()


def test_code_block_copy_action(gui: Gui) -> None:
    t = Transcript()
    gui.qtbot.addWidget(t)
    copied: list[str] = []
    t.copied.connect(copied.append)
    t.complete_assistant("m", "Run:\n\n```bash\necho 'hi'\n```\n", "stop")
    html = t.toHtml()
    prefix = f'href="{t.app_scheme}:copy/'
    assert prefix in html
    href = prefix[6:] + html.split(prefix, 1)[1].split('"', 1)[0]
    gui.call(t.anchorClicked.emit, QUrl(href))
    assert copied == ["echo 'hi'\n"]
    assert QGuiApplication.clipboard().text() == "echo 'hi'\n"


def test_dark_palette_gives_dark_theme(qapp: Any) -> None:
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#e0e0e0"))
    dark = Theme.from_palette(pal)
    assert dark.dark
    assert QColor(dark.user_bg).lightness() < 80
    pal.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.Text, QColor("#000000"))
    light = Theme.from_palette(pal)
    assert not light.dark
    assert QColor(light.user_bg).lightness() > 200


def test_errors_in_slots_and_tasks_are_reported(
    gui: Gui, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from desktop_agent.app.providers import ConnectionConfig
    from desktop_agent.gui.app import install_error_reporting, loop_exception_reporter
    from desktop_agent.gui.window import MainWindow

    window = MainWindow(ConnectionConfig(kind="openai"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_error_reporting(window)
    with caplog.at_level(logging.ERROR, logger="desktop_agent"):
        sys.excepthook(RuntimeError, RuntimeError("slot broke"), None)
        assert "slot broke" in window.status.currentMessage()
        handler = loop_exception_reporter(window)
        handler(
            gui.loop,
            {
                "message": "Task exception was never retrieved",
                "exception": ValueError("task broke"),
            },
        )
        assert "task broke" in window.status.currentMessage()
    assert [r.getMessage() for r in caplog.records] == [
        "Unhandled exception in the window",
        "Task exception was never retrieved",
    ]
    gui.run(window.shutdown())


def test_large_and_binary_tool_results_are_shortened_for_display(qtbot: Any) -> None:
    from PySide6.QtCore import QUrl

    from desktop_agent.gui.transcript import RESULT_PREVIEW_CHARS, Transcript

    transcript = Transcript()
    qtbot.addWidget(transcript)
    big = "".join(f"line {i:05d}\n" for i in range(2000))  # 22,000 characters
    transcript.add_tool_call("c1", "read_file", {"path": "big.txt"})
    transcript.finish_tool_call("c1", "read_file", big, None, 12.0)
    assert "line 01999" not in transcript.toPlainText()  # collapsed: a one-line preview
    transcript.anchorClicked.emit(QUrl(transcript.app_link("toggle", "c1", "details")))
    shown = transcript.toPlainText()
    assert "line 00000" in shown and "line 01999" not in shown
    assert f"show all {len(big):,} characters" in shown
    assert len(shown) < RESULT_PREVIEW_CHARS + 500
    transcript.anchorClicked.emit(QUrl(transcript.app_link("toggle", "c1", "full")))
    assert "line 01999" in transcript.toPlainText()  # the full text on request

    binary = "".join(chr(i % 32) for i in range(5000))
    transcript.add_tool_call("c2", "read_file", {"path": "blob"})
    transcript.finish_tool_call("c2", "read_file", binary, None, 1.0)
    transcript.anchorClicked.emit(QUrl(transcript.app_link("toggle", "c2", "details")))
    assert "[binary data, 5,000 characters, not shown]" in transcript.toPlainText()
    image = "data:image/png;base64," + "A" * 4000
    transcript.add_tool_call("c3", "screenshot", {})
    transcript.finish_tool_call("c3", "screenshot", image, None, 1.0)
    transcript.anchorClicked.emit(QUrl(transcript.app_link("toggle", "c3", "details")))
    assert "[image/png data, 4,022 characters, not shown]" in transcript.toPlainText()
