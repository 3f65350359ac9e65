"""Projects' knowledge: passages, indexing, BM25 search, re-scans, skips, migration."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from desktop_agent.app import knowledge
from desktop_agent.app.passages import split_text
from desktop_agent.app.projects import Projects, format_hits
from desktop_agent.storage import Store, StoreError
from desktop_agent.storage.schema import SCHEMA_VERSION
from tests.support.attach_files import pdf, png
from tests.support.corpus import write_corpus
from tests.support.old_history import old_history


@pytest.fixture
def projects(tmp_path: Path) -> Projects:
    store = Store(tmp_path / "history.db", session=False)
    yield Projects(store)
    store.close()


def test_passages_follow_headings_paragraphs_and_size() -> None:
    lines = ["# Intro", "", "short one.", "", "## Details", ""]
    lines += [f"line {i} " + "x" * 90 for i in range(30)]  # one long paragraph
    lines += ["", "tail paragraph"]
    text = "\n".join(lines)
    passages = split_text(text, max_chars=500)
    assert passages[0].heading == "Intro" and "short one." in passages[0].text
    assert "Details" not in passages[0].text  # a heading starts a new passage
    assert all(len(p.text) <= 500 for p in passages)
    source = text.splitlines()
    for p in passages:  # each passage's line range holds exactly its lines
        assert p.line_start is not None and p.line_end is not None
        held = "\n".join(source[p.line_start - 1 : p.line_end])
        for part in p.text.split("\n\n"):
            assert part in held
    assert passages[-1].text.endswith("tail paragraph") and passages[-1].heading == "Details"
    # every line of the long paragraph is in some passage
    joined = "\n".join(p.text for p in passages)
    assert all(f"line {i} " in joined for i in range(30))


def test_bm25_puts_the_file_holding_the_answer_first(projects: Projects, tmp_path: Path) -> None:
    questions = write_corpus(tmp_path / "corpus", 60)
    project = projects.create("Warehouses")
    report = projects.index(project.id, [tmp_path / "corpus"])
    assert report.indexed == 60 and not report.skipped
    for question, path in questions.items():
        [best, *_] = projects.search(project.id, question)
        assert best.path == str(path), question
        assert "spare keys" in best.text and best.location.startswith("line")


def test_search_is_per_project_and_survives_restart(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("The heron nests by the river.\n")
    (tmp_path / "b.md").write_text("The heron flies south in winter.\n")
    store = Store(tmp_path / "history.db", session=False)
    projects = Projects(store)
    one, two = projects.create("One"), projects.create("Two")
    projects.index(one.id, [tmp_path / "a.md"])
    projects.index(two.id, [tmp_path / "b.md"])
    store.close()
    store = Store(tmp_path / "history.db", session=False)  # a new process, as it were
    projects = Projects(store)
    assert [h.path for h in projects.search(one.id, "heron")] == [str(tmp_path / "a.md")]
    assert [h.path for h in projects.search(two.id, "heron")] == [str(tmp_path / "b.md")]
    store.close()


def test_changed_files_are_reindexed_and_deleted_ones_removed(
    projects: Projects, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "keep.md").write_text("Otters like clams.\n")
    (folder / "change.md").write_text("The password is swordfish.\n")
    (folder / "gone.md").write_text("Badgers dig setts.\n")
    project = projects.create("P")
    assert projects.index(project.id, [folder]).indexed == 3
    (folder / "change.md").write_text("The password is now marlin, much longer.\n")
    (folder / "gone.md").unlink()
    (folder / "new.md").write_text("Newts live in ponds.\n")
    report = projects.rescan(project.id)
    assert (report.indexed, report.unchanged, report.removed) == (2, 1, 1)
    assert projects.search(project.id, "swordfish") == []
    assert projects.search(project.id, "marlin")[0].path.endswith("change.md")
    assert projects.search(project.id, "badgers") == []
    assert projects.search(project.id, "newts")[0].path.endswith("new.md")
    # same size and content, new mtime: read again, but the sha256 says unchanged
    os.utime(folder / "keep.md", (1e9, 1e9))
    again = projects.rescan(project.id)
    assert (again.indexed, again.unchanged) == (0, 3)
    count = projects.store._db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    fts = projects.store._db.execute("SELECT COUNT(*) FROM passages_fts").fetchone()[0]
    assert count == fts == 3  # the FTS index follows deletions


def test_binary_image_empty_large_and_pdf_files(
    projects: Projects, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "tool.bin").write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    (folder / "photo.png").write_bytes(png())
    (folder / "empty.txt").write_text("")
    (folder / "big.log").write_text("word " * 4000)
    (folder / "paper.pdf").write_bytes(pdf(["Intro page", None, "The albatross result"]))
    (folder / "scan.pdf").write_bytes(pdf([None]))
    (folder / "ok.py").write_text("def albatross():\n    return 1\n")
    (folder / ".hidden.md").write_text("albatross secret")
    monkeypatch.setattr(knowledge, "MAX_FILE_BYTES", 8000)
    project = projects.create("Mixed")
    report = projects.index(project.id, [folder])
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert set(reasons) == {"tool.bin", "photo.png", "empty.txt", "big.log", "scan.pdf"}
    assert "binary" in reasons["tool.bin"] and "image" in reasons["photo.png"]
    assert "empty" in reasons["empty.txt"] and "larger than" in reasons["big.log"]
    assert "text layer" in reasons["scan.pdf"]
    files = {Path(f.path).name: f for f in projects.files(project.id)}
    assert files["tool.bin"].status == "skipped" and files["tool.bin"].reason
    assert ".hidden.md" not in files
    hits = projects.search(project.id, "albatross")
    assert {Path(h.path).name for h in hits} == {"paper.pdf", "ok.py"}
    [page] = [h for h in hits if h.path.endswith(".pdf")]
    assert page.page == 3 and page.location == "page 3" and page.anchor == "page=3"


def test_hostile_queries_do_not_break_the_search(projects: Projects, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("alpha beta gamma\n")
    project = projects.create("Q")
    projects.index(project.id, [tmp_path / "a.md"])
    for query in ['"', "NEAR(alpha", "alpha*) OR", "-- ; DROP TABLE passages", "", "a the of"]:
        projects.search(project.id, query)  # no sqlite error
    assert projects.search(project.id, 'beta" OR "x')[0].path.endswith("a.md")


def test_format_hits_gives_file_place_and_citation(projects: Projects, tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("intro\n\nThe kettle needs descaling monthly.\n")
    project = projects.create("G")
    projects.index(project.id, [tmp_path])
    hits = projects.search(project.id, "kettle descaling")
    text = format_hits(hits, "kettle")
    assert "file: guide.md, lines 1-3" in text
    assert f"citation: knowledge:{hits[0].file_id}/guide.md#L1-L3" in text


def test_project_names_moves_and_removal(projects: Projects) -> None:
    store = projects.store
    project = projects.create("Garden", instructions="Answer as a gardener.")
    with pytest.raises(StoreError):
        projects.create("garden")
    a = store.create_conversation(title="a")
    b = store.create_conversation(title="b", project_id=project.id)
    projects.move(a, project.id)
    assert set(projects.conversations(project.id)) == {a, b}
    projects.move(a, None)
    assert projects.conversations(project.id) == [b]
    assert projects.project_of(b) == project
    assert projects.remove(project.id) == [b]  # kept, out of any project
    assert store.conversation(b) is not None and store.conversation(b).project_id is None
    other = projects.create("Other")
    projects.move(a, other.id)
    projects.remove(other.id, delete_conversations=True)
    assert store.conversation(a) is None  # deleted (undoable until the next start)
    assert store.conversation(a, include_deleted=True) is not None


def test_migration_5_to_6_keeps_data_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    conv = old_history(path, 5)
    store = Store(path, session=False)
    assert store.version == SCHEMA_VERSION
    assert [m.content for m in store.path(conv)] == ["hello"]
    assert store.conversation(conv).project_id is None
    backup = sqlite3.connect(tmp_path / "history.db.v5.bak")
    assert backup.execute("PRAGMA user_version").fetchone()[0] == 5
    backup.close()
    projects = Projects(store)
    project = projects.create("After")
    projects.move(conv, project.id)
    assert projects.conversations(project.id) == [conv]
    store.close()


def test_the_project_says_where_passages_go() -> None:
    from desktop_agent.app.projects import is_remote
    from desktop_agent.app.providers import ConnectionConfig

    assert is_remote(ConnectionConfig(kind="openai", base_url="https://api.example.com/v1")) == (
        "api.example.com"
    )
    for local in ("http://127.0.0.1:8080/v1", "http://localhost:11434/v1", "http://[::1]:1/v1"):
        assert is_remote(ConnectionConfig(kind="openai", base_url=local)) is None
    assert is_remote(ConnectionConfig(kind="local")) is None


def test_pipes_and_links_are_skipped_before_anything_is_opened(
    projects: Projects, tmp_path: Path
) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "real.md").write_text("The lighthouse keeper logs the weather.\n")
    os.mkfifo(folder / "pipe.md")  # opening it to read would block the indexer forever
    (folder / "link.md").symlink_to(tmp_path / "outside.md")
    (tmp_path / "outside.md").write_text("Secret outside the folder.\n")
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # not walked into
    project = projects.create("Odd")
    report = projects.index(project.id, [folder])
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert reasons == {
        "pipe.md": "not a regular file",
        "link.md": "a symbolic link (not followed)",
    }  # (the linked folder "loop" is not walked into)
    assert report.indexed == 1
    assert projects.search(project.id, "secret") == []


def test_a_missing_source_is_reported_and_its_files_removed(
    projects: Projects, tmp_path: Path
) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    (folder / "a.md").write_text("Walruses bask.\n")
    project = projects.create("Gone")
    projects.index(project.id, [folder])
    (folder / "a.md").unlink()
    folder.rmdir()
    report = projects.rescan(project.id)
    assert report.missing == [str(folder)] and report.removed == 1
    assert projects.search(project.id, "walruses") == []
    with pytest.raises(FileNotFoundError):
        projects.index(project.id, [tmp_path / "nowhere"])


def test_vector_search_ranks_the_same_with_and_without_numpy(
    projects: Projects, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random
    import sys

    from desktop_agent.app.embeddings import pack, vector_search

    for n in range(20):
        (tmp_path / f"f{n}.md").write_text(f"note {n}\n")
    project = projects.create("V")
    projects.index(project.id, [tmp_path])
    rng = random.Random(4)
    db = projects.db
    numbers = [r[0] for r in db._db.execute("SELECT n FROM passages ORDER BY n")]
    for n in numbers:
        vector = [rng.uniform(-1, 1) for _ in range(16)]
        db._db.execute(
            "INSERT INTO passage_vectors (n, model, vector) VALUES (?, 'm', ?)", (n, pack(vector))
        )
    query = [rng.uniform(-1, 1) for _ in range(16)]
    fast = vector_search(db, project.id, "m", query, limit=5)
    monkeypatch.setitem(sys.modules, "numpy", None)  # as where numpy is not installed
    slow = vector_search(db, project.id, "m", query, limit=5)
    assert fast == slow and len(fast) == 5
    assert vector_search(db, project.id, "other-model", query) == []
