"""Icons from qtawesome (Material Design Icons 6), drawn in the palette's text colour
so they recolour with the theme; and the flat icon button the window's chrome uses.

qtawesome (with qtpy) costs ~60 ms to import and loads its font on first use: the
window creates its buttons with names and tooltips before the first paint and gives
them icons after it (`IconButton.refresh`).
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import QToolButton, QWidget

__all__ = ["NAMES", "IconButton", "icon"]

#: What a button shows -> the Material Design Icons name.
NAMES: dict[str, str] = {
    "new": "mdi6.square-edit-outline",
    "settings": "mdi6.cog-outline",
    "sidebar": "mdi6.dock-left",
    "search": "mdi6.magnify",
    "rename": "mdi6.pencil-outline",
    "delete": "mdi6.trash-can-outline",
}


def icon(what: str, colour: str) -> QIcon:
    """The icon for `what` (a key of `NAMES`) in `colour`."""
    import qtawesome  # type: ignore[import-untyped]

    made: QIcon = qtawesome.icon(NAMES[what], color=colour)
    return made


class IconButton(QToolButton):
    """A flat 28×28 button with an icon, a tooltip (with its keys) and an accessible
    name and description (a tooltip is not a name)."""

    def __init__(
        self, what: str, name: str, description: str, keys: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.what = what
        self.setAutoRaise(True)
        self.setAccessibleName(name)
        self.setAccessibleDescription(description)
        self.setToolTip(f"{name} ({keys})" if keys else name)
        self.setText(name)  # shown until the icon is set (and read if it never is)
        self.setIconSize(QSize(18, 18))
        self.setMinimumSize(32, 32)

    def refresh(self) -> None:
        """(Re)draw the icon in the palette's text colour."""
        colour = self.palette().color(QPalette.ColorRole.ButtonText).name()
        self.setIcon(icon(self.what, colour))
        from PySide6.QtCore import Qt

        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
