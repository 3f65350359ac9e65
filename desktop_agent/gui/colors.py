"""The transcript's colours, derived from whichever palette is in force (theme.py
builds the palette). Not imported before the window's first paint: making these
dataclasses costs ~2.5 ms (see app.py, start-up)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette


def _mix(a: QColor, b: QColor, t: float) -> str:
    """`a` moved towards `b` by `t` (0..1), as #rrggbb."""
    r = round(a.red() + (b.red() - a.red()) * t)
    g = round(a.green() + (b.green() - a.green()) * t)
    bl = round(a.blue() + (b.blue() - a.blue()) * t)
    return QColor(r, g, bl).name()


@dataclass(frozen=True)
class Colors:
    """What the Markdown renderer needs of the theme."""

    text: str
    muted: str
    code_bg: str
    border: str
    link: str
    dark: bool


@dataclass(frozen=True)
class Theme:
    dark: bool
    text: str
    muted: str
    base: str
    user_bg: str
    user_border: str
    tool_bg: str
    error_bg: str
    error_border: str
    error_text: str
    code_bg: str
    border: str
    link: str
    ok: str
    approval_bg: str

    @classmethod
    def from_palette(cls, palette: QPalette | None = None) -> Theme:
        pal = palette or QGuiApplication.palette()
        base = pal.color(QPalette.ColorRole.Base)
        text = pal.color(QPalette.ColorRole.Text)
        accent = pal.color(QPalette.ColorRole.Highlight)
        dark = base.lightness() < 128
        red = QColor("#e5484d") if dark else QColor("#cd2b31")
        green = QColor("#46a758") if dark else QColor("#2b8a3e")
        amber = QColor("#ffb224") if dark else QColor("#f5a623")
        return cls(
            dark=dark,
            text=text.name(),
            muted=_mix(text, base, 0.45),
            base=base.name(),
            user_bg=_mix(base, accent, 0.12),
            user_border=accent.name(),
            tool_bg=_mix(base, text, 0.05),
            error_bg=_mix(base, red, 0.12),
            error_border=red.name(),
            error_text=_mix(red, text, 0.25),
            code_bg=_mix(base, text, 0.06),
            border=_mix(base, text, 0.2),
            link=pal.color(QPalette.ColorRole.Link).name(),
            ok=green.name(),
            approval_bg=_mix(base, amber, 0.16),
        )

    def markdown_colors(self) -> Colors:
        return Colors(
            text=self.text,
            muted=self.muted,
            code_bg=self.code_bg,
            border=self.border,
            link=self.link,
            dark=self.dark,
        )
