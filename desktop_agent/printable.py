"""Text from a model, a tool, a server or an imported file, made safe to print on a
terminal.

A terminal obeys control characters wherever they come from: ESC and the 8-bit
CSI/OSC (0x9b, 0x9d) start sequences that set the window title, write the
clipboard (OSC 52), hide text or move the cursor over what was shown; BEL and CR
do their own mischief. `printable` drops every C0 and C1 control character and
DEL, keeping only newline and tab. `json_line` keeps the text whole but escapes
what `json.dumps(ensure_ascii=False)` leaves raw (DEL and C1).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["json_line", "printable"]

_KEPT = {ord("\n"), ord("\t")}
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0)]
_DROP: dict[int, None] = {c: None for c in _CONTROLS if c not in _KEPT}
_ESCAPE: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x7F, 0xA0)}


def printable(text: str) -> str:
    """`text` without control characters (newline and tab stay)."""
    return text.translate(_DROP)


def json_line(value: Any) -> str:
    """`value` as one line of JSON with no raw control character in it (non-ASCII
    text stays readable)."""
    # json.dumps escapes 0x00-0x1f itself; DEL and C1 occur only inside strings,
    # where \\uXXXX is the same character to any JSON reader.
    return json.dumps(value, ensure_ascii=False).translate(_ESCAPE)
