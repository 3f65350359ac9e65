"""An imported export's images in the window: the import dialog keeps them, the
imported conversation shows their thumbnails through the normal path, and when the
conversation goes on the next request carries them (real openai client, scripted
server)."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.import_dialog import ImportDialog
from desktop_agent.gui.window import MainWindow
from desktop_agent.storage import Store
from tests.gui.conftest import Gui
from tests.gui.test_window import make_window, type_and_send, wait_idle
from tests.support.import_files import chatgpt_with_files, chatgpt_zip
from tests.support.scripted_server import Reply, ScriptedServer


@pytest.fixture
def window(gui: Gui, config: ConnectionConfig, tmp_path: Path) -> Iterator[MainWindow]:
    w = make_window(gui, config, history=lambda: Store(tmp_path / "history.db"))
    yield w
    if not w.closed.is_set():
        gui.run(w.shutdown())


def test_an_imported_image_shows_and_goes_to_the_model(
    gui: Gui, window: MainWindow, http_server: ScriptedServer, tmp_path: Path
) -> None:
    from desktop_agent.gui import transcript_thumbnails

    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    dialog = gui.call(window.open_import, archive)
    assert isinstance(dialog, ImportDialog)
    gui.until(lambda: dialog.result_summary is not None, "the import to finish")
    text = dialog.summary.toPlainText()
    assert "2 images or files kept as attachments" in text
    assert "file_00000000gone" in text  # the missing one, named
    [(conversation, _title)] = dialog.result_summary.imported
    gui.call(dialog.close)

    transcript_thumbnails._RECENT.clear()  # (only the store has the bytes)
    gui.call(window.open_conversation, conversation)
    t = window.transcript
    [entry] = [e for e in t.entries if e.kind == "user"]
    assert entry.attachments is not None
    names = [a["name"] for a in entry.attachments]
    assert names == ["holiday.jpg", "report.pdf"]
    sha = entry.attachments[0]["sha256"]
    url = QUrl(f"{t.links.scheme}:thumb/{sha}")
    thumb = t.document().resource(QTextDocument.ResourceType.ImageResource, url)
    assert isinstance(thumb, QImage) and (thumb.width(), thumb.height()) == (40, 120)  # upright
    assert f'src="{t.links.scheme}:thumb/{sha}"' in t.toHtml()
    assert "[file: report.pdf]" in t.toPlainText()
    assert t.refused_resources == []

    http_server.add(Reply(text="A red and blue picture."))
    type_and_send(gui, window, "Describe the first picture again")
    wait_idle(gui, window)
    messages = http_server.requests[-1].body["messages"]
    first_user = next(m for m in messages if m["role"] == "user")
    assert isinstance(first_user["content"], list)
    parts: list[dict[str, Any]] = first_user["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    [image] = images
    data = base64.b64decode(image["image_url"]["url"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (683, 2048) and not picture.getexif()
    texts = " ".join(str(p.get("text")) for p in parts if p["type"] == "text")
    assert "What is in these pictures?" in texts and "Quarterly figures: 42 units." in texts
    assert "attachment" not in str(parts)  # (the app's reference stays off the wire)
    assert messages[-1] == {"role": "user", "content": "Describe the first picture again"}
