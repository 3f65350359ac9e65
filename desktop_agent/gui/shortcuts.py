"""The window's keyboard: the F1 list (`SHORTCUTS`) and the actions that carry the
keys (`add_actions`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (the actions are made after the first paint: see app.py)
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QWidget

__all__ = ["ACTIONS", "SHORTCUTS", "add_actions"]

#: (keys, what they do): the F1 list.
SHORTCUTS: list[tuple[str, str]] = [
    ("Enter", "Send the message"),
    ("Shift+Enter", "New line in the message"),
    ("Esc", "Stop the answer"),
    ("Up (empty message)", "Edit your last message"),
    ("Ctrl+R", "Regenerate the last answer (or retry after an error)"),
    ("Ctrl+Shift+C", "Copy the last answer"),
    ("Ctrl+N", "New conversation"),
    ("Ctrl+K", "Search the conversations (titles; Enter with no match searches messages)"),
    ("Ctrl+Shift+K", "Search the messages of every conversation"),
    ("Ctrl+B", "Show or hide the sidebar"),
    ("F2", "Rename the conversation"),
    ("Delete (in the list)", "Delete the conversation (Ctrl+Z undoes)"),
    ("Alt+Up / Alt+Down", "Choose a message: C, E, R, Del (delete from here), Tab: its buttons"),
    ("Ctrl+E / Ctrl+Shift+E", "Export the conversation as Markdown / JSON"),
    ("Ctrl+L", "Focus the message box"),
    ("Ctrl+U", "Attach files (or drop them on the window, or paste)"),
    ("Ctrl+Shift+X", "Compact the conversation now (summarise or leave out older messages)"),
    ("Ctrl+Shift+J", "Context settings of this conversation (reserve, strategy)"),
    ("Ctrl+,", "Settings"),
    ("Ctrl+= / Ctrl+- / Ctrl+0", "Zoom in / out / back to 100 %"),
    ("Ctrl+Shift+O", "Import conversations (ChatGPT, Claude, Open WebUI, JSON)"),
    ("Ctrl+Shift+S", "The AG-UI agent's shared state"),
    ("Ctrl+Shift+M", "Settings → Models: download, import and choose local models"),
    ("Ctrl+Shift+P", "Move the conversation to a project (or out of it)"),
    ("Insert (in Projects)", "New conversation in the selected project"),
    ("Delete (in Projects)", "Move the conversation out of its project"),
    ("F1, Ctrl+/", "This list"),
    ("Ctrl+Q", "Quit"),
]

#: name -> (the action's text, its keys): the window's actions.
ACTIONS: dict[str, tuple[str, list[str]]] = {
    "stop": ("Stop", ["Esc"]),
    "new": ("New conversation", ["Ctrl+N"]),
    "switch": ("Search conversations", ["Ctrl+K"]),
    "search_messages": ("Go to conversation", ["Ctrl+Shift+K"]),
    "toggle_sidebar": ("Show or hide the sidebar", ["Ctrl+B"]),
    "zoom_in": ("Zoom in", ["Ctrl+=", "Ctrl++"]),
    "zoom_out": ("Zoom out", ["Ctrl+-"]),
    "zoom_reset": ("Actual size", ["Ctrl+0"]),
    "rename": ("Rename conversation", ["F2"]),
    "undo_delete": ("Undo delete", ["Ctrl+Z"]),  # (a conversation, or messages)
    "export_md": ("Export as Markdown", ["Ctrl+E"]),
    "export_json": ("Export as JSON", ["Ctrl+Shift+E"]),
    "focus": ("Focus message", ["Ctrl+L"]),
    "attach": ("Attach files", ["Ctrl+U"]),
    "compact": ("Compact conversation now", ["Ctrl+Shift+X"]),
    "context": ("Context settings of this conversation", ["Ctrl+Shift+J"]),
    "regenerate": ("Regenerate", ["Ctrl+R"]),
    "copy_last": ("Copy last answer", ["Ctrl+Shift+C"]),
    "settings": ("Settings", ["Ctrl+,"]),
    "import": ("Import conversations…", ["Ctrl+Shift+O"]),
    "agent_state": ("Agent state", ["Ctrl+Shift+S"]),
    "models": ("Models", ["Ctrl+Shift+M"]),
    "move_project": ("Move to project…", ["Ctrl+Shift+P"]),
    "help": ("Keyboard shortcuts", ["F1", "Ctrl+/"]),
    "quit": ("Quit", ["Ctrl+Q"]),
}


def add_actions(widget: QWidget, slots: dict[str, Callable[[], Any]]) -> dict[str, QAction]:
    """The `ACTIONS` on `widget`, each triggering its slot; by name."""
    from PySide6.QtGui import QAction, QKeySequence

    actions: dict[str, QAction] = {}
    for name, slot in slots.items():
        text, keys = ACTIONS[name]
        action = QAction(text, widget)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
        widget.addAction(action)
        actions[name] = action
    return actions
