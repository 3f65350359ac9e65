"""The transcript's entries as HTML, without a window: every text is escaped, and
an id (anyone's) reaches the HTML only inside the transcript's own links, from
which it reads back exactly."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from desktop_agent.gui.transcript.entries import (
    RESULT_PREVIEW_CHARS,
    Entry,
    approval_html,
    assistant_header_html,
    entry_html,
    finish_note_html,
    tool_html,
)
from desktop_agent.gui.transcript.links import DECISIONS, AppLinks
from desktop_agent.gui.transcript.palette import TranscriptTheme as Theme

THEME = Theme(
    dark=False,
    text="#000000",
    muted="#777777",
    base="#ffffff",
    user_bg="#eef",
    user_border="#00f",
    tool_bg="#f4f4f4",
    error_bg="#fee",
    error_border="#c00",
    error_text="#900",
    code_bg="#f0f0f0",
    border="#ccc",
    link="#06c",
    ok="#080",
    approval_bg="#ffe",
)
LINKS = AppLinks("da-0123456789abcdef01234567")
HOSTILE = '</p><script>alert("x")</script><a href="file:///etc/passwd">&amp; y</a>'
HOSTILE_ID = 'call_A?always#"><b>x</b>/../approve/k/allow'
#: What the renderers may produce; nothing else gets in.
TAGS = {"p", "b", "i", "span", "a", "pre", "br", "table", "tr", "td"}  # (td: a button)


class Parsed(HTMLParser):
    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.text = ""
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]

    def handle_data(self, data: str) -> None:
        self.text += data


def hostile(kind: str, **fields: Any) -> Entry:
    """An entry hostile in every text and id it has."""
    if kind in ("tool", "approval"):
        fields.update(tool_name=HOSTILE, arguments={HOSTILE: HOSTILE})
    return Entry(kind=kind, key=HOSTILE_ID, pos=0, source=HOSTILE, versions=(2, 3), **fields)


def hostile_entries() -> list[Entry]:
    """One entry of each kind (and state)."""
    return [
        hostile("user", editable=True),
        hostile("notice"),
        hostile("error", retry=True),
        hostile("tool", running=True),
        hostile("tool", error=HOSTILE),
        hostile("tool", result=HOSTILE * 100, expanded=True),
        hostile("approval", call_id=HOSTILE_ID),
        hostile("approval", call_id=HOSTILE_ID, outcome=HOSTILE),
    ]


def render(entry: Entry) -> str:
    return entry_html(entry, THEME, LINKS)


@pytest.mark.parametrize("entry", hostile_entries(), ids=lambda e: e.kind)
def test_hostile_text_in_every_kind_is_shown_as_text(entry: Entry) -> None:
    parsed = Parsed(render(entry))
    assert set(parsed.tags) <= TAGS
    assert "script" not in parsed.tags
    assert HOSTILE in parsed.text  # shown, character for character
    for href in parsed.hrefs:
        assert href.startswith(LINKS.scheme + ":")  # no link of the text's own


@pytest.mark.parametrize("entry", hostile_entries(), ids=lambda e: e.kind)
def test_a_hostile_id_reaches_html_only_inside_links_that_read_back_exactly(entry: Entry) -> None:
    markup = render(entry)
    parsed = Parsed(markup)
    assert "<b>x</b>" not in markup
    assert HOSTILE_ID not in parsed.text  # never shown, never markup
    for href in parsed.hrefs:
        read = LINKS.parse(href)
        assert read is not None, href
        _action, key, _arg = read
        assert key in (HOSTILE_ID, "")  # retry has no key; every other one is this entry's


def test_an_assistant_header_escapes_label_and_reasoning() -> None:
    entry = Entry(
        kind="assistant",
        key=HOSTILE_ID,
        pos=0,
        label=HOSTILE,
        reasoning=HOSTILE,
        reasoning_open=True,
        versions=(1, 2),
    )
    parsed = Parsed(assistant_header_html(entry, THEME, LINKS))
    assert set(parsed.tags) <= TAGS
    assert parsed.text.count(HOSTILE) == 2
    read = [LINKS.parse(href) for href in parsed.hrefs]
    assert read == [("version", HOSTILE_ID, "next"), ("toggle", HOSTILE_ID, "reasoning")]


def test_a_pending_card_answers_exactly_its_call_and_a_resolved_one_has_no_links() -> None:
    card = Entry(kind="approval", key="approval:x", pos=0, tool_name="save", call_id=HOSTILE_ID)
    parsed = Parsed(approval_html(card, THEME, LINKS))
    assert [LINKS.parse(href) for href in parsed.hrefs] == [
        ("approve", HOSTILE_ID, decision) for decision in DECISIONS
    ]
    card.outcome = "deny"
    parsed = Parsed(approval_html(card, THEME, LINKS))
    assert parsed.hrefs == []
    assert "Denied" in parsed.text


def test_versions_and_edit_links_only_where_they_lead_somewhere() -> None:
    user = Entry(kind="user", key="u", pos=0, source="hi", versions=(1, 1), editable=False)
    assert Parsed(render(user)).hrefs == []  # ◀ 1/1 ▶ shown, nothing to click
    user.versions, user.editable = (2, 3), True
    read = [LINKS.parse(href) for href in Parsed(render(user)).hrefs]
    assert read == [("version", "u", "prev"), ("version", "u", "next"), ("edit", "u", "")]


def test_a_long_tool_result_is_previewed_and_binary_is_described() -> None:
    result = "r" * (RESULT_PREVIEW_CHARS * 3)
    entry = Entry(kind="tool", key="c", pos=0, tool_name="t", result=result, expanded=True)
    parsed = Parsed(tool_html(entry, THEME, LINKS))
    assert parsed.text.count("r") < RESULT_PREVIEW_CHARS + 100
    assert f"show all {len(result):,} characters" in parsed.text
    entry.show_full = True
    assert result in Parsed(tool_html(entry, THEME, LINKS)).text
    entry.result = "\x00\x01\x02" * 1000
    assert (
        "[binary data, 3,000 characters, not shown]" in Parsed(tool_html(entry, THEME, LINKS)).text
    )


def test_an_early_stop_is_noted_and_a_good_end_is_not() -> None:
    assert finish_note_html("stop", THEME) == finish_note_html(None, THEME) == ""
    assert "cut short" in finish_note_html("length", THEME)
    assert "stopped" in finish_note_html("cancelled", THEME)


def test_app_links_read_back_only_their_own() -> None:
    href = LINKS.make("approve", HOSTILE_ID, "always")
    assert LINKS.parse(href) == ("approve", HOSTILE_ID, "always")
    other = AppLinks()
    assert other.scheme != LINKS.scheme and other.scheme.startswith("da-")
    assert other.parse(href) is None  # another transcript's link
    assert LINKS.parse(f"{LINKS.scheme}:launch/k/a") is None  # not an action
    assert LINKS.parse(f"{LINKS.scheme}:approve/k") is None  # not three parts
    assert LINKS.parse("approve:call_A?always") is None
    assert LINKS.parse("https://example.org/approve/k/allow") is None
