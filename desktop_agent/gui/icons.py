"""Icons from Material Design Icons 6 (the icon font qtawesome ships), drawn in the
palette's text colour so they recolour with the theme; and the flat icon button the
window's chrome uses.

The glyphs are drawn from qtawesome's font file and charmap directly: importing
qtawesome itself brings qtpy, which loads QtOpenGL and QtOpenGLWidgets (+19 MB RSS)
and every bundled font (+38 MB in all), for six icons. The window creates its buttons
with names and tooltips before the first paint and gives them icons after it
(`IconButton.refresh`).
"""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QFont, QFontDatabase, QIcon, QPainter, QPalette, QPixmap
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


#: The sizes an icon is drawn at (the 18 px buttons at 100 % and 200 %).
SIZES = (16, 18, 24, 32, 36, 48)


@lru_cache(maxsize=1)
def _font() -> tuple[str, dict[str, str]]:
    """The icon font's family (added to the application once) and its charmap."""
    from ..app.paths import resource_path

    folders = [resource_path("iconfont")]  # the packaged app: copied there by the spec
    spec = importlib.util.find_spec("qtawesome")  # found, not imported
    if spec is not None and spec.submodule_search_locations:
        folders.append(Path(next(iter(spec.submodule_search_locations)), "fonts"))
    for fonts in folders:
        ttfs = sorted(fonts.glob("materialdesignicons6-webfont-*.ttf"))
        charmaps = sorted(fonts.glob("materialdesignicons6-webfont-charmap-*.json"))
        if ttfs and charmaps:
            break
    else:
        raise RuntimeError("the icon font (qtawesome's Material Design Icons) is missing")
    ttf, charmap = ttfs[-1], charmaps[-1]
    font_id = QFontDatabase.addApplicationFont(str(ttf))
    families = QFontDatabase.applicationFontFamilies(font_id)
    if not families:
        raise RuntimeError(f"the icon font {ttf.name} could not be loaded")
    return families[0], json.loads(charmap.read_text(encoding="utf-8"))


def icon(what: str, colour: str) -> QIcon:
    """The icon for `what` (a key of `NAMES`) in `colour`."""
    family, charmap = _font()
    glyph = chr(int(charmap[NAMES[what].split(".", 1)[1]], 16))
    made = QIcon()
    for size in SIZES:
        pixmap = QPixmap(size, size)
        pixmap.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pixmap)
        font = QFont(family)
        font.setPixelSize(size)
        painter.setFont(font)
        painter.setPen(QColor(colour))
        painter.drawText(pixmap.rect(), 0x84, glyph)  # Qt.AlignCenter (no Qt namespace)
        painter.end()
        made.addPixmap(pixmap)
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
        try:
            self.setIcon(icon(self.what, colour))
        except (RuntimeError, OSError, ValueError, KeyError):
            return  # no icon font: the button keeps its text
        from PySide6.QtCore import Qt

        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
