"""Colours: the app's light and dark palettes (LOOK.md's tokens, on Fusion) and the
transcript's colours derived from whichever palette is in force."""

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


# -- the app's palette: LOOK.md's colour tokens, light and dark, on Fusion ----------------

#: token -> (light, dark), from /work/shared/LOOK.md §3.
TOKENS: dict[str, tuple[str, str]] = {
    "base": ("#ffffff", "#212121"),  # transcript -> Base
    "window": ("#f7f7f8", "#171717"),  # sidebar, chrome -> Window
    "alternate": ("#f5f5f5", "#2f2f2f"),  # user bubble -> AlternateBase
    "text": ("#212121", "#ececec"),  # Text, WindowText, ButtonText
    "secondary": ("#595959", "#b4b4b4"),  # PlaceholderText
    "border": ("#e3e3e3", "#424242"),  # Mid
    "button": ("#ffffff", "#2f2f2f"),  # Button
    "accent": ("#3584e4", "#3584e4"),  # Accent, Highlight (fills behind icons / bold text)
    "link": ("#0461be", "#81d0ff"),  # Link, focus ring
    "selection": ("#1c71d8", "#1c71d8"),  # Highlight: white text on it 4.77 (#3584e4: 3.77)
    "on_selection": ("#ffffff", "#ffffff"),  # HighlightedText
    "success": ("#007c3d", "#78e9ab"),
    "error": ("#c30000", "#ff938c"),
}

#: (foreground token, background token): pairs that carry text, each >= 4.5:1.
TEXT_PAIRS: list[tuple[str, str]] = [
    ("text", "base"),
    ("text", "window"),
    ("text", "alternate"),
    ("text", "button"),
    ("secondary", "base"),
    ("secondary", "window"),
    ("secondary", "alternate"),
    ("link", "base"),
    ("link", "window"),
    ("success", "base"),
    ("error", "base"),
    ("on_selection", "selection"),
]


def token(name: str, dark: bool) -> str:
    return TOKENS[name][1 if dark else 0]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours (1..21)."""

    def luminance(hex_colour: str) -> float:
        c = QColor(hex_colour)
        channels = []
        for v in (c.redF(), c.greenF(), c.blueF()):
            channels.append(v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4)
        r, g, b_ = channels
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def build_palette(dark: bool, *, high_contrast: bool = False) -> QPalette:
    """The Fusion palette for `dark` or light, from `TOKENS`. High contrast: pure
    black/white text and borders at full strength (LOOK.md §8)."""
    pal = QPalette()
    role = QPalette.ColorRole
    text = token("text", dark)
    if high_contrast:
        text = "#ffffff" if dark else "#000000"
    colours = {
        role.Window: token("window", dark),
        role.WindowText: text,
        role.Base: token("base", dark),
        role.AlternateBase: token("alternate", dark),
        role.Text: text,
        role.Button: token("button", dark),
        role.ButtonText: text,
        role.BrightText: "#ffffff",
        role.PlaceholderText: text if high_contrast else token("secondary", dark),
        role.ToolTipBase: token("base", dark),
        role.ToolTipText: text,
        role.Highlight: token("selection", dark),
        role.HighlightedText: token("on_selection", dark),
        role.Link: token("link", dark),
        role.LinkVisited: token("link", dark),
        role.Mid: text if high_contrast else token("border", dark),
        role.Midlight: token("border", dark),
        role.Dark: token("border", dark),
        role.Light: token("base", dark),
        role.Shadow: "#000000",
        role.Accent: token("accent", dark),
    }
    for r, value in colours.items():
        pal.setColor(r, QColor(value))
    disabled = QColor(token("secondary", dark))
    for r in (role.Text, role.WindowText, role.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, r, disabled)
    return pal


def focus_stylesheet(dark: bool) -> str:
    """A visible 2 px focus ring in the accent-text colour (LOOK.md §4) on the flat
    icon buttons, which Fusion would draw without one; Fusion's own ring (the accent)
    marks the other controls."""
    ring = token("link", dark)
    return (
        "QToolButton { border: 2px solid transparent; border-radius: 8px; padding: 4px; }"
        f" QToolButton:hover {{ background: {token('alternate', dark)}; }}"
        f" QToolButton:focus {{ border: 2px solid {ring}; }}"
        f" QToolButton:checked {{ background: {token('border', dark)}; }}"
    )


def card_stylesheet(dark: bool) -> str:
    """The empty state's suggestion cards (LOOK.md §7: radius 12), with the same
    2 px focus ring."""
    return (
        f"QPushButton {{ background: {token('base', dark)}; color: {token('text', dark)};"
        f" border: 1px solid {token('border', dark)}; border-radius: 12px; padding: 8px 12px;"
        " outline: none; }"
        f" QPushButton:hover {{ background: {token('alternate', dark)}; }}"
        f" QPushButton:focus {{ border: 2px solid {token('link', dark)}; }}"
    )
