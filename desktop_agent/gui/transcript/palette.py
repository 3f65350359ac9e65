"""The transcript's colours and fonts, read from the widget's QPalette (so a light or
dark theme, or the system's scheme changing live, reaches bubbles, cards and code)."""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtGui import QColor, QFontDatabase, QGuiApplication, QPalette

from ..colors import Theme

__all__ = ["TranscriptTheme"]


def _distinct(color: QColor, base: QColor, fallback: QColor) -> QColor:
    """`color`, unless it can hardly be told from `base` (then `fallback`)."""
    if abs(color.lightness() - base.lightness()) < 5:
        return fallback
    return color


@dataclass(frozen=True)
class TranscriptTheme(Theme):
    """`Theme` plus what bubbles, cards, buttons and code need."""

    mono: str = "monospace"  # the system fixed font's family
    accent: str = "#3584e4"  # fills (primary button, focus ring)
    accent_text: str = "#ffffff"  # text on `accent`
    bubble: str = "#f5f5f5"  # the user's messages (AlternateBase)
    card: str = "#f7f7f8"  # tool calls
    card_border: str = "#e3e3e3"  # bubbles and cards (Mid)
    focus: str = "#0461be"  # the keyboard focus ring around a message (Link)

    @classmethod
    def from_palette(cls, palette: QPalette | None = None) -> TranscriptTheme:
        pal = palette or QGuiApplication.palette()
        theme = Theme.from_palette(pal)
        role = QPalette.ColorRole
        base = pal.color(role.Base)
        text = pal.color(role.Text)
        mixed = QColor(theme.code_bg)
        alternate = _distinct(pal.color(role.AlternateBase), base, mixed)
        mid = _distinct(pal.color(role.Mid), base, QColor(theme.border))
        accent = pal.color(getattr(role, "Accent", role.Highlight))
        blend = QColor(
            round(base.red() * 0.96 + text.red() * 0.04),
            round(base.green() * 0.96 + text.green() * 0.04),
            round(base.blue() * 0.96 + text.blue() * 0.04),
        )
        values = {f.name: getattr(theme, f.name) for f in fields(Theme)}
        return cls(
            **values,
            mono=QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family(),
            accent=accent.name(),
            accent_text=pal.color(role.HighlightedText).name(),
            bubble=alternate.name(),
            card=blend.name(),
            card_border=mid.name(),
            focus=pal.color(role.Link).name(),
        )
