"""Appearance: the colour scheme (System / Light / Dark: System follows the desktop
live), the zoom (Ctrl+= / Ctrl+- / Ctrl+0) and the window's size, sidebar width and
whether the sidebar is hidden (as they were when the window closed), kept in
settings.json under "appearance".

`Looks` applies them: the Fusion style with the palette of theme.py on the whole
application (so every widget gets the change as a PaletteChange), and the zoomed
system font on the window (widgets that read their font from the window, the
transcript among them, follow it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from .theme import build_palette, focus_stylesheet

__all__ = ["SCHEMES", "Appearance", "Looks"]

SCHEMES = ("system", "light", "dark")
ZOOM_MIN, ZOOM_MAX, ZOOM_STEP = 50, 300, 10  # per cent
SIDEBAR_MIN, SIDEBAR_MAX = 200, 480  # px (LOOK.md: 200-480, 260 at first)
WINDOW_MIN, WINDOW_MAX = (640, 400), (16384, 16384)  # px


def _int_in(raw: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        return default
    return max(low, min(high, value))


@dataclass(frozen=True)
class Appearance:
    scheme: str = "system"
    zoom: int = 100  # per cent of the system UI font
    sidebar_width: int = 260
    sidebar_hidden: bool = False
    window_width: int = 1100
    window_height: int = 740

    @classmethod
    def from_settings(cls, saved: dict[str, Any]) -> Appearance:
        """From settings.json, each value checked: anything else is the default."""
        raw = saved.get("appearance")
        raw = raw if isinstance(raw, dict) else {}
        d = cls()
        return cls(
            scheme=str(raw.get("scheme")) if raw.get("scheme") in SCHEMES else d.scheme,
            zoom=_int_in(raw, "zoom", d.zoom, ZOOM_MIN, ZOOM_MAX),
            sidebar_width=_int_in(raw, "sidebar_width", d.sidebar_width, SIDEBAR_MIN, SIDEBAR_MAX),
            sidebar_hidden=raw.get("sidebar_hidden") is True,
            window_width=_int_in(raw, "window_width", d.window_width, WINDOW_MIN[0], WINDOW_MAX[0]),
            window_height=_int_in(
                raw, "window_height", d.window_height, WINDOW_MIN[1], WINDOW_MAX[1]
            ),
        )

    def to_settings(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "zoom": self.zoom,
            "sidebar_width": self.sidebar_width,
            "sidebar_hidden": self.sidebar_hidden,
            "window_width": self.window_width,
            "window_height": self.window_height,
        }


def settings_saver() -> Callable[[Appearance], None]:
    """Saves into settings.json, changing only "appearance" (read-modify-write)."""
    from ..app.settings import update_settings

    def save(appearance: Appearance) -> None:
        update_settings(lambda data: data.__setitem__("appearance", appearance.to_settings()))

    return save


def system_is_dark(default: bool = False) -> bool:
    """The desktop's colour scheme (Qt >= 6.5); `default` when it says nothing."""
    from PySide6.QtCore import Qt

    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Unknown:
        return default
    return bool(scheme == Qt.ColorScheme.Dark)


def platform_palette_is_dark() -> bool:
    """The palette Qt started with: dark when its window colour is."""
    from PySide6.QtGui import QPalette

    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def system_high_contrast() -> bool:
    """The platform's high-contrast setting, where Qt reports it (Qt >= 6.10:
    `QStyleHints.accessibility().contrastPreference()`); False where it cannot."""
    hints: Any = QGuiApplication.styleHints()
    accessibility = getattr(hints, "accessibility", None)
    if accessibility is None:
        return False
    try:
        from PySide6.QtCore import Qt

        high = Qt.ContrastPreference.HighContrast
        return bool(accessibility().contrastPreference() == high)
    except AttributeError:
        return False


