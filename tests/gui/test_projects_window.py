"""Projects in the window (offscreen): the panel's groups, the project dialog with
background indexing and skip reasons, a new conversation in a project whose request
carries the instructions and the search tool, moving in and out by menu and keys,
removing a project while keeping its conversations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtCore import Qt as QtNS
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu, QMessageBox

from desktop_agent.app.projects import citation
from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.projects_viewer import SourceViewer
from desktop_agent.gui.window import MainWindow
from desktop_agent.storage import Store
from desktop_agent.testing import ScriptedModel, ScriptedToolCall, Turn
from desktop_agent.tools.basic import calculator, current_time
from tests.gui.conftest import Gui
from tests.gui.test_transcript_links import anchors
from tests.support.attach_files import pdf
from tests.support.corpus import write_corpus

Qt: Any = QtNS


@pytest.fixture
def window(gui: Gui, tmp_path: Path) -> Iterator[tuple[MainWindow, ScriptedModel]]:
    model = ScriptedModel(model="main-model")
    w = MainWindow(
        ConnectionConfig(kind="openai", model="main-model", system_prompt="base prompt"),
        # the default base URL is api.openai.com: a remote provider
        frame_ms=16,
        model_factory=lambda config: model,
        history=lambda: Store(tmp_path / "history.db"),
    )
    w.show()
    gui.run(w.start())
    yield w, model
    if not w.closed.is_set():
        gui.run(w.shutdown())


def make_project(gui: Gui, window: MainWindow, folder: Path) -> str:
    dialog = window.projects.edit(None)
    assert dialog is not None and not dialog.add_folder_button.isEnabled()
    dialog.name.setText("Depot")
    dialog.instructions.setPlainText("Answer like a quartermaster.")
    assert dialog.save()
    assert dialog.project is not None and dialog.add_folder_button.isEnabled()
    task = dialog.start_indexing([str(folder)])
    assert task is not None
    gui.until(lambda: dialog.progress.isVisible() or task.done(), "indexing to start")
    report = gui.run(task)
    assert report is not None and report.indexed == 8
    statuses = [
        dialog.files.topLevelItem(i).text(1) for i in range(dialog.files.topLevelItemCount())
    ]
    assert sum(s.startswith("indexed: ") for s in statuses) == 8
    assert "skipped: a binary file (not text, code or PDF)" in statuses
    assert "8 indexed" in dialog.status.text() and not dialog.progress.isVisible()
    dialog.close()
    return dialog.project.id


def test_a_project_from_dialog_to_request(
    gui: Gui, window: tuple[MainWindow, ScriptedModel], tmp_path: Path
) -> None:
    w, model = window
    questions = write_corpus(tmp_path / "docs", 8)
    (tmp_path / "docs" / "tool.bin").write_bytes(b"\x00\x01binary" * 40)
    question, answer_file = next(iter(questions.items()))
    project_id = make_project(gui, w, tmp_path / "docs")
    panel = w.projects.panel
    assert panel.isVisible() and panel.tree.topLevelItemCount() == 1
    group = panel.group(project_id)
    assert group is not None and group.text(0) == "Depot  (0)"
    privacy = w.projects.dialog.privacy.text()
    assert (
        privacy == "Passages from these files are sent to api.openai.com (the provider is remote)."
    )

    # Insert on the selected project: a new conversation in it.
    w.activateWindow()  # the dialog had it
    gui.until(w.isActiveWindow, "the window to be active again")
    panel.tree.setFocus()
    panel.tree.setCurrentItem(group)
    gui.qtbot.keyClick(panel.tree, Qt.Key.Key_Insert)
    [hit, *_] = w.session.projects.search(project_id, question)
    assert hit.path == str(answer_file)
    cite = citation(hit)
    model.add(
        Turn(tool_calls=[ScriptedToolCall("search_knowledge", {"query": question})]),
        f"Locker found ([{answer_file.name}, {hit.location}]({cite})).",
    )
    gui.call(w.send, question)
    gui.until(lambda: not w.busy and len(model.requests) == 2, "the answer")
    first, second = model.requests
    system = first[0]["content"]
    assert "base prompt" in system and "Answer like a quartermaster." in system
    assert any(t["function"]["name"] == "search_knowledge" for t in model.tools_seen[0])
    [tool] = [m for m in second if m["role"] == "tool"]
    assert f"file: {answer_file.name}" in tool["content"].split("\n[2]")[0]
    group = panel.group(project_id)
    assert group is not None and group.childCount() == 1
    assert group.child(0).data(0, 0x0100) == w.tenant_id

    # The answer's citation is a link; clicking it opens the file at the passage.
    [href] = [h for _pos, h, _text in anchors(w.transcript) if h.startswith("knowledge:")]
    assert href == cite
    gui.call(w.transcript.anchorClicked.emit, QUrl(href))
    [viewer] = [d for d in w.dialogs if isinstance(d, SourceViewer)]
    fact = next(line for line in answer_file.read_text().splitlines() if "spare keys" in line)
    assert fact in viewer.selected_text().replace("\u2029", "\n")
    assert viewer.text.textCursor().blockNumber() == hit.line_start - 1
    viewer.close()


class _Urls(QObject):
    """Receives the URLs Qt would hand to the system's viewer."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


