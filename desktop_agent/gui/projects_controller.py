"""The window's projects: the panel above the conversation list, the project dialog,
new conversations in a project, moving conversations in and out (the panel's
context menu and keys, the list's context menu, Ctrl+Shift+P for the conversation
on screen), and removing a project (keeping or deleting its conversations)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QBoxLayout

if TYPE_CHECKING:  # (the panel, menus and boxes are made after the first paint)
    from PySide6.QtWidgets import QMenu, QMessageBox

    from ..app.projects import Projects
    from .projects_dialog import ProjectDialog
    from .projects_panel import ProjectsPanel
    from .window import MainWindow

__all__ = ["ProjectsController"]


class ProjectsController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self._panel: ProjectsPanel | None = None  # made after the first paint (`attach`)
        self.dialog: ProjectDialog | None = None
        #: What the last background re-scan changed (None: none has finished).
        self.rescanned: list[str] | None = None

    @property
    def panel(self) -> ProjectsPanel:
        """The sidebar's projects, made when first needed: after the first paint (its
        keys and menu policy load PySide6's `Qt` namespace)."""
        if self._panel is None:
            from .projects_panel import ProjectsPanel

            window = self.window
            panel = self._panel = ProjectsPanel(window.sidebar)
            panel.setVisible(False)  # until the session says projects are kept
            layout = window.sidebar.layout()
            if isinstance(layout, QBoxLayout):  # under "New conversation", above the list
                layout.insertWidget(layout.indexOf(window.sidebar.new_button) + 1, panel)
            panel.activated.connect(window.open_conversation)
            panel.new_in_project.connect(self.new_in_project)
            panel.edit_requested.connect(lambda pid: self.edit(pid or None))
            panel.remove_requested.connect(self.ask_remove)
            panel.move_out.connect(lambda cid: self.move(cid, None))
        return self._panel

    @property
    def projects(self) -> Projects | None:
        session = self.window.session
        return session.projects if session is not None else None

    def attach(self) -> None:
        """The session has started: show its projects, and re-scan their files in the
        background (what changed while the app was closed is indexed again)."""
        self.panel.setVisible(self.projects is not None)
        self.refresh()
        if self.projects is not None and self.projects.all():
            self.window.background.spawn(self.rescan_all())

    async def rescan_all(self) -> list[str]:
        """Re-scan every project on a worker thread; the summaries of those that
        changed."""
        import asyncio
        import threading

        projects = self.projects
        if projects is None:
            return []
        cancel = threading.Event()
        changed = []
        try:
            for project in projects.all():
                report = await asyncio.to_thread(projects.rescan, project.id, cancel=cancel)
                if report.indexed or report.removed or report.missing:
                    changed.append(f"{project.name}: {report.summary()}")
        finally:
            cancel.set()  # cancelled (the window closes): the worker stops after its file
        if changed:
            self.window.status.showMessage("Project files re-indexed — " + "; ".join(changed), 8000)
        self.rescanned = changed
        return changed

    def refresh(self) -> None:
        projects = self.projects
        store = self.window.store
        if projects is None or store is None:
            return
        groups = []
        for project in projects.all():
            ids = projects.conversations(project.id)
            titles = []
            for cid in ids:
                conv = store.conversation(cid)
                titles.append((cid, conv.title if conv else ""))
            groups.append((project, titles))
        self.panel.set_projects(groups)

    # -- conversations ------------------------------------------------------------------

    def new_in_project(self, project_id: str) -> None:
        """A new conversation on screen that starts in the project (its instructions,
        files and default provider)."""
        session = self.window.session
        projects = self.projects
        if session is None or projects is None or (project := projects.get(project_id)) is None:
            return
        self.window.new_conversation()
        session.start_in_project(self.window.tenant_id, project_id)
        self.window.status.showMessage(f"New conversation in the project {project.name}", 5000)

    def move(self, conversation_id: str, project_id: str | None) -> None:
        """Into a project (None: out of any). A conversation not stored yet starts
        there when its first message is sent."""
        session = self.window.session
        projects = self.projects
        if session is None or projects is None:
            return
        store = self.window.store
        if store is not None and store.conversation(conversation_id) is not None:
            projects.move(conversation_id, project_id)
        elif project_id is None:
            session.conversations.starting_in.pop(conversation_id, None)
        else:
            session.start_in_project(conversation_id, project_id)
        project = projects.get(project_id) if project_id else None
        self.window.status.showMessage(
            f"Moved to the project {project.name}" if project else "Moved out of the project",
            4000,
        )
        self.refresh()

    def current_project(self, conversation_id: str) -> str | None:
        projects = self.projects
        if projects is None:
            return None
        project = projects.project_of(conversation_id)
        if project is not None:
            return project.id
        session = self.window.session
        return session.conversations.starting_in.get(conversation_id) if session else None

    def move_menu(self, conversation_id: str | None = None) -> QMenu | None:
        """A menu of the projects (and "No project") for a conversation (the one on
        screen by default); the keyboard's way in and out (Ctrl+Shift+P)."""
        projects = self.projects
        if projects is None:
            return None
        cid = conversation_id or self.window.tenant_id
        now = self.current_project(cid)
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMenu

        menu = QMenu("Move to project", self.window)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.setAccessibleName("Move to project")
        for project in projects.all():
            action = menu.addAction(project.name)
            action.triggered.connect(lambda _c=False, pid=project.id: self.move(cid, pid))
            action.setCheckable(True)
            action.setChecked(project.id == now)
        menu.addSeparator()
        out = menu.addAction("No project", lambda: self.move(cid, None))
        out.setEnabled(now is not None)
        if not projects.all():
            menu.addAction("New project…", lambda: self.edit(None))
        sidebar = self.window.sidebar
        menu.popup(sidebar.mapToGlobal(sidebar.rect().center()))
        return menu

    # -- sources ------------------------------------------------------------------------

    def open_source(self, link: str) -> object:
        """A citation clicked: the indexed file it names, at its place (the in-app
        viewer for text, the system's for PDFs); a link naming no indexed file opens
        nothing and says so."""
        from .projects_viewer import open_source

        projects = self.projects
        found = projects.resolve(link) if projects is not None else None
        if found is None:
            self.window.status.showMessage("That source is not in any project's files", 5000)
            return None
        path, anchor = found
        opened = open_source(path, anchor, self.window)
        if isinstance(opened, str):
            if opened != "system":
                self.window.status.showMessage(opened, 8000)
            return opened
        self.window.show_dialog(opened)
        return opened

    # -- projects -----------------------------------------------------------------------

    def edit(self, project_id: str | None) -> ProjectDialog | None:
        """The project's dialog (None: a new project)."""
        from ..app.projects import is_remote
        from .projects_dialog import ProjectDialog

        projects = self.projects
        session = self.window.session
        if projects is None or session is None:
            self.window.status.showMessage("Projects need the history (it is off)", 5000)
            return None
        project = projects.get(project_id) if project_id else None
        remote = is_remote(
            session.providers.get(project.provider_id)
            if project and project.provider_id
            else session.config
        )
        dialog = ProjectDialog(
            projects,
            project,
            remote_host=remote,
            providers=[(c.id, c.label()) for c in session.providers.items],
            tools=[t.name for t in session.all_tools()],
            parent=self.window,
        )
        dialog.saved.connect(lambda _pid: self.refresh())
        self.dialog = dialog
        self.window.show_dialog(dialog)
        return dialog

    def ask_remove(self, project_id: str) -> QMessageBox | None:
        projects = self.projects
        project = projects.get(project_id) if projects is not None else None
        if projects is None or project is None:
            return None
        count = len(projects.conversations(project_id))
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(self.window)
        box.setWindowTitle("Remove project")
        box.setText(
            f"Remove the project {project.name!r} and its index? Its files stay on disk. "
            f"It has {count} conversations."
        )
        keep = box.addButton("Remove, keep conversations", QMessageBox.ButtonRole.AcceptRole)
        delete = box.addButton("Remove with conversations", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)

        def chosen(button: Any) -> None:
            if button in (keep, delete):
                self.remove(project_id, delete_conversations=button is delete)

        box.buttonClicked.connect(chosen)
        box.open()
        return box

    def remove(self, project_id: str, *, delete_conversations: bool) -> None:
        projects = self.projects
        session = self.window.session
        if projects is None or session is None:
            return
        ids = projects.remove(project_id, delete_conversations=delete_conversations)
        if delete_conversations:
            session.conversations.deleted += ids  # Ctrl+Z restores them one by one
            self.window.conversations.reload()
            if self.window.tenant_id in ids:
                self.window.new_conversation()
        self.refresh()