class Looks(QObject):
    """Applies an `Appearance` to the application and a window; follows the system."""

    changed = Signal(bool)  # the palette in force is dark

    def __init__(
        self,
        window: QWidget,
        appearance: Appearance,
        save: Callable[[Appearance], None] | None = None,
    ) -> None:
        super().__init__(window)
        self.window, self.appearance, self._save = window, appearance, save
        self.dark = False
        self.high_contrast = False
        self.button_style = ""
        #: how the desktop's scheme and contrast are read (replaceable: offscreen Qt
        #: reports no scheme)
        platform_dark = platform_palette_is_dark()  # (before ours replaces it)
        self.system_dark: Callable[[], bool] = lambda: system_is_dark(platform_dark)
        self.system_high_contrast: Callable[[], bool] = system_high_contrast
        self._base_point_size = QApplication.font().pointSizeF()

    def start(self) -> None:
        """Apply before the first paint. (The desktop's scheme is read after it, in
        `follow_system`: the first `QStyleHints.colorScheme()` call builds the `Qt`
        namespace's enums, ~20 ms; until then the platform palette's lightness
        stands for it.)"""
        app = QApplication.instance()
        # (run_app asks for Fusion on the command line, `-style Fusion`: asking the
        # style's name would build `QStyle`'s enum types before the first paint, ~5 ms)
        chosen = app is not None and app.property("desktop_agent_fusion") is True
        if not chosen and QApplication.style().name().lower() != "fusion":
            QApplication.setStyle("Fusion")  # (often it is already)
        self.apply(early=True)

    def follow_system(self) -> None:
        """After the first paint: the desktop's scheme, and its changes from now on."""
        hints: Any = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(self._system_changed)
        accessibility = getattr(hints, "accessibility", None)  # (Qt >= 6.10)
        if accessibility is not None:
            accessibility().contrastPreferenceChanged.connect(self._contrast_changed)
        system = self.appearance.scheme == "system"
        if (system and self.system_dark() != self.dark) or self.system_high_contrast():
            self.apply()

    def _contrast_changed(self, _preference: object) -> None:
        if self.window.isVisible():  # (a closed window has no say any more)
            self.apply()

    def _system_changed(self, _scheme: object) -> None:
        if self.appearance.scheme == "system" and self.window.isVisible():
            self.apply()

    def apply(self, *, early: bool = False) -> None:
        scheme = self.appearance.scheme
        if scheme != "system":
            self.dark = scheme == "dark"
        elif early:
            self.dark = platform_palette_is_dark()
        else:
            self.dark = self.system_dark()
        self.high_contrast = False if early else self.system_high_contrast()
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.setPalette(build_palette(self.dark, high_contrast=self.high_contrast))
        # (on the icon buttons only, not the application: an application style sheet
        # stops the window's font, the zoom, from reaching its children)
        self.button_style = focus_stylesheet(self.dark)
        self.apply_zoom()
        self.changed.emit(self.dark)

    def set_scheme(self, scheme: str) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown colour scheme {scheme!r}")
        self._change(replace(self.appearance, scheme=scheme))
        self.apply()

    # -- zoom ---------------------------------------------------------------------------

    def zoom_in(self) -> None:
        self.set_zoom(self.appearance.zoom + ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.appearance.zoom - ZOOM_STEP)

    def zoom_reset(self) -> None:
        self.set_zoom(100)

    def set_zoom(self, percent: int) -> None:
        self._change(replace(self.appearance, zoom=max(ZOOM_MIN, min(ZOOM_MAX, percent))))
        self.apply_zoom()

    def apply_zoom(self) -> None:
        """The zoomed system font on the window (and so on its widgets)."""
        font = QApplication.font()
        font.setPointSizeF(self._base_point_size * self.appearance.zoom / 100)
        self.window.setFont(font)
        # a widget with a style sheet does not inherit the window's font: given it
        for widget in self.window.findChildren(QWidget):
            if widget.styleSheet():
                widget.setFont(font)

    # -- layout -------------------------------------------------------------------------

    def remember_layout(self, width: int, height: int, sidebar: int | None) -> None:
        """The window's size and the sidebar's width (None: the sidebar is hidden, its
        width stays as it was), saved for the next start."""
        a = self.appearance
        self._change(
            replace(
                a,
                window_width=max(WINDOW_MIN[0], min(WINDOW_MAX[0], width)),
                window_height=max(WINDOW_MIN[1], min(WINDOW_MAX[1], height)),
                sidebar_hidden=sidebar is None,
                sidebar_width=(
                    a.sidebar_width
                    if sidebar is None
                    else max(SIDEBAR_MIN, min(SIDEBAR_MAX, sidebar))
                ),
            )
        )

    def _change(self, appearance: Appearance) -> None:
        if appearance != self.appearance:
            self.appearance = appearance
            if self._save is not None:
                self._save(appearance)
