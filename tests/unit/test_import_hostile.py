"""Bad and hostile import files: each gives a clear message, writes nothing half-done,
keeps memory bounded; and the schema migration that records import sources."""

from __future__ import annotations

import json
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from desktop_agent.storage import Store
from desktop_agent.storage.importers import ImportFormatError, Limits, import_file
from desktop_agent.storage.schema import SCHEMA_VERSION
from tests.support.exports import chatgpt_conversation, write_big_chatgpt, write_json

MB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "history.db")
    yield s  # type: ignore[misc]
    s.close()


def count(store: Store) -> tuple[int, int]:
    with store.batch() as db:
        return (
            db.execute("SELECT COUNT(*) FROM conversations").fetchone()[0],
            db.execute("SELECT COUNT(*) FROM messages").fetchone()[0],
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b'{"hello": "world"}', "not an export this version knows"),
        (b"[1, 2, 3]", "not an export this version knows"),
        (b'"just a string"', "neither a list nor an object"),
        (b"\x00\x01\x02 binary", "not valid JSON"),
        (b'[{"mapping": {"a": {"id": "a", "par', "the file ends in the middle of the JSON"),
        (b"[]", "the file has no conversations"),
    ],
)
def test_files_of_no_known_shape_are_refused(
    store: Store, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ImportFormatError, match=message):
        import_file(store, path)
    assert count(store) == (0, 0)


def test_a_truncated_file_keeps_the_whole_conversations_before_the_cut(
    store: Store, tmp_path: Path
) -> None:
    text = json.dumps([chatgpt_conversation("a", "Whole"), chatgpt_conversation("b", "Cut")])
    path = tmp_path / "conversations.json"
    path.write_text(text[: len(text) - 200])  # the second one loses its end
    summary = import_file(store, path)
    assert [t for _c, t in summary.imported] == ["Whole"]
    assert summary.error is not None and "ends in the middle of the JSON" in summary.error
    assert count(store) == (1, 9)  # the first conversation, all of it; nothing of the second
    # Importing the complete file later adds only what was missing.
    write_json(path, [chatgpt_conversation("a", "Whole"), chatgpt_conversation("b", "Cut")])
    again = import_file(store, path)
    assert [t for _c, t in again.imported] == ["Cut"] and len(again.already_present) == 1


def test_a_cycle_skips_that_conversation_only(store: Store, tmp_path: Path) -> None:
    looped = chatgpt_conversation("loop", "Looped")
    mapping = looped["mapping"]
    mapping["u1"]["parent"] = "a1"  # u1 -> a1 -> u1
    unknown = chatgpt_conversation("orphan", "Orphan")
    unknown["mapping"]["a1"]["parent"] = "nowhere"
    items = [looped, unknown, chatgpt_conversation("fine", "Fine")]
    summary = import_file(store, write_json(tmp_path / "c.json", items))
    assert [t for _c, t in summary.imported] == ["Fine"]
    reasons = dict(summary.skipped)
    assert "form a cycle" in reasons["Looped"] and "'u1'" in reasons["Looped"]
    assert "answers an unknown message" in reasons["Orphan"]
    assert count(store) == (1, 9)


def test_a_huge_single_conversation_is_refused_while_it_is_read(
    store: Store, tmp_path: Path
) -> None:
    big = chatgpt_conversation("huge", "Huge")
    big["mapping"]["a1"]["message"]["content"]["parts"] = ["x" * (3 * MB)]
    path = write_json(tmp_path / "c.json", [big])
    tracemalloc.start()
    try:
        with pytest.raises(ImportFormatError, match="larger than 1 MB of JSON"):
            import_file(store, path, limits=Limits(conversation_bytes=MB))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MB  # refused before the 3 MB message was held
    assert count(store) == (0, 0)
    # Same file, one small conversation first: that one is imported, then it stops.
    path = write_json(tmp_path / "c.json", [chatgpt_conversation("ok", "Small"), big])
    summary = import_file(store, path, limits=Limits(conversation_bytes=MB))
    assert [t for _c, t in summary.imported] == ["Small"]
    assert summary.error is not None and "larger than 1 MB" in summary.error


