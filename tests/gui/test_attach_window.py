"""Attaching in the window: the paperclip / Ctrl+U dialog, paste (image data, copied
files), drop onto the window, chips removable by keyboard, the request body, and
models that cannot see. Real window offscreen, real openai client, scripted server."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
from PySide6.QtCore import Qt as QtNS
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.window import MainWindow
from desktop_agent.testing import ScriptedModel
from tests.gui.conftest import Gui
from tests.gui.test_window import make_window, type_and_send, wait_idle
from tests.support.attach_files import jpeg_with_gps, pdf
from tests.support.scripted_server import Fail, Reply, ScriptedServer

Qt: Any = QtNS


def ready(gui: Gui, window: MainWindow, count: int) -> None:
    gui.run(window.attach.wait_ready())
    tray = window.attach.tray
    assert len(tray.chips) == count, [c.name for c in tray.chips]
    assert not tray.preparing


def sent_parts(server: ScriptedServer) -> list[dict[str, Any]]:
    content = server.requests[-1].body["messages"][-1]["content"]
    assert isinstance(content, list), content
    return content


def decoded(part: dict[str, Any]) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(part["image_url"]["url"].split(",", 1)[1])))


def test_paste_image_data_then_send(
    gui: Gui, window: MainWindow, http_server: ScriptedServer
) -> None:
    image = QImage(3000, 1500, QImage.Format.Format_RGB32)
    image.fill(QColor(10, 200, 30))
    mime = QMimeData()
    mime.setImageData(image)
    QGuiApplication.clipboard().setMimeData(mime)
    gui.call(window.composer.paste)
    ready(gui, window, 1)
    chip = window.attach.tray.chips[0]
    assert chip.name == "pasted image.png"
    assert not chip.thumb.pixmap().isNull()  # a thumbnail
    assert "2048×1024" in chip.detail.text()
    assert window.composer.toPlainText() == ""  # the image did not go in as text
    http_server.add(Reply("Green."))
    type_and_send(gui, window, "Colour?")
    wait_idle(gui, window)
    parts = sent_parts(http_server)
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert decoded(parts[1]).size == (2048, 1024)
    assert window.attach.tray.chips == []  # sent: the tray is empty again


def test_paste_copied_files(
    gui: Gui, window: MainWindow, http_server: ScriptedServer, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("remember the milk")
    report = tmp_path / "report.pdf"
    report.write_bytes(pdf(["Sales doubled"]))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(text)), QUrl.fromLocalFile(str(report))])
    QGuiApplication.clipboard().setMimeData(mime)
    gui.call(window.composer.paste)
    ready(gui, window, 2)
    assert [c.name for c in window.attach.tray.chips] == ["notes.txt", "report.pdf"]
    assert window.composer.toPlainText() == ""  # not the file:// URLs as text
    http_server.add(Reply("ok"))
    type_and_send(gui, window, "Read")
    wait_idle(gui, window)
    parts = sent_parts(http_server)
    assert parts[1]["text"] == "File: notes.txt\n```\nremember the milk\n```"
    assert "Sales doubled" in parts[2]["text"]


def drop(gui: Gui, target: Any, mime: QMimeData) -> bool:
    async def act() -> bool:
        enter = QDragEnterEvent(
            QPoint(20, 20),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(target, enter)
        event = QDropEvent(
            QPointF(20, 20),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(target, event)
        return enter.isAccepted() and event.isAccepted()

    return gui.run(act())


def test_drop_files_on_the_window_and_remove_one_by_keyboard(
    gui: Gui, window: MainWindow, http_server: ScriptedServer, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_gps(1200, 800, orientation=1))
    other = tmp_path / "other.md"
    other.write_text("# not wanted")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo)), QUrl.fromLocalFile(str(other))])
    assert drop(gui, window, mime)
    ready(gui, window, 2)
    chip = window.attach.tray.chips[1]
    assert chip.remove.accessibleName() == "Remove other.md"

    async def remove_by_keyboard() -> None:
        chip.remove.setFocus()
        gui.qtbot.keyClick(chip.remove, Qt.Key.Key_Delete)

    gui.run(remove_by_keyboard())
    assert [c.name for c in window.attach.tray.chips] == ["photo.jpg"]
    http_server.add(Reply("A photo."))
    type_and_send(gui, window, "")  # no text: the attachment alone may be sent
    wait_idle(gui, window)
    parts = sent_parts(http_server)
    assert [p["type"] for p in parts] == ["image_url"]
    assert b"SecretCam" not in base64.b64decode(parts[0]["image_url"]["url"].split(",", 1)[1])


def test_a_drop_onto_the_composer_attaches_rather_than_inserting_urls(
    gui: Gui, window: MainWindow, tmp_path: Path
) -> None:
    f = tmp_path / "code.py"
    f.write_text("print(1)\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(f))])
    gui.call(window.composer.insertFromMimeData, mime)  # what a drop on it calls
    ready(gui, window, 1)
    assert window.composer.toPlainText() == ""


def test_ctrl_u_opens_a_dialog_for_several_files(
    gui: Gui, window: MainWindow, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("A")
    b.write_text("B")
    assert window.pane.attach_button.accessibleName() == "Attach files"
    assert "Ctrl+U" in window.pane.attach_button.toolTip()

    async def press() -> None:
        window.composer.setFocus()
        gui.qtbot.keyClick(window.composer, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)

    gui.run(press())
    dialog = window.attach.dialog
    assert dialog is not None and dialog.isVisible()
    gui.call(dialog.filesSelected.emit, [str(a), str(b)])
    gui.call(dialog.close)
    ready(gui, window, 2)


def test_a_corrupt_file_is_an_error_naming_it_and_the_others_stay(
    gui: Gui, window: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    good = tmp_path / "fine.txt"
    good.write_text("fine")
    gui.call(window.attach.add_paths, [bad, good])
    ready(gui, window, 1)
    assert "broken.png is damaged" in window.transcript.toPlainText()


def test_a_model_without_vision_keeps_the_composer_and_offers_text_only(
    gui: Gui, tmp_path: Path
) -> None:
    blind = ScriptedModel(["Text seen."])
    blind.supports_images = False  # type: ignore[attr-defined]
    w = make_window(
        gui, ConnectionConfig(kind="openai", model="blind"), model_factory=lambda c: blind
    )
    try:
        photo = tmp_path / "p.png"
        photo.write_bytes(jpeg_with_gps(100, 100, orientation=1))
        note = tmp_path / "n.txt"
        note.write_text("a note")
        gui.call(w.attach.add_paths, [photo, note])
        ready(gui, w, 2)
        type_and_send(gui, w, "Describe")
        assert w.composer.toPlainText() == "Describe"  # nothing lost
        assert len(w.attach.tray.chips) == 2
        box = w.attach.vision_box
        assert isinstance(box, QMessageBox) and box.isVisible()
        assert "cannot see images" in box.text()
        assert blind.requests == []
        [send] = [b for b in box.buttons() if b.text() == "Send text only"]
        gui.call(send.click)
        wait_idle(gui, w)
        [request] = blind.requests
        content = request[-1]["content"]
        assert [p["type"] for p in content] == ["text", "text"]  # text + the document
        assert w.composer.toPlainText() == ""
    finally:
        gui.run(w.shutdown())


def test_an_endpoint_refusing_images_offers_to_resend_without_them(
    gui: Gui, window: MainWindow, http_server: ScriptedServer
) -> None:
    http_server.add(Fail(400, "This model does not support image input."), Reply("Fine."))
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    image.fill(QColor(1, 2, 3))
    gui.call(window.attach.add_image, image)
    ready(gui, window, 1)
    type_and_send(gui, window, "What is it?")
    wait_idle(gui, window)
    gui.until(lambda: getattr(window.attach, "vision_box", None) is not None, "the offer")
    box = window.attach.vision_box
    assert "does not take images" in box.text()
    [send] = [b for b in box.buttons() if b.text() == "Send text only"]
    gui.call(send.click)
    wait_idle(gui, window)
    gui.until(lambda: len(http_server.requests) == 2, "the resend")
    last = http_server.requests[-1].body["messages"][-1]
    assert last == {"role": "user", "content": "What is it?"}
    assert "Fine." in window.transcript.toPlainText()


def test_thumbnails_come_from_the_store_across_a_restart_and_open_full_size(
    gui: Gui, tmp_path: Path
) -> None:
    from PySide6.QtGui import QTextDocument

    from desktop_agent.gui import transcript_thumbnails
    from desktop_agent.gui.image_viewer import ImageViewer
    from desktop_agent.storage import Store
    from tests.gui.test_history_window import Models, open_window

    db = tmp_path / "history.db"
    photo = tmp_path / "wide.jpg"
    photo.write_bytes(jpeg_with_gps(1600, 400, orientation=1))
    w = open_window(gui, db, Models(default=["A wide picture.", "Still wide."]))
    try:
        gui.call(w.attach.add_paths, [photo])
        ready(gui, w, 1)
        gui.call(w.send, "Look")
        gui.until(lambda: not w.busy, "the run")
        conversation = w.tenant_id
        [entry] = [e for e in w.transcript.entries if e.kind == "user"]
        assert entry.attachments and entry.attachments[0]["name"] == "wide.jpg"
        sha = entry.attachments[0]["sha256"]
    finally:
        gui.run(w.shutdown())
    transcript_thumbnails._RECENT.clear()  # only the store can have it now
    transcript_thumbnails._THUMBS.clear()

    again = open_window(gui, db, Models())
    try:
        gui.call(again.open_conversation, conversation)
        t = again.transcript
        url = QUrl(f"{t.links.scheme}:thumb/{sha}")
        thumb = t.document().resource(QTextDocument.ResourceType.ImageResource, url)
        assert isinstance(thumb, QImage) and (thumb.width(), thumb.height()) == (120, 30)
        assert f'src="{t.links.scheme}:thumb/{sha}"' in t.toHtml()
        assert t.refused_resources == []  # nothing was loaded: it was added by the app
        # Another transcript's scheme (what a model would have to guess) names nothing.
        other = QUrl(f"da-{'0' * 24}:thumb/{sha}")
        assert t.document().resource(QTextDocument.ResourceType.ImageResource, other) is None
        gui.call(t.anchorClicked.emit, QUrl(t.links.make("view", sha, "wide.jpg")))
        viewer = again.views.current.viewer
        assert isinstance(viewer, ImageViewer) and viewer.isVisible()
        assert (viewer.image.width(), viewer.image.height()) == (1600, 400)  # full size
        gui.call(viewer.close)
    finally:
        gui.run(again.shutdown())
    store = Store(db, session=False)
    assert store.blob(sha) is not None
    store.close()


def test_too_much_for_one_message_keeps_text_and_chips(
    gui: Gui, window: MainWindow, http_server: ScriptedServer, tmp_path: Path
) -> None:
    import json
    import os

    home = Path(os.environ["DESKTOP_AGENT_HOME"])
    (home / "settings.json").write_text(json.dumps({"attachments": {"message_bytes": 1500}}))
    files = []
    for name in ("a.txt", "b.txt"):
        f = tmp_path / name
        f.write_text("x" * 1000)
        files.append(f)
    gui.call(window.attach.add_paths, files)
    ready(gui, window, 2)
    type_and_send(gui, window, "Both")
    assert window.composer.toPlainText() == "Both"
    assert [c.name for c in window.attach.tray.chips] == ["a.txt", "b.txt"]
    assert "one message takes up to" in window.transcript.toPlainText()
    assert http_server.requests == []
    assert not window.busy
