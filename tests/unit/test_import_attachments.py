"""Images and files of an export kept as attachments of their user message: prepared
like the composer's (upright, metadata stripped, scaled; PDF and extracted text as
documents), missing and refused ones listed, nothing stored twice."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from desktop_agent.app.attachments import AttachmentLimits, for_import
from desktop_agent.storage import Store
from desktop_agent.storage.importers import Limits, import_file
from tests.support.exports import write_json
from tests.support.import_files import (
    chatgpt_with_files,
    chatgpt_zip,
    claude_with_attachment,
    openwebui_with_image,
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "history.db")
    yield s  # type: ignore[misc]
    s.close()


def blob_count(store: Store) -> int:
    return int(store._db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0])


def link_count(store: Store) -> int:
    return int(store._db.execute("SELECT COUNT(*) FROM message_attachments").fetchone()[0])


def test_chatgpt_zip_images_and_pdf_become_attachments_of_the_user_message(
    store: Store, tmp_path: Path
) -> None:
    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    summary = import_file(store, archive, prepare=for_import())
    [(conv, _title)] = summary.imported
    assert summary.files_kept == ["holiday.jpg", "report.pdf"]
    # The sediment pointer (with its query string) is not in the archive: missing.
    assert summary.files_missing == ["file_00000000gone"]
    assert summary.files_in_answers == ["file-Gen1-3f2a.webp"]  # DALL·E: listed, not kept
    assert summary.files_refused == []
    user, answer, _call, tool = store.path(conv)  # (a call made up above the result)
    assert user.role == "user" and tool.role == "tool"
    assert user.content == (
        "What is in these pictures? And summarise the report.\n\n"
        "[file not in the export: file_00000000gone]"
    )
    assert tool.content == "[image not imported: file-Gen1-3f2a.webp]"
    refs = store.attachments_of([user.id, answer.id, tool.id])
    assert list(refs) == [user.id]
    image, document = refs[user.id]
    assert (image["name"], image["kind"], image["mime"]) == ("holiday.jpg", "image", "image/jpeg")
    assert (document["name"], document["kind"]) == ("report.pdf", "document")
    # Prepared as the composer prepares: turned upright, scaled to 2048, no EXIF/GPS.
    data, _mime = store.blob(image["sha256"])  # type: ignore[misc]
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (683, 2048)
        assert not picture.getexif()
    assert b"SecretCam" not in data
    text, _mime = store.blob(document["sha256"])  # type: ignore[misc]
    assert b"Quarterly figures: 42 units." in text and text.startswith(b"File: report.pdf")
    lines = "\n".join(summary.lines())
    assert "2 images or files kept as attachments" in lines
    assert "1 image or file missing" in lines and "file_00000000gone" in lines


def test_reimport_and_a_second_export_do_not_store_a_blob_twice(
    store: Store, tmp_path: Path
) -> None:
    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    import_file(store, archive, prepare=for_import())
    assert (blob_count(store), link_count(store)) == (2, 2)
    prepared: list[str] = []
    preparer = for_import()

    def counting(name: str, data: bytes, extracted: bool) -> object:
        prepared.append(name)
        return preparer(name, data, extracted)

    again = import_file(store, archive, prepare=counting)  # type: ignore[arg-type]
    assert len(again.already_present) == 1 and again.files_kept == []
    assert prepared == []  # (found already present before its files were prepared)
    assert (blob_count(store), link_count(store)) == (2, 2)
    # A later export: the same conversation plus another one with the same files.
    later = chatgpt_zip(
        tmp_path / "later.zip", [chatgpt_with_files(), chatgpt_with_files("conv-other")]
    )
    summary = import_file(store, later, prepare=for_import())
    assert len(summary.imported) == 1 and len(summary.already_present) == 1
    assert (blob_count(store), link_count(store)) == (2, 4)  # linked twice, stored once


def test_a_bomb_image_is_refused_by_name_and_the_import_goes_on(
    store: Store, tmp_path: Path
) -> None:
    archive = chatgpt_zip(
        tmp_path / "bomb.zip",
        [chatgpt_with_files("conv-bomb", bomb=True), chatgpt_with_files("conv-next")],
        bomb=True,
    )
    summary = import_file(store, archive, prepare=for_import())
    assert len(summary.imported) == 2  # the conversation after it is imported too
    [(name, why)] = summary.files_refused
    assert name == "huge.png" and "huge.png is 12000×12000 pixels" in why
    assert any("huge.png is 12000×12000 pixels" in line for line in summary.lines())
    conv = next(c for c, _t in summary.imported)
    bomb_message = store.path(conv)[-1]
    assert bomb_message.content == "[file not imported: huge.png]"
    assert store.attachments_of([bomb_message.id]) == {}
    assert len(summary.files_kept) == 4  # both conversations' image and PDF


def test_the_per_file_size_limit_comes_from_the_attachment_limits(
    store: Store, tmp_path: Path
) -> None:
    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    size = zipfile.ZipFile(archive).getinfo("file-Pic123-holiday.jpg").file_size
    attach = AttachmentLimits(file_bytes=size - 1)
    summary = import_file(
        store,
        archive,
        limits=Limits(attachment_bytes=attach.file_bytes),
        prepare=for_import(attach),
    )
    assert summary.files_kept == ["report.pdf"]
    [(name, why)] = summary.files_refused
    assert name == "holiday.jpg" and "file-Pic123-holiday.jpg" in why and "limit" in why
    # The preparer checks the limit too, when the archive's limit is looser.
    store.delete(summary.imported[0][0])
    store.purge_deleted(blob_grace=0)
    summary = import_file(store, archive, prepare=for_import(attach))
    [(name, why)] = summary.files_refused
    assert name == "holiday.jpg" and "files up to" in why


def test_claude_extracted_content_is_a_document_attachment(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "conversations.json", [claude_with_attachment()])
    summary = import_file(store, path, prepare=for_import())
    [(conv, _t)] = summary.imported
    assert summary.files_kept == ["notes.md"] and summary.files_missing == ["whiteboard.png"]
    user, _answer = store.path(conv)
    assert user.content == "Summarise my notes.\n\n[file not in the export: whiteboard.png]"
    [ref] = store.attachments_of([user.id])[user.id]
    assert (ref["name"], ref["kind"]) == ("notes.md", "document")
    data, _mime = store.blob(ref["sha256"])  # type: ignore[misc]
    assert data.decode() == "File: notes.md\n```\n# Notes\nBuy milk. Call Ana.\n```"
    # What the model gets when the conversation goes on: the text plus the document.
    first = store.model_messages(conv)[0]
    assert isinstance(first["content"], list)
    assert any("Buy milk" in str(p.get("text")) for p in first["content"])


def test_without_a_preparer_the_extracted_text_stays_in_the_message(
    store: Store, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "conversations.json", [claude_with_attachment()])
    summary = import_file(store, path)
    [(conv, _t)] = summary.imported
    assert summary.files_not_kept == ["notes.md"] and summary.files_kept == []
    user = store.path(conv)[0]
    assert "[notes.md]\n# Notes\nBuy milk. Call Ana." in user.content
    assert blob_count(store) == 0


def test_open_webui_data_url_images_are_kept_and_taken_out_of_the_text(
    store: Store, tmp_path: Path
) -> None:
    path = write_json(tmp_path / "chats.json", [openwebui_with_image()])
    summary = import_file(store, path, prepare=for_import())
    [(conv, _t)] = summary.imported
    assert summary.files_kept == ["image.png", "chart"]
    assert summary.files_missing == ["slides.pptx"]  # an upload: on the server only
    first, _answer, second = store.path(conv)
    assert first.content == "What colour is this?"
    assert second.content == "And this one?\n\n[file not in the export: slides.pptx]"
    assert "base64" not in second.content
    refs = store.attachments_of([first.id, second.id])
    [green] = refs[first.id]
    [red] = refs[second.id]
    assert (green["kind"], red["kind"], red["name"]) == ("image", "image", "chart")
    data, _mime = store.blob(green["sha256"])  # type: ignore[misc]
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.size == (300, 200) and picture.convert("RGB").getpixel((5, 5)) == (0, 200, 0)


def test_a_damaged_embedded_image_is_refused_not_fatal(store: Store, tmp_path: Path) -> None:
    chat = openwebui_with_image()
    chat["chat"]["history"]["messages"]["u1"]["files"] = [
        {"type": "image", "url": "data:image/png;base64,iVBORw0KGgoAAAAA"}
    ]
    summary = import_file(store, write_json(tmp_path / "c.json", [chat]), prepare=for_import())
    assert len(summary.imported) == 1
    [(name, why)] = summary.files_refused
    assert name == "image.png" and "image.png" in why
    assert summary.files_kept == ["chart"]


def test_a_longer_id_in_the_archive_is_not_taken_for_the_one_referenced(
    store: Store, tmp_path: Path
) -> None:
    archive = tmp_path / "export.zip"
    conv = chatgpt_with_files()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("conversations.json", json.dumps([conv]))
        z.writestr("file-Pic1234-other.jpg", b"not this one")  # same start, another id
    summary = import_file(store, archive, prepare=for_import())
    assert "holiday.jpg" in summary.files_missing and summary.files_kept == []


def test_our_own_json_brings_its_attachments_back_byte_for_byte(
    store: Store, tmp_path: Path
) -> None:
    from desktop_agent.storage.export import to_json

    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    [(conv, _t)] = import_file(store, archive, prepare=for_import()).imported
    exported = to_json(store, conv)
    other = Store(tmp_path / "other.db")
    try:
        # (no preparer: our own attachments are stored as they are, not prepared again)
        summary = import_file(other, write_json(tmp_path / "ours.json", exported))
        [(copy, _t)] = summary.imported
        assert summary.files_kept == ["holiday.jpg", "report.pdf"]
        mine, theirs = store.path(conv)[0], other.path(copy)[0]
        assert mine.content == theirs.content  # (no marker added for kept files)
        before = store.attachments_of([mine.id])[mine.id]
        after = other.attachments_of([theirs.id])[theirs.id]
        assert before == after
        assert [other.blob(r["sha256"]) for r in after] == [store.blob(r["sha256"]) for r in before]
        # export --all's items carry the same "attachments" map.
        item = {k: exported[k] for k in ("conversation", "messages", "attachments")}
        item["conversation"] = {**item["conversation"], "id": "another-id"}
        wrapped = {"format": "desktop-agent.conversations", "version": 1, "conversations": [item]}
        again = import_file(other, write_json(tmp_path / "all.json", wrapped))
        assert len(again.imported) == 1 and again.files_kept == ["holiday.jpg", "report.pdf"]
    finally:
        other.close()


def test_a_forged_attachment_in_our_json_skips_that_conversation(
    store: Store, tmp_path: Path
) -> None:
    import base64

    from desktop_agent.storage.export import to_json

    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    [(conv, _t)] = import_file(store, archive, prepare=for_import()).imported
    exported = to_json(store, conv)
    digest = next(iter(exported["attachments"]))
    exported["attachments"][digest]["data"] = base64.b64encode(b"something else").decode()
    exported["conversation"]["id"] = "forged"
    good = to_json(store, conv)
    good["conversation"]["id"] = "good"
    wrapped = {
        "format": "desktop-agent.conversations",
        "version": 1,
        "conversations": [exported, good],
    }
    other = Store(tmp_path / "other.db")
    try:
        summary = import_file(other, write_json(tmp_path / "all.json", wrapped))
        [(_label, why)] = summary.skipped
        assert "does not match its sha256" in why
        assert len(summary.imported) == 1
        assert blob_count(other) == 2  # the good one's, nothing of the forged one
    finally:
        other.close()


def test_what_one_conversation_holds_in_memory_is_bounded(store: Store, tmp_path: Path) -> None:
    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    summary = import_file(
        store,
        archive,
        limits=Limits(
            conversation_attachment_bytes=10 * 1024
        ),  # the PDF's text fits, not the photo
        prepare=for_import(),
    )
    assert summary.files_kept == ["report.pdf"]
    [(name, why)] = summary.files_refused
    assert name == "holiday.jpg" and "more than 10 KB" in why


def test_an_embedded_pdf_is_a_document_named_as_a_file(store: Store, tmp_path: Path) -> None:
    from tests.support.attach_files import pdf
    from tests.support.import_files import data_url

    chat = openwebui_with_image()
    chat["chat"]["history"]["messages"]["u1"]["files"] = [
        {"type": "file", "url": data_url(pdf(["Minutes of the meeting."]), "application/pdf")}
    ]
    summary = import_file(store, write_json(tmp_path / "c.json", [chat]), prepare=for_import())
    assert summary.files_kept == ["file.pdf", "chart"]
    [(conv, _t)] = summary.imported
    first = store.path(conv)[0]
    [ref] = store.attachments_of([first.id])[first.id]
    assert ref["kind"] == "document"
    assert b"Minutes of the meeting." in store.blob(ref["sha256"])[0]  # type: ignore[index]


def test_one_message_keeps_what_one_message_may_send(store: Store, tmp_path: Path) -> None:
    archive = chatgpt_zip(tmp_path / "export.zip", [chatgpt_with_files()])
    summary = import_file(store, archive, limits=Limits(message_files=1), prepare=for_import())
    assert summary.files_kept == ["holiday.jpg"]
    assert summary.files_refused == [
        ("report.pdf", "report.pdf: one message keeps up to 1 attachments")
    ]
    archive = chatgpt_zip(tmp_path / "again.zip", [chatgpt_with_files("conv-2")])
    summary = import_file(
        store, archive, limits=Limits(message_bytes=20 * 1024), prepare=for_import()
    )
    assert summary.files_kept == ["report.pdf"]  # the photo alone is over 20 KB
    [(name, why)] = summary.files_refused
    assert name == "holiday.jpg" and "up to 20 KB of attachments" in why
