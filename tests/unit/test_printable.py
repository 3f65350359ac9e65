"""The terminal sanitiser: control characters out, text and markup kept."""

from __future__ import annotations

import json

from desktop_agent.printable import json_line, printable


def test_printable_drops_every_control_character_but_newline_and_tab() -> None:
    hostile = "a\x1b]52;c;ZXZpbA==\x07b\x1b[8mc\x9b31md\x9d0;t\x9ce\x7ff\r\n\tg\x00\x08"
    assert printable(hostile) == "a]52;c;ZXZpbA==b[8mc31md0;tef\n\tg"
    assert all(
        printable(chr(c)) == "" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (9, 10)
    )
    text = "Ünïcode — 漢字 [link=file:///etc/passwd]x[/link] \u00a0 ok\n"
    assert printable(text) == text  # printable text (and rich markup) is left alone


def test_json_line_escapes_del_and_c1_and_reads_back_the_same() -> None:
    value = {"chunk": "x\x1b]0;t\x07\x9b31m\x7f é"}
    line = json_line(value)
    assert not [c for c in line if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
    assert "é" in line
    assert json.loads(line) == value
