"""Colours: the app's light and dark palettes (LOOK.md's tokens, on Fusion). The
transcript's colours, derived from the palette in force, are in colors.py."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

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