def test_pdf_sources_go_to_the_system_viewer_and_forged_links_open_nothing(
    gui: Gui, window: tuple[MainWindow, ScriptedModel], tmp_path: Path
) -> None:
    w, _model = window
    (tmp_path / "paper.pdf").write_bytes(pdf(["Intro", "The albatross result"]))
    projects = w.session.projects
    project = projects.create("Papers")
    projects.index(project.id, [tmp_path / "paper.pdf"])
    [hit] = projects.search(project.id, "albatross")
    urls = _Urls()
    QDesktopServices.setUrlHandler("file", urls, "open")
    try:
        assert w.projects.open_source(citation(hit)) == "system"
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert urls.opened == [f"file://{tmp_path / 'paper.pdf'}#page=2"]
    before = list(w.dialogs)
    for forged in ("knowledge:999999/x.md#L1-L2", "knowledge:../../etc/passwd", "knowledge:"):
        assert w.projects.open_source(forged) is None
    assert w.dialogs == before
    assert "not in any project" in w.status.currentMessage()


# A popped-up menu on the offscreen platform (no keyboard grab, no raise): its noise.
@pytest.mark.qt_log_ignore(
    "^This plugin does not support grabbing the keyboard$",
    "^This plugin does not support raise\\(\\)$",
)
def test_moving_in_and_out_and_removing(
    gui: Gui, window: tuple[MainWindow, ScriptedModel], tmp_path: Path
) -> None:
    w, model = window
    model.add("first answer", "second answer")
    gui.call(w.send, "hello")
    gui.until(lambda: not w.busy and len(model.requests) == 1, "the answer")
    cid = w.tenant_id
    projects = w.session.projects
    project = projects.create("Garden", instructions="Speak of plants.")
    w.projects.refresh()
    # Ctrl+Shift+P: the menu of projects for the conversation on screen.
    gui.qtbot.keyClick(
        w, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    menus = [m for m in w.findChildren(QMenu) if m.accessibleName() == "Move to project"]
    assert len(menus) == 1 and menus[0].isVisible()  # the menu the key opened
    [garden] = [a for a in menus[0].actions() if a.text() == "Garden"]
    garden.trigger()
    assert projects.project_of(cid) == project
    group = w.projects.panel.group(project.id)
    assert group is not None and group.childCount() == 1
    gui.call(w.send, "again")
    gui.until(lambda: not w.busy and len(model.requests) == 2, "the second answer")
    assert "Speak of plants." in model.requests[1][0]["content"]

    # Delete on the conversation in the panel: out of the project.
    tree = w.projects.panel.tree
    group = w.projects.panel.group(project.id)  # the list was rebuilt after the run
    assert group is not None
    group.setExpanded(True)
    tree.setFocus()
    tree.setCurrentItem(group.child(0))
    gui.qtbot.keyClick(tree, Qt.Key.Key_Delete)
    assert projects.project_of(cid) is None
    assert w.store is not None and w.store.conversation(cid) is not None  # not deleted

    # Removing a project keeps its conversations when asked to.
    projects.move(cid, project.id)
    box = w.projects.ask_remove(project.id)
    assert box is not None
    [keep] = [b for b in box.buttons() if b.text() == "Remove, keep conversations"]
    keep.click()
    assert projects.all() == [] and w.store.conversation(cid) is not None
    assert w.projects.panel.tree.topLevelItemCount() == 0
    assert isinstance(box, QMessageBox)


def test_files_changed_while_closed_are_reindexed_at_start(gui: Gui, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("The boiler was serviced in March.\n")
    (folder / "b.md").write_text("The roof leaks.\n")
    store = Store(tmp_path / "history.db", session=False)
    from desktop_agent.app.projects import Projects

    projects = Projects(store)
    project = projects.create("House")
    projects.index(project.id, [folder])
    store.close()
    (folder / "a.md").write_text("The boiler was replaced in October, a new model.\n")
    (folder / "b.md").unlink()
    model = ScriptedModel(model="main-model")
    w = MainWindow(
        ConnectionConfig(kind="openai", model="main-model"),
        model_factory=lambda config: model,
        history=lambda: Store(tmp_path / "history.db"),
    )
    w.show()
    try:
        gui.run(w.start())
        gui.until(lambda: w.projects.rescanned is not None, "the background re-scan")
        assert w.projects.rescanned == [
            "House: 1 indexed (1 passages), 0 unchanged, 0 skipped, 1 removed"
        ]
        found = w.session.projects.search(project.id, "boiler")
        assert [h.text for h in found] == ["The boiler was replaced in October, a new model."]
        assert w.session.projects.search(project.id, "roof") == []
    finally:
        gui.run(w.shutdown())


def test_a_long_file_list_shows_skipped_files_first_and_is_capped(
    gui: Gui,
    window: tuple[MainWindow, ScriptedModel],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from desktop_agent.gui import projects_dialog

    w, _model = window
    write_corpus(tmp_path / "docs", 8)
    (tmp_path / "docs" / "zz.bin").write_bytes(b"\x00\x01binary" * 40)
    projects = w.session.projects
    project = projects.create("Many")
    projects.index(project.id, [tmp_path / "docs"])
    monkeypatch.setattr(projects_dialog, "SHOWN_FILES", 3)
    dialog = w.projects.edit(project.id)
    rows = [dialog.files.topLevelItem(i) for i in range(dialog.files.topLevelItemCount())]
    assert [r.text(1).split(":")[0] for r in rows] == ["skipped", "indexed", "indexed", ""]
    assert rows[0].text(0).endswith("zz.bin") and rows[-1].text(0) == "… and 6 more files"
    dialog.close()


def test_the_dialog_sets_the_tool_set_and_provider(
    gui: Gui, window: tuple[MainWindow, ScriptedModel]
) -> None:
    w, model = window
    w.session.set_builtins([calculator, current_time])
    dialog = w.projects.edit(None)
    assert dialog is not None
    names = [dialog.tools.item(i).text() for i in range(dialog.tools.count())]
    assert names == ["calculator", "current_time"]
    assert dialog.all_tools.isChecked() and not dialog.tools.isEnabled()
    dialog.name.setText("Sums")
    dialog.all_tools.setChecked(False)
    dialog.tools.item(1).setCheckState(Qt.CheckState.Unchecked)
    provider_ids = [dialog.provider.itemData(i) for i in range(dialog.provider.count())]
    assert provider_ids[0] == "" and w.session.config.id in provider_ids
    dialog.provider.setCurrentIndex(provider_ids.index(w.session.config.id))
    assert dialog.save()
    project = w.session.projects.find("Sums")
    assert project is not None and project.tools == ("calculator",)
    assert project.provider_id == w.session.config.id
    dialog.close()
    model.add("ok")
    gui.call(w.projects.new_in_project, project.id)
    gui.call(w.send, "1+1")
    gui.until(lambda: not w.busy and len(model.requests) == 1, "the answer")
    assert sorted(t["function"]["name"] for t in model.tools_seen[0]) == [
        "calculator",
        "search_knowledge",
    ]
    again = w.projects.edit(project.id)  # shown as saved
    assert not again.all_tools.isChecked() and again.chosen_tools() == ["calculator"]
    again.all_tools.setChecked(True)
    assert again.save() and w.session.projects.get(project.id).tools is None
    again.close()


def test_the_dialog_embeds_new_passages_when_an_embedding_model_is_set(
    gui: Gui, tmp_path: Path, http_server: Any, config: ConnectionConfig
) -> None:
    import json
    import os

    home = Path(os.environ["DESKTOP_AGENT_HOME"])
    (home / "settings.json").write_text(
        json.dumps({"knowledge": {"embedding_model": "embed-small"}})
    )
    http_server.synonyms = {"automobile": "car", "car": "car"}
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "garage.md").write_text("The automobile is parked in bay seven.\n")
    (docs / "other.md").write_text("Meters and bays.\n")
    w = MainWindow(config, frame_ms=16, history=lambda: Store(tmp_path / "history.db"))
    w.show()
    try:
        gui.run(w.start())
        dialog = w.projects.edit(None)
        dialog.name.setText("Garage")
        assert dialog.save()
        report = gui.run(dialog.start_indexing([str(docs)]))
        assert report is not None and report.indexed == 2
        assert dialog.status.text().endswith("; 2 passages embedded")
        project = dialog.project
        hits = gui.run(w.session.projects.asearch(project.id, "where is my car"))
        assert hits[0].path.endswith("garage.md")
        dialog.close()
    finally:
        gui.run(w.shutdown())


def test_the_projects_list_shows_only_when_there_are_projects(gui: Gui) -> None:
    from desktop_agent.gui.projects_panel import ProjectsPanel
    from desktop_agent.storage.knowledge_records import Project

    panel = ProjectsPanel()
    panel.show()
    panel.set_projects([])
    assert not panel.tree.isVisible() and panel.new_button.isVisible()
    project = Project(id="p1", name="Manuals")
    panel.set_projects([(project, [("c1", "Pump reset")])])
    assert panel.tree.isVisible()
    panel.deleteLater()