def test_memory_stays_bounded_on_a_big_export(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    size = write_big_chatgpt(path, conversations=200, target_bytes=12 * MB)
    assert size > 10 * MB
    tracemalloc.start()
    try:
        summary = import_file(store, path)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(summary.imported) == 200 and summary.error is None
    # One conversation (~60 KB) at a time: the peak does not grow with the file.
    assert peak < size / 10, f"peak {peak / MB:.1f} MB for a {size / MB:.1f} MB file"


def zip_with(path: Path, members: dict[str, bytes], level: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", level) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_zip_bombs_and_unsafe_names(store: Store, tmp_path: Path) -> None:
    # 40 MB of spaces inside a valid JSON array compresses ~1000:1.
    bomb = b"[" + b" " * (40 * MB) + b"]"
    with pytest.raises(ImportFormatError, match="zip bomb"):
        import_file(store, zip_with(tmp_path / "bomb.zip", {"conversations.json": bomb}))
    small = Limits(member_bytes=1000)
    good = json.dumps([chatgpt_conversation()]).encode()
    with pytest.raises(ImportFormatError, match="more than the limit"):
        import_file(
            store, zip_with(tmp_path / "big.zip", {"conversations.json": good}), limits=small
        )
    with pytest.raises(ImportFormatError, match=r"no conversations\.json"):
        import_file(store, zip_with(tmp_path / "none.zip", {"readme.txt": b"hi"}))
    odd = zip_with(
        tmp_path / "odd.zip",
        {
            "../conversations.json": b"[]",
            "/etc/file-Pic123.png": b"x",
            "C:/file-Pic123.png": b"x",
            "export/conversations.json": good,
        },
    )
    summary = import_file(store, odd)
    assert len(summary.imported) == 1
    assert sorted(summary.odd_members) == [
        "../conversations.json",
        "/etc/file-Pic123.png",
        "C:/file-Pic123.png",
    ]
    assert summary.files_missing == ["file-Pic123"]  # the unsafe copies were not used
    assert not (tmp_path.parent / "conversations.json").exists()
    assert count(store) == (1, 9)


def test_a_damaged_zip_and_a_missing_file(store: Store, tmp_path: Path) -> None:
    archive = zip_with(tmp_path / "x.zip", {"conversations.json": b"[" + b"1," * 5000 + b"1]"})
    damaged = tmp_path / "damaged.zip"
    data = archive.read_bytes()
    damaged.write_bytes(data[:40] + b"\xff" * 60 + data[100:])  # packed data overwritten
    with pytest.raises(ImportFormatError):
        import_file(store, damaged)
    with pytest.raises(ImportFormatError, match="is not a file"):
        import_file(store, tmp_path / "nothing-here.json")
    assert count(store) == (0, 0)


def test_migration_to_the_import_sources_schema_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    from tests.support.old_history import old_history

    conv = old_history(path, 2)  # schema 2: as the previous version left it

    store = Store(path)
    assert store.version == SCHEMA_VERSION
    assert [m.content for m in store.path(conv)] == ["hello"]
    assert (tmp_path / "history.db.v2.bak").exists()
    summary = import_file(store, write_json(tmp_path / "c.json", [chatgpt_conversation()]))
    assert len(summary.imported) == 1
    assert len(import_file(store, tmp_path / "c.json").already_present) == 1
    store.close()


@pytest.mark.timeout(30)
def test_deeply_nested_json_is_refused_quickly(store: Store, tmp_path: Path) -> None:
    # ijson's prefixed events grow a prefix per level: a million levels took
    # minutes and gigabytes before the depth check.
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 1_000_000 + b"]" * 1_000_000)
    with pytest.raises(ImportFormatError, match="nested"):
        import_file(store, path)
    assert count(store) == (0, 0)
