"""Preparing attachments: images (turned, stripped, scaled), text, PDFs, limits, bad files."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from desktop_agent.app.attachments import (
    AttachmentError,
    AttachmentLimits,
    prepare,
    prepare_file,
)
from desktop_agent.storage import Store
from tests.support.attach_files import jpeg_with_gps, pdf, png


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_photo_is_turned_upright_stripped_and_scaled() -> None:
    original = jpeg_with_gps(3000, 1000, orientation=6)
    assert b"SecretCam" in original
    a = prepare("dir/../photo.jpg", original)
    assert a.name == "photo.jpg" and a.kind == "image" and a.mime == "image/jpeg"
    image = opened(a.data)
    assert image.size == (683, 2048) == (a.width, a.height)
    assert dict(image.getexif()) == {}
    assert b"SecretCam" not in a.data
    assert "scaled from 3000×1000" in a.note


def test_the_long_side_is_configurable() -> None:
    a = prepare("p.png", png(1000, 500), AttachmentLimits(image_side=256))
    assert opened(a.data).size == (256, 128) and a.mime == "image/png"


def test_a_small_clean_image_is_sent_as_it_is() -> None:
    data = png(40, 30)
    assert prepare("p.png", data).data == data


def test_a_small_image_with_gps_is_still_stripped() -> None:
    a = prepare("p.jpg", jpeg_with_gps(300, 200, orientation=1))
    assert opened(a.data).size == (300, 200)
    assert b"SecretCam" not in a.data and dict(opened(a.data).getexif()) == {}


def test_png_text_chunks_are_dropped() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "52.5N 13.4E")
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "PNG", pnginfo=info)
    a = prepare("p.png", out.getvalue())
    assert b"52.5N" not in a.data and "Location" not in opened(a.data).info


def test_jpeg_comments_and_xmp_are_dropped() -> None:
    out = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">Berlin 52.5N</x:xmpmeta>'
    Image.new("RGB", (3000, 100)).save(out, "JPEG", comment=b"shot at home", xmp=xmp)
    assert b"shot at home" in out.getvalue() and b"52.5N" in out.getvalue()
    a = prepare("c.jpg", out.getvalue())
    assert b"shot at home" not in a.data and b"52.5N" not in a.data


def test_gif_and_webp_first_frame() -> None:
    frames = [Image.new("RGB", (30, 20), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    a = prepare("anim.gif", out.getvalue())
    assert a.mime == "image/png" and "first frame" in a.note
    assert opened(a.data).convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    out = io.BytesIO()
    Image.new("RGB", (50, 40), (9, 9, 9)).save(out, "WEBP")
    assert prepare("w.webp", out.getvalue()).mime == "image/webp"


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")  # 144 MP, a few KB of file
    with pytest.raises(AttachmentError, match=r"bomb\.png is 12000×12000 pixels"):
        prepare("bomb.png", out.getvalue())


@pytest.mark.parametrize(
    ("name", "data", "match"),
    [
        ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png is damaged"),
        ("cut.jpg", jpeg_with_gps(200, 200)[:300], "cut.jpg is not a readable image"),
        ("bad.pdf", b"%PDF-1.4\n1 0 obj garbage", "bad.pdf is not a readable PDF"),
        ("tool.exe", bytes(range(256)) * 8, "tool.exe looks like a binary file"),
        ("pic.bmp", b"BM" + b"\x00" * 60, "pic.bmp is not an image this app can read"),
    ],
)
def test_bad_files_are_clear_errors_naming_the_file(name: str, data: bytes, match: str) -> None:
    with pytest.raises(AttachmentError, match=match):
        prepare(name, data)


def test_text_is_cut_at_the_limit_with_a_note() -> None:
    a = prepare("big.log", b"0123456789" * 100, AttachmentLimits(text_chars=250))
    text = a.data.decode()
    assert "0123456789" * 25 in text
    assert "the last 750 characters were cut" in text
    assert "cut after 250 characters" in a.note


def test_a_pdf_without_text_layer_says_so() -> None:
    a = prepare("scan.pdf", pdf([None, None]))
    assert "scan.pdf has no text layer" in a.data.decode()
    assert "no text layer" in a.note


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 5000)
    with pytest.raises(AttachmentError, match=r"big\.txt is 4\.9 KB; files up to 1\.0 KB"):
        prepare_file(big, AttachmentLimits(file_bytes=1024))
    with pytest.raises(AttachmentError, match=r"missing\.txt cannot be read"):
        prepare_file(tmp_path / "missing.txt")


def test_an_image_too_big_even_when_scaled_is_refused() -> None:
    with pytest.raises(AttachmentError, match=r"n\.png is still"):
        prepare("n.png", png(300, 300), AttachmentLimits(image_bytes=100, image_side=200))


def test_limits_from_settings_ignore_nonsense() -> None:
    limits = AttachmentLimits.from_settings(
        {"attachments": {"image_side": 1024, "files": -3, "text_chars": "many", "x": 1}}
    )
    assert limits.image_side == 1024 and limits.files == AttachmentLimits().files


def test_migration_3_to_4_keeps_data_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    store = Store(path, session=False)
    conv = store.create_conversation(title="Before attachments")
    store.add_message(conv, "user", "hello")
    store.close()
    db = sqlite3.connect(path)  # make it a version-3 database, as the schema before attachments
    db.executescript(
        "DROP TABLE model_requests; ALTER TABLE conversations DROP COLUMN context_settings;"
        "DROP TABLE message_attachments; DROP TABLE blobs; PRAGMA user_version = 3;"
    )
    db.close()
    store = Store(path, session=False)
    assert store.version == 5
    assert [m.content for m in store.path(conv)] == ["hello"]
    backup = sqlite3.connect(tmp_path / "history.db.v3.bak")
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 3
    assert backup.execute("SELECT content FROM messages").fetchall() == [("hello",)]
    backup.close()
    digest = store.put_blob(b"data", "text/plain")
    [message] = store.path(conv)
    store.link_attachments(message.id, [{"sha256": digest, "name": "d.txt", "kind": "document"}])
    assert store.attachments_of([message.id])[message.id][0]["size"] == 4
    store.close()
