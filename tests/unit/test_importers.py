"""Importing ChatGPT, Claude and Open WebUI exports (and our own JSON): trees,
versions, shown paths, tool entries, files, re-import, search."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from desktop_agent.storage import Store
from desktop_agent.storage.export import to_json
from desktop_agent.storage.importers import import_file
from tests.support.exports import (
    chatgpt_conversation,
    claude_conversation,
    openwebui_chat,
    write_json,
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "history.db")
    yield s  # type: ignore[misc]
    s.close()


def contents(store: Store, conv: str) -> list[str]:
    return [m.content for m in store.path(conv)]


def test_chatgpt_tree_versions_tools_and_shown_path(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "conversations.json", [chatgpt_conversation()])
    summary = import_file(store, path)
    assert summary.format == "ChatGPT export"
    [(conv, title)] = summary.imported
    assert title == "Sums"
    meta = store.conversation(conv)
    assert meta is not None and (meta.created_at, meta.updated_at) == (99.0, 302.5)
    assert meta.model == "gpt-4o" and meta.system_prompt is None  # hidden system: not kept
    shown = store.path(conv)
    # current_node (a4, not the later a4b) is the shown leaf; the hidden system message
    # and the custom-instructions context are gone, their children re-parented.
    assert [m.role for m in shown] == [
        "user",
        "assistant",
        "tool",
        "assistant",
        "user",
        "assistant",
    ]
    assert shown[0].content == "What is 3+3? Use Python." and shown[0].parent_id is None
    call = shown[1].tool_calls
    assert call is not None and call[0]["name"] == "python"
    assert json.loads(call[0]["arguments"]) == {"code": "print(3+3)"}
    assert (shown[2].tool_name, shown[2].content) == ("python", "6")
    assert shown[2].tool_call_id == call[0]["id"]  # the result answers its call
    assert shown[4].content.startswith("What is in this picture, plus 4+4?")
    assert "[file not in the export: file-Pic123]" in shown[4].content
    assert shown[5].content == "A cat; 8."
    assert [m.created_at for m in shown] == [200, 201, 202, 203, 300, 301]
    versions = store.versions(shown)
    assert versions == {shown[0].id: (2, 2), shown[5].id: (1, 2)}  # two edits, two answers
    # The other branches are there: ◀ on the first message shows the first edit.
    first = store.switch_version(shown[0].id, -1)
    assert first is not None
    assert contents(store, conv) == ["What is 2+2?", "4"]
    assert len(store.messages(conv)) == 9  # 12 nodes - root, system, context
    assert summary.files_missing == ["file-Pic123"]


def test_claude_content_blocks_become_text_and_tool_entries(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "conversations.json", [claude_conversation()])
    summary = import_file(store, path)
    assert summary.format == "Claude export"
    [(conv, title)] = summary.imported
    assert title == "Weather in Lisbon"
    shown = store.path(conv)
    assert [m.role for m in shown] == ["user", "assistant", "tool", "assistant"]
    assert shown[0].content == "What's the weather in Lisbon?"
    assert shown[1].content == "Let me look that up." and shown[1].reasoning == "I should search."
    [call] = shown[1].tool_calls or []
    assert call["name"] == "web_search" and json.loads(call["arguments"]) == {
        "query": "Lisbon weather"
    }
    assert (shown[2].content, shown[2].tool_call_id) == ("Sunny, 21 °C", "toolu_1")
    assert shown[3].content == "It is sunny in Lisbon, about 21 °C."
    assert store.conversation(conv).created_at == 1740823200.0  # type: ignore[union-attr]
    # The model sees a well-formed history (the call, then its result).
    sent = store.model_messages(conv)
    assert sent[2] == {"role": "tool", "content": "Sunny, 21 °C", "tool_call_id": "toolu_1"}


def test_claude_tree_with_parents_keeps_retries_as_versions(store: Store, tmp_path: Path) -> None:
    data = claude_conversation()
    root = "00000000-0000-4000-8000-000000000000"
    data["chat_messages"][0]["parent_message_uuid"] = root
    data["chat_messages"][1]["parent_message_uuid"] = "h1"
    retry = {
        "uuid": "b2",
        "sender": "assistant",
        "text": "Cloudy.",
        "content": [],
        "parent_message_uuid": "h1",
        "created_at": "2025-03-01T10:02:00Z",
    }
    data["chat_messages"].append(retry)
    data["current_leaf_message_uuid"] = "b1"
    [(conv, _t)] = import_file(store, write_json(tmp_path / "c.json", [data])).imported
    shown = store.path(conv)
    assert shown[-1].content == "It is sunny in Lisbon, about 21 °C."  # b1's last part
    assert store.versions(shown)[shown[1].id] == (1, 2)
    store.switch_version(shown[1].id, 1)
    assert contents(store, conv) == ["What's the weather in Lisbon?", "Cloudy."]


def test_openwebui_regenerated_answer_is_a_version(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "chat-export.json", [openwebui_chat()])
    summary = import_file(store, path)
    assert summary.format == "Open WebUI export"
    [(conv, title)] = summary.imported
    assert title == "Primes"
    shown = store.path(conv)
    assert [m.content for m in shown] == ["Name a prime number", "7"]  # currentId
    assert store.versions(shown) == {shown[1].id: (1, 2)}
    assert store.switch_version(shown[1].id, 1) is not None
    assert contents(store, conv) == ["Name a prime number", "Eleven"]
    meta = store.conversation(conv)
    assert meta is not None and meta.model == "llama3:8b"
    assert (meta.created_at, meta.updated_at) == (1700000000, 1700000010)


def test_one_openwebui_chat_object_imports_too(store: Store, tmp_path: Path) -> None:
    path = write_json(tmp_path / "chat.json", openwebui_chat("single"))
    assert len(import_file(store, path).imported) == 1


def test_reimport_adds_nothing_twice(store: Store, tmp_path: Path) -> None:
    items = [chatgpt_conversation("a", "First"), chatgpt_conversation("b", "Second")]
    path = write_json(tmp_path / "conversations.json", items)
    first = import_file(store, path)
    assert [t for _c, t in first.imported] == ["First", "Second"]
    items.append(chatgpt_conversation("c", "Third"))  # a later export: one more
    again = import_file(store, write_json(path, items))
    assert [t for _c, t in again.imported] == ["Third"]
    assert [t for _c, t in again.already_present] == ["First", "Second"]
    assert len(store.conversations()) == 3
    assert "1 imported, 2 already present, 0 skipped" in again.lines()[0]
    # The same id from another app is another conversation.
    other = dict(openwebui_chat("a"))
    assert len(import_file(store, write_json(tmp_path / "o.json", [other])).imported) == 1


def test_our_own_export_imports_with_every_field(store: Store, tmp_path: Path) -> None:
    conv = store.create_conversation(model="m", system_prompt="Be brief.")
    first = store.add_message(conv, "user", "Hi")
    store.add_message(conv, "assistant", "Hello", reasoning="greet")
    store.set_leaf(conv, first)
    store.add_message(conv, "assistant", "Hey", status="cancelled")
    data = to_json(store, conv)
    summary = import_file(store, write_json(tmp_path / "one.json", data))
    assert summary.format == "desktop-agent export"
    [(copy, _t)] = summary.imported
    assert [m.content for m in store.path(copy)] == ["Hi", "Hey"]
    assert store.path(copy)[1].status == "cancelled"
    assert [m.reasoning for m in store.messages(copy)] == ["", "greet", ""]
    assert store.conversation(copy).system_prompt == "Be brief."  # type: ignore[union-attr]
    # Importing the same file again: already present.
    assert import_file(store, tmp_path / "one.json").already_present == [(copy, "Hi")]


def test_imported_conversations_are_searchable(store: Store, tmp_path: Path) -> None:
    items = [chatgpt_conversation(), claude_conversation(), openwebui_chat()]
    for i, item in enumerate(items):
        import_file(store, write_json(tmp_path / f"{i}.json", [item]))
    assert {h.title for h in store.search("sunny lisbon")} == {"Weather in Lisbon"}
    assert [h.title for h in store.search("eleven")] == ["Primes"]  # a non-shown version
    [hit] = store.search("picture")
    assert hit.title == "Sums" and "[picture]" in hit.snippet
    assert [h.title for h in store.search("sums")] == ["Sums"]  # titles too


def test_zip_export_with_its_files(store: Store, tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", json.dumps([chatgpt_conversation()]))
        z.writestr("chat.html", "<html></html>")
        z.writestr("user.json", "{}")
        z.writestr("file-Pic1234-other.png", b"not this one")  # a longer id, same start
        z.writestr("dalle-generations/file-Pic123-cat.png", b"\x89PNG")
    # Without a preparer (storage alone; the app passes one), a file found is listed as
    # not kept and marked in its message (tests/unit/test_import_attachments.py: kept).
    summary = import_file(store, archive)
    [(conv, _t)] = summary.imported
    assert summary.files_not_kept == ["file-Pic123-cat.png"] and summary.files_missing == []
    assert store.path(conv)[4].content.endswith("[file not imported: file-Pic123-cat.png]")


def well_formed(messages: list[dict[str, object]]) -> bool:
    """Every tool call answered right after it, every result answering a call."""
    waiting: list[object] = []
    for m in messages:
        if m["role"] == "tool":
            if m["tool_call_id"] not in waiting:
                return False
            waiting.remove(m["tool_call_id"])
            continue
        if waiting:
            return False
        calls = m.get("tool_calls") or []
        waiting = [c["id"] for c in calls]  # type: ignore[attr-defined]
    return not waiting


def test_tool_calls_and_results_are_paired_for_models(store: Store, tmp_path: Path) -> None:
    from tests.support.exports import _node

    chat = chatgpt_conversation("tools", "Tools")
    mapping = chat["mapping"]
    # a3 now browses: its result is browsing internals (spliced out), then the answer.
    mapping["a3"] = _node(
        "a3",
        "t2",
        ["tb"],
        "assistant",
        t=203,
        recipient="browser",
        content_type="code",
        text="search('cats')",
    )
    mapping["tb"] = _node(
        "tb",
        "a3",
        ["a3x"],
        "tool",
        t=204,
        name="browser",
        content_type="tether_browsing_display",
        text="",
    )
    mapping["a3x"] = _node("a3x", "tb", ["u2"], "assistant", ["Found cats."], t=205)
    mapping["u2"]["parent"] = "a3x"
    # and a result whose call is not in the export, answering the user directly
    mapping["a4"] = _node(
        "a4",
        "u2",
        [],
        "tool",
        t=301,
        name="dalle.text2im",
        content_type="text",
        text="(image made)",
    )
    data = claude_conversation("two-calls")
    blocks = data["chat_messages"][1]["content"]
    second = {"type": "tool_use", "id": "toolu_2", "name": "web_search", "input": {"q": "x"}}
    result_2 = {"type": "tool_result", "tool_use_id": "toolu_2", "content": "Rain later"}
    blocks.insert(3, second)  # thinking, text, use 1, use 2, result 1 ...
    blocks.insert(5, result_2)  # ... result 2, then the text
    write_json(tmp_path / "chatgpt.json", [chat])
    write_json(tmp_path / "claude.json", [data])
    [(gpt, _t)] = import_file(store, tmp_path / "chatgpt.json").imported
    [(cl, _t)] = import_file(store, tmp_path / "claude.json").imported
    shown = store.path(gpt)
    assert [(m.role, m.content) for m in shown[3:]] == [
        ("assistant", ""),  # the browser call
        ("tool", "(no result in the export)"),
        ("assistant", "Found cats."),
        ("user", shown[6].content),
        ("assistant", ""),  # a call made up for the result without one
        ("tool", "(image made)"),
    ]
    assert shown[7].tool_calls[0]["name"] == "dalle.text2im"  # type: ignore[index]
    assert well_formed(store.model_messages(gpt))  # type: ignore[arg-type]
    claude_path = store.path(cl)
    assert [m.role for m in claude_path] == ["user", "assistant", "tool", "tool", "assistant"]
    assert [c["id"] for c in claude_path[1].tool_calls or []] == ["toolu_1", "toolu_2"]
    assert [m.content for m in claude_path[2:4]] == ["Sunny, 21 °C", "Rain later"]
    assert well_formed(store.model_messages(cl))  # type: ignore[arg-type]


def test_chatgpt_reasoning_summaries_become_the_answers_reasoning(
    store: Store, tmp_path: Path
) -> None:
    from tests.support.exports import _node

    chat = chatgpt_conversation("o3", "Thinking")
    mapping = chat["mapping"]
    thinking = _node("th", "u1", ["recap"], "assistant", t=100.5, content_type="thoughts")
    thinking["message"]["content"] = {
        "content_type": "thoughts",
        "thoughts": [{"summary": "Adding", "content": "Two plus two is four."}],
    }
    analysis = _node("an", "th", ["recap"], "assistant", ["Check: 2+2=4."], t=100.55)
    analysis["message"]["channel"] = "analysis"
    recap = _node("recap", "an", ["a1"], "assistant", t=100.6, content_type="reasoning_recap")
    recap["message"]["content"] = {"content_type": "reasoning_recap", "content": "Thought for 2s"}
    mapping.update({"th": thinking, "an": analysis, "recap": recap})
    mapping["u1"]["children"] = ["th"]
    mapping["a1"]["parent"] = "recap"
    chat["current_node"] = "a1"
    [(conv, _t)] = import_file(store, write_json(tmp_path / "c.json", [chat])).imported
    shown = store.path(conv)
    assert [m.content for m in shown] == ["What is 2+2?", "4"]
    assert shown[1].reasoning == "Adding\nTwo plus two is four.\n\nCheck: 2+2=4."
    assert shown[1].parent_id == shown[0].id


def test_progress_reports_bytes_and_conversations(store: Store, tmp_path: Path) -> None:
    items = [chatgpt_conversation(str(i), f"Conversation {i}") for i in range(5)]
    path = write_json(tmp_path / "conversations.json", items)
    seen: list[tuple[int, int, int]] = []
    import_file(store, path, progress=lambda read, total, done: seen.append((read, total, done)))
    size = path.stat().st_size
    assert [done for _r, _t, done in seen] == [1, 2, 3, 4, 5]
    assert all(total == size for _r, total, _d in seen)
    reads = [read for read, _t, _d in seen]
    assert reads == sorted(reads) and reads[-1] == size
    stop_after: list[int] = []
    summary = import_file(
        store,
        write_json(tmp_path / "more.json", [chatgpt_conversation(f"m{i}") for i in range(5)]),
        progress=lambda _r, _t, done: stop_after.append(done),
        should_stop=lambda: len(stop_after) >= 2,
    )
    assert len(summary.imported) == 2 and summary.error == "stopped before the end of the file"
