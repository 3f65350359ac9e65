"""The window's keys: each sequence does one thing, and the F1 list names them all.

Two actions on one key make Qt fire neither ("ambiguous shortcut"), silently: this
happened when compaction took Ctrl+Shift+K, already the message search.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

from desktop_agent.gui.shortcuts import ACTIONS, SHORTCUTS


def _normal(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.PortableText)


def test_no_key_sequence_is_bound_to_two_actions() -> None:
    owner: dict[str, str] = {}
    for name, (_text, keys) in ACTIONS.items():
        for key in keys:
            seq = _normal(key)
            assert seq not in owner, f"{key} is bound to {owner[seq]!r} and {name!r}"
            owner[seq] = name


def test_the_f1_list_names_each_key_once() -> None:
    listed = [keys for keys, _what in SHORTCUTS]
    assert len(listed) == len(set(listed)), sorted(k for k in listed if listed.count(k) > 1)
