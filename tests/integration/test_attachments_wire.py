"""Attachments reach the model as content parts: the real openai client against the
scripted server, through a real Session with its SQLite history."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from desktop_agent.app.attachments import AttachmentError, AttachmentLimits, prepare
from desktop_agent.app.session import Session
from desktop_agent.engine.model import VisionUnsupportedError
from desktop_agent.storage.export import from_json, to_json, to_markdown
from tests.support.attach_files import jpeg_with_gps, pdf, png
from tests.support.scripted_server import Fail, Reply, ScriptedServer


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return tmp_path


async def open_session(server: ScriptedServer) -> Session:
    session = Session.open(base_url=server.base_url, model="scripted-large", use_mcp=False)
    await session.start(start_mcp=False)
    return session


def image_of(part: dict) -> Image.Image:
    url = part["image_url"]["url"]
    head, data = url.split(",", 1)
    assert head.startswith("data:image/") and head.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(data)))


async def test_an_image_goes_upright_small_and_without_gps() -> None:
    async with ScriptedServer() as server:
        server.add(Reply("A red picture."))
        session = await open_session(server)
        try:
            photo = prepare("holiday.jpg", jpeg_with_gps(3000, 1000, orientation=6))
            handle = session.conversations.send("c-1", "What is this?", [photo])
            await handle.wait()
        finally:
            await session.aclose()
    [request] = server.requests
    user = request.body["messages"][-1]
    assert user["role"] == "user"
    text, image = user["content"]
    assert text == {"type": "text", "text": "What is this?"}
    assert set(image) == {"type", "image_url"}  # the app's "attachment" key is not sent
    seen = image_of(image)
    # Orientation 6 turned the 3000x1000 picture upright, then the long side became 2048.
    assert seen.size == (683, 2048)
    exif = seen.getexif()
    assert 0x8825 not in exif and 0x010F not in exif and "exif" not in seen.info
    assert b"SecretCam" not in base64.b64decode(image["image_url"]["url"].split(",", 1)[1])


async def test_text_pdf_and_image_together_in_order() -> None:
    # Not UTF-8: a Windows-1252 letter (charset-normalizer needs a few lines to be sure).
    letter = (
        "Liebe Grüße aus Köln! Das Café am Dom hat wieder geöffnet, die Straßen sind voll. "
        "Nächste Woche fahren wir nach Zürich und München; ich schreibe dir von dort.\n"
    ) * 4
    latin = letter.encode("cp1252")
    files = [
        prepare("notes.txt", latin),
        prepare("report.pdf", pdf(["Quarterly revenue rose", None])),
        prepare("dot.png", png()),
    ]
    async with ScriptedServer() as server:
        server.add(Reply("Read them."))
        session = await open_session(server)
        try:
            await session.conversations.send("c-2", "Summarise", files).wait()
        finally:
            await session.aclose()
    parts = server.requests[0].body["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "text", "text", "image_url"]
    assert parts[1]["text"].startswith("File: notes.txt\n")
    assert letter.strip() in parts[1]["text"]  # encoding detected
    assert parts[2]["text"].startswith("File: report.pdf\n")
    assert "--- page 1 ---\nQuarterly revenue rose" in parts[2]["text"]
    assert "--- page 2 ---\n[no text layer" in parts[2]["text"]
    assert image_of(parts[3]).size == (64, 48)


async def test_attachments_survive_a_restart_and_go_again(home: Path) -> None:
    photo = prepare("p.png", png(32, 32))
    async with ScriptedServer() as server:
        server.add(Reply("First."), Reply("Second."))
        session = await open_session(server)
        try:
            await session.conversations.send("c-3", "Look", [photo, photo]).wait()
        finally:
            await session.aclose()
        session = await open_session(server)  # a new process, as far as the store knows
        try:
            await session.conversations.send("c-3", "And again?").wait()
            store = session.store
            assert store is not None
            blobs = store._db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]
            assert blobs == 1  # the same bytes twice: stored once
        finally:
            await session.aclose()
    first, second = (r.body["messages"] for r in server.requests)
    assert first[-1]["content"] == second[-3]["content"]  # the history still has the image
    assert [p["type"] for p in second[-3]["content"]] == ["text", "image_url", "image_url"]


async def test_export_import_round_trip_keeps_identical_bytes() -> None:
    photo = prepare("photo.jpg", jpeg_with_gps(800, 600, orientation=1))
    doc = prepare("a.py", b"print('hi')\n")
    async with ScriptedServer() as server:
        server.add(Reply("ok"))
        session = await open_session(server)
        try:
            await session.conversations.send("c-4", "files", [photo, doc]).wait()
            store = session.store
            assert store is not None
            exported = json.loads(json.dumps(to_json(store, "c-4")))
            markdown = to_markdown(store, "c-4")
            copy = from_json(store, exported)
            [original_user] = [m for m in store.path("c-4") if m.role == "user"]
            [copied_user] = [m for m in store.path(copy) if m.role == "user"]
            a = store.attachments_of([original_user.id])[original_user.id]
            b = store.attachments_of([copied_user.id])[copied_user.id]
            assert [(x["name"], x["sha256"]) for x in a] == [(x["name"], x["sha256"]) for x in b]
            for ref in b:
                assert store.blob(ref["sha256"]) == (
                    (photo.data, "image/jpeg")
                    if ref["name"] == "photo.jpg"
                    else (doc.data, "text/plain")
                )
            assert store.model_messages(copy)[-2] == store.model_messages("c-4")[-2]
        finally:
            await session.aclose()
    assert "`photo.jpg`" in markdown and "`a.py`" in markdown
    data = base64.b64decode(exported["attachments"][photo.sha256]["data"])
    assert data == photo.data


async def test_a_forged_attachment_is_refused_on_import() -> None:
    session = Session.open(base_url="http://127.0.0.1:9/v1", use_mcp=False)
    store = session.store
    assert store is not None
    conv = store.create_conversation()
    message = store.add_message(conv, "user", "x")
    digest = store.put_blob(b"real", "text/plain")
    store.link_attachments(message, [{"sha256": digest, "name": "r.txt", "kind": "document"}])
    exported = to_json(store, conv)
    exported["attachments"][digest]["data"] = base64.b64encode(b"forged").decode()
    from desktop_agent.storage.export import ConversationFormatError

    with pytest.raises(ConversationFormatError, match="does not match its sha256"):
        from_json(store, exported)
    assert len(store.conversations()) == 1  # nothing half-imported
    store.close()


async def test_deleted_conversations_free_their_attachments_when_purged() -> None:
    async with ScriptedServer() as server:
        server.add(Reply("ok"), Reply("ok"))
        session = await open_session(server)
        try:
            shared = prepare("shared.png", png(8, 8, (1, 2, 3)))
            only = prepare("only.png", png(8, 8, (4, 5, 6)))
            await session.conversations.send("c-a", "a", [shared, only]).wait()
            await session.conversations.send("c-b", "b", [shared]).wait()
            store = session.store
            assert store is not None
            session.conversations.delete("c-a")
            store.purge_deleted(blob_grace=60)  # inside the grace time: all kept
            assert store.blob(only.sha256) is not None
            store.purge_deleted(blob_grace=-1)
            assert store.blob(only.sha256) is None  # used only by the deleted one
            assert store.blob(shared.sha256) is not None  # still used by c-b
        finally:
            await session.aclose()


async def test_a_model_that_cannot_see_says_so_and_the_text_goes_alone() -> None:
    async with ScriptedServer() as server:
        server.add(
            Fail(400, "Invalid content type. image_url is only supported by certain models."),
            Reply("Text only, fine."),
        )
        session = await open_session(server)
        try:
            photo = prepare("p.png", png())
            note = prepare("n.txt", b"a note")
            handle = session.conversations.send("c-5", "Describe", [photo, note])
            state = await handle.wait()
            assert state.status.value == "failed"
            assert state.error is not None and "does not take images" in state.error
            text_only = session.conversations.send_without_images("c-5")
            assert text_only is not None
            assert (await text_only.wait()).status.value == "done"
            store = session.store
            assert store is not None
            shown = [m.content for m in store.path("c-5")]
            assert shown == ["Describe", "Text only, fine."]
            [user] = [m for m in store.path("c-5") if m.role == "user"]
            assert [a["name"] for a in store.attachments_of([user.id])[user.id]] == ["n.txt"]
            assert store.versions(store.path("c-5"))[user.id] == (2, 2)  # the refused one kept
        finally:
            await session.aclose()
    last = [m for m in server.requests[-1].body["messages"] if m["role"] != "system"]
    assert [m["role"] for m in last] == ["user"]  # the refused message is not sent again
    assert [p["type"] for p in last[0]["content"]] == ["text", "text"]
    assert last[0]["content"][1]["text"].startswith("File: n.txt")


async def test_a_model_known_to_be_blind_is_refused_before_sending() -> None:
    class Blind:
        model = "embedded"
        supports_images = False

    async with ScriptedServer() as server:
        session = await open_session(server)
        try:
            session.orchestrator.model = Blind()  # type: ignore[assignment]
            with pytest.raises(VisionUnsupportedError, match="cannot see images"):
                session.conversations.send("c-7", "Describe", [prepare("p.png", png())])
        finally:
            await session.aclose()
    assert server.requests == []


def test_limits_per_message() -> None:
    from desktop_agent.app.attachments import check_message

    a = prepare("a.txt", b"x" * 1000)
    with pytest.raises(AttachmentError, match="one message takes up to"):
        check_message([a, a], AttachmentLimits(message_bytes=1500))
    with pytest.raises(AttachmentError, match="up to 1 go with one message"):
        check_message([a, a], AttachmentLimits(files=1))
