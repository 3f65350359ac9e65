"""Render the app icon's PNG sizes and the Windows/macOS icon files from the SVG.

QT_QPA_PLATFORM=offscreen python -m tests.support.render_icons

Writes resources/icons/desktop-agent-N.png (the hicolor sizes the desktop entry
installs), desktop-agent.ico (Windows executable) and desktop-agent.icns (macOS
bundle), all with Qt's own SVG renderer and image writers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[2] / "resources" / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # ICO stops at 256


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> None:
    _app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "desktop-agent.svg"))
    assert renderer.isValid(), "the SVG icon does not parse"
    for size in PNG_SIZES:
        path = ICONS / f"desktop-agent-{size}.png"
        assert render(renderer, size).save(str(path)), path
    # Qt's ico/icns writers take the one image they are given; ICO gets its largest size.
    assert render(renderer, max(ICO_SIZES)).save(str(ICONS / "desktop-agent.ico"), "ICO")
    assert render(renderer, 512).save(str(ICONS / "desktop-agent.icns"), "ICNS")
    print(f"wrote {len(PNG_SIZES)} PNG sizes, .ico and .icns to {ICONS}")


if __name__ == "__main__":
    main()
