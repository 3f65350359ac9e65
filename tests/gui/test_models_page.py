"""The Models page (pytest-qt, offscreen) against a scripted hub: download, pause and
resume (a Range from where it stopped), cancel, import, delete, "Use this model";
the window's Ctrl+Shift+M and status bar while a conversation goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from desktop_agent.app.providers import ConnectionConfig
from desktop_agent.gui.downloads import DownloadManager
from desktop_agent.gui.models_page import ModelsPage
from desktop_agent.gui.settings_dialog import SettingsDialog
from desktop_agent.gui.window import MainWindow
from desktop_agent.providers.models.catalog import CATALOG, CatalogEntry
from desktop_agent.providers.models.installed import ModelLibrary
from tests.gui.conftest import Gui, answers_a_message
from tests.support.hub_server import ScriptedHub, running_hub
from tests.support.scripted_server import Reply, ScriptedServer

DATA = b"GGUF" + (3).to_bytes(4, "little") + bytes(range(256)) * (40 * 4096)  # ~40 MiB
ENTRY = CatalogEntry(
    "test-tiny", "Test Tiny", "test-org/tiny-GGUF", "tiny.gguf", "Q4_1",
    len(DATA), 2 * len(DATA), 32768, "Apache-2.0", tools=True,
)  # fmt: skip
OTHER = replace(ENTRY, id="test-other", name="Test Other", file="other.gguf")


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedHub]:
    with running_hub() as running:
        running.add(ENTRY.repo, ENTRY.file, DATA)
        running.add(OTHER.repo, OTHER.file, DATA)
        running.throttle = 0.05  # ~2 s for the file: time to act mid-download
        monkeypatch.setenv("HF_ENDPOINT", running.hub_url)
        yield running


@pytest.fixture
def page(gui: Gui, tmp_path: Path) -> Iterator[ModelsPage]:
    manager = DownloadManager(ModelLibrary(tmp_path / "models"))
    made = ModelsPage(manager, catalog=(ENTRY, OTHER))
    made.show()
    yield made
    manager.stop_all()
    gui.until(lambda: not manager.jobs, "the downloads to stop")
    made.close()


def state_of(page: ModelsPage, ref: str) -> str:
    row = next(i for i, r in enumerate(page.rows) if ref in (r.ref, r.entry and r.entry.id))
    item = page.table.item(row, 6)
    assert item is not None
    return item.text()


def test_pause_resume_and_cancel_from_the_page(
    gui: Gui, hub: ScriptedHub, page: ModelsPage
) -> None:
    outcomes: list[tuple[str, str]] = []
    page.manager.finished.connect(lambda ref, outcome, _m: outcomes.append((ref, outcome)))
    page.select(ENTRY.id)
    assert page.buttons["use"].isEnabled() is False
    page.buttons["download"].click()
    assert state_of(page, ENTRY.id) == "downloading"
    gui.until(lambda: page.progress.value() > 0, "some progress")
    page.buttons["pause"].click()
    gui.until(lambda: outcomes == [(ENTRY.ref, "paused")], "the pause")
    assert state_of(page, ENTRY.id).startswith("paused at")
    assert page.buttons["download"].text().startswith("&Resume")
    hub.ranges.clear()
    page.buttons["download"].click()
    gui.until(lambda: outcomes[-1] == (ENTRY.ref, "installed"), "the download", 60)
    assert hub.ranges[0] is not None and not hub.ranges[0].startswith("bytes=0-")
    assert state_of(page, ENTRY.id) == "installed"
    assert page.library.find(ENTRY.ref) is not None
    assert page.buttons["use"].isEnabled() and page.buttons["delete"].isEnabled()

    page.select(OTHER.id)
    page.buttons["download"].click()
    gui.until(lambda: page.manager.jobs and page.manager.jobs[OTHER.ref].done > 0, "progress")
    page.buttons["cancel"].click()
    gui.until(lambda: outcomes[-1] == (OTHER.ref, "cancelled"), "the cancel")
    assert page.library.partials() == []
    assert state_of(page, OTHER.id) == "fits this computer" or "memory" in state_of(page, OTHER.id)

    page.select(ENTRY.id)
    page.buttons["delete"].click()
    assert page.library.models() == []
    assert state_of(page, ENTRY.id) != "installed"


def test_import_refuses_what_is_not_gguf(gui: Gui, page: ModelsPage, tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"<html>not a model</html>")
    page.import_file(str(junk))
    assert page.status.text().startswith("Not imported")
    assert page.library.models() == []
    good = tmp_path / "mine.gguf"
    good.write_bytes(DATA[:4096])
    page.import_file(str(good))
    assert page.status.text() == "Imported mine"
    assert page.selected_ref() == "imported/mine.gguf"
    assert page.buttons["use"].isEnabled()
    used: list[str] = []
    page.use_requested.connect(used.append)
    page.buttons["use"].click()
    assert used == [str(page.library.folder / "imported" / "mine.gguf")]


def test_every_control_has_a_name(gui: Gui, page: ModelsPage) -> None:
    for button in page.buttons.values():
        assert button.accessibleName()
    assert page.table.accessibleName() and page.progress.accessibleName()


def test_window_downloads_while_chatting(
    gui: Gui,
    hub: ScriptedHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    http_server: ScriptedServer,
    config: ConnectionConfig,
) -> None:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("desktop_agent.gui.models_page.CATALOG", (ENTRY, *CATALOG))
    window = MainWindow(config)
    window.show()
    gui.run(window.start())
    try:
        window.actions_by_name["models"].trigger()  # Ctrl+Shift+M: Settings → Models
        dialog = window.dialogs[-1]
        assert isinstance(dialog, SettingsDialog)
        assert dialog.pages.current_name == "Models"
        page = dialog.pages.page("Models")
        assert isinstance(page, ModelsPage) and page.isVisible()
        outcomes: list[str] = []
        window.downloads.finished.connect(lambda _r, outcome, _m: outcomes.append(outcome))
        page.select(ENTRY.id)
        page.buttons["download"].click()
        gui.until(lambda: window.status.currentMessage().startswith("Downloading tiny"), "status")
        # Settings closes: the download goes on (the window owns it), the page lets go
        gui.call(dialog.reject)
        assert window.dialogs == [] and window.downloads.active(ENTRY.ref)
        seen = window.status.currentMessage()
        gui.until(lambda: window.status.currentMessage() != seen, "more progress after closing")
        http_server.add(Reply("Chatting while it downloads."))
        done = asyncio.Event()
        assert window.bridge is not None
        window.bridge.run_done.connect(lambda _d: done.set())
        gui.call(window.send, "Hello")
        gui.run(done.wait(), 30)
        assert window.transcript.last_answer() == "Chatting while it downloads."
        assert outcomes == []  # the download is still going
        gui.until(lambda: outcomes == ["installed"], "the download", 60)
        assert window.status.currentMessage() == "Installed tiny"
    finally:
        gui.run(window.shutdown())


@pytest.mark.slow
def test_use_this_model_restarts_the_engine_with_it(
    gui: Gui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model pulled from the hub, chosen on the Models page: the embedded engine
    restarts with that file (its label, its context) and answers."""
    from desktop_agent.app.paths import models_dir
    from desktop_agent.providers.local import default_model_path
    from desktop_agent.providers.models import download

    bundled = default_model_path()
    if bundled is None:
        pytest.skip("needs the `local` extra")
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DESKTOP_AGENT_DISCOVERY_PORTS", "nothing=9")
    ref = "hf:test-org/smol-GGUF/smol.gguf"
    with running_hub() as hub:
        hub.add("test-org/smol-GGUF", "smol.gguf", bundled.read_bytes())
        monkeypatch.setenv("HF_ENDPOINT", hub.hub_url)
        pulled = download.pull(ref, ModelLibrary(models_dir()))
    window = MainWindow(ConnectionConfig())  # nothing configured: the bundled model
    window.show()
    gui.run(window.start())
    try:
        assert window.config.kind == "local" and window.config.gguf_path == ""
        dialog = window.open_models()
        assert isinstance(dialog, SettingsDialog)
        page = dialog.pages.page("Models")
        assert isinstance(page, ModelsPage)
        page.select(ref)
        page.buttons["use"].click()
        assert window.config.gguf_path == str(models_dir() / pulled.path)
        assert window.config.n_ctx == 8192  # SmolLM2's own context (fits in memory here)
        engine = window.orchestrator.model.engine  # type: ignore[union-attr]
        assert engine.label == "smol"
        gui.until(lambda: engine.state == "ready", "the engine with the pulled model", 120)
        assert f"--model {window.config.gguf_path}" in " ".join(engine.process.args)
        assert window.status.model_label.text() == "smol · on this computer"
        answers_a_message(gui, window)
    finally:
        gui.run(window.shutdown())


