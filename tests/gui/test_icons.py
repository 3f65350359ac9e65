"""The chrome's icons come from the Material Design Icons font qtawesome ships, drawn
without importing qtawesome: its import brings qtpy, QtOpenGL and every bundled font
(+38 MB RSS measured here) for six icons."""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor

from desktop_agent.gui.icons import NAMES, icon

from .conftest import Gui


def test_icons_are_drawn_in_the_colour_asked_without_importing_qtawesome(gui: Gui) -> None:
    for what in NAMES:
        image = icon(what, "#ff0000").pixmap(36, 36).toImage()
        colours = {
            QColor(image.pixel(x, y)).name()
            for x in range(image.width())
            for y in range(image.height())
            if QColor.fromRgba(image.pixel(x, y)).alpha() == 255
        }
        assert colours == {"#ff0000"}, (what, colours)  # a glyph, in that colour only
    assert "qtawesome" not in sys.modules
    assert not any(name.startswith("PySide6.QtOpenGL") for name in sys.modules)