def test_first_run_offer_in_the_empty_state(
    gui: Gui, hub: ScriptedHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled model answers (nothing configured) and a better catalog model fits:
    the empty state offers it; Tab reaches the button, Space downloads it and then the
    embedded engine uses it; the offer goes away."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from desktop_agent.app.paths import models_dir
    from desktop_agent.gui.models_page import FirstRunOffer
    from desktop_agent.testing import ScriptedModel

    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("desktop_agent.gui.models_page.CATALOG", (ENTRY,))
    hub.throttle = 0.0
    made: list[ConnectionConfig] = []

    def factory(config: ConnectionConfig) -> ScriptedModel:
        made.append(config)
        return ScriptedModel(["hi"], model=config.model, loop=True)

    window = MainWindow(ConnectionConfig(kind="local"), model_factory=factory)
    window.show()
    gui.run(window.start())
    try:
        empty = window.pane.empty
        offer = empty.offer
        assert isinstance(offer, FirstRunOffer) and offer.isVisibleTo(window)
        assert offer.button.text() == "Download Test Tiny (0.04 GB)"
        assert offer.button.accessibleName() == "Download and use Test Tiny"
        assert offer.accessibleName() == "A better local model"
        # by keyboard: Tab from Send reaches it
        window.send_button.setFocus()
        gui.qtbot.keyClick(window.send_button, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is offer.button
        gui.qtbot.keyClick(offer.button, Qt.Key.Key_Space)
        gui.until(lambda: window.config.gguf_path != "", "the model downloaded and used", 60)
        model = window.downloads.library.find(ENTRY.ref)
        assert model is not None
        assert window.config.gguf_path == str(models_dir() / model.path)
        assert made[-1].gguf_path == window.config.gguf_path  # the engine restarted with it
        gui.until(lambda: empty.offer is None, "the offer gone")
    finally:
        gui.run(window.shutdown())


def test_no_offer_when_a_provider_is_configured(
    gui: Gui, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: ConnectionConfig
) -> None:
    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("desktop_agent.gui.models_page.CATALOG", (ENTRY,))
    window = MainWindow(config)
    window.show()
    gui.run(window.start())
    try:
        assert window.pane.showing_empty and window.pane.empty.offer is None
    finally:
        gui.run(window.shutdown())


def test_offer_in_settings_is_used_after_settings_closed(
    gui: Gui, hub: ScriptedHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Models page's own offer: Settings closes right after the click; the model
    still downloads and is then used (the window holds "download and use")."""
    from desktop_agent.testing import ScriptedModel

    monkeypatch.setenv("DESKTOP_AGENT_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("desktop_agent.gui.models_page.CATALOG", (ENTRY,))
    window = MainWindow(
        ConnectionConfig(kind="local"),
        model_factory=lambda c: ScriptedModel(["hi"], model=c.model, loop=True),
    )
    window.show()
    gui.run(window.start())
    try:
        dialog = gui.call(window.open_models)
        page = dialog.pages.page("Models")  # type: ignore[attr-defined]
        assert isinstance(page, ModelsPage) and page.offer is not None
        gui.call(page.offer.button.click)
        gui.call(dialog.reject)
        assert window.dialogs == [] and window.downloads.active(ENTRY.ref)
        gui.until(lambda: window.config.gguf_path != "", "the model downloaded and used", 60)
        assert window.config.gguf_path.endswith("tiny.gguf")
    finally:
        gui.run(window.shutdown())


def test_tab_leaves_the_table(gui: Gui, page: ModelsPage) -> None:
    """Arrows move in the models table; Tab goes on to the next control (no trap)."""
    page.table.setFocus()
    assert not page.table.tabKeyNavigation()
