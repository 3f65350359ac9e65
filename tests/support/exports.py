"""Exports of other apps, built from each format's documented shape, for the import
tests and the import benchmark.

* ChatGPT (`conversations.json`): a `mapping` of nodes {id, parent, children,
  message: {author: {role, name}, create_time, content: {content_type, parts},
  recipient, metadata: {is_visually_hidden_from_conversation}}}, `current_node`.
* Claude (`conversations.json`): {uuid, name, created_at, updated_at,
  chat_messages: [{uuid, sender, text, content: [blocks], created_at}]}.
* Open WebUI: [{id, title, chat: {history: {messages: {id: {parentId, childrenIds,
  role, content, timestamp}}, currentId}}, created_at, updated_at}].
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _node(
    node_id: str,
    parent: str | None,
    children: list[str],
    role: str | None,
    parts: list[Any] | None = None,
    *,
    t: float = 0.0,
    content_type: str = "text",
    hidden: bool = False,
    recipient: str = "all",
    name: str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    if role is None:
        return {"id": node_id, "message": None, "parent": parent, "children": children}
    content: dict[str, Any] = {"content_type": content_type}
    if text is not None:
        content["text"] = text
    else:
        content["parts"] = parts or []
    metadata: dict[str, Any] = {"model_slug": "gpt-4o"} if role == "assistant" else {}
    if hidden:
        metadata["is_visually_hidden_from_conversation"] = True
    return {
        "id": node_id,
        "parent": parent,
        "children": children,
        "message": {
            "id": node_id,
            "author": {"role": role, "name": name, "metadata": {}},
            "create_time": t or None,
            "update_time": None,
            "content": content,
            "status": "finished_successfully",
            "end_turn": True,
            "weight": 1.0 if not hidden else 0.0,
            "metadata": metadata,
            "recipient": recipient,
        },
    }


def chatgpt_conversation(conv_id: str = "conv-1", title: str = "Sums") -> dict[str, Any]:
    """Root -> hidden system -> hidden custom instructions -> two edited versions of
    the first question; the second branch runs the code interpreter, then a
    question with an image, answered twice (regenerated). `current_node` is the
    first of those two answers (not the latest)."""
    nodes = [
        _node("root", None, ["sys"], None),
        _node("sys", "root", ["ctx"], "system", [""], t=99, hidden=True),
        _node(
            "ctx",
            "sys",
            ["u1", "u1b"],
            "user",
            t=99.5,
            content_type="user_editable_context",
            hidden=True,
            text="",
        ),
        _node("u1", "ctx", ["a1"], "user", ["What is 2+2?"], t=100),
        _node("a1", "u1", [], "assistant", ["4"], t=101),
        _node("u1b", "ctx", ["a2"], "user", ["What is 3+3? Use Python."], t=200),
        _node(
            "a2",
            "u1b",
            ["t2"],
            "assistant",
            t=201,
            content_type="code",
            recipient="python",
            text="print(3+3)",
        ),
        _node(
            "t2",
            "a2",
            ["a3"],
            "tool",
            t=202,
            content_type="execution_output",
            name="python",
            text="6",
        ),
        _node("a3", "t2", ["u2"], "assistant", ["It is 6."], t=203),
        _node(
            "u2",
            "a3",
            ["a4", "a4b"],
            "user",
            [
                {
                    "content_type": "image_asset_pointer",
                    "asset_pointer": "file-service://file-Pic123",
                    "size_bytes": 3,
                    "width": 1,
                    "height": 1,
                },
                "What is in this picture, plus 4+4?",
            ],
            t=300,
            content_type="multimodal_text",
        ),
        _node("a4", "u2", [], "assistant", ["A cat; 8."], t=301),
        _node("a4b", "u2", [], "assistant", ["Eight, and a cat."], t=302),
    ]
    return {
        "title": title,
        "create_time": 99.0,
        "update_time": 302.5,
        "mapping": {n["id"]: n for n in nodes},
        "moderation_results": [],
        "current_node": "a4",
        "plugin_ids": None,
        "conversation_id": conv_id,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": "gpt-4o",
        "id": conv_id,
    }


def chatgpt_simple(conv_id: str, title: str, words: str, turns: int = 3) -> dict[str, Any]:
    """A plain chain of `turns` question/answer pairs (for volume)."""
    nodes = [_node("root", None, ["m0"], None)]
    parent = "root"
    for i in range(turns * 2):
        node_id = f"m{i}"
        role = "user" if i % 2 == 0 else "assistant"
        nodes.append(
            _node(
                node_id,
                parent,
                [f"m{i + 1}"] if i < turns * 2 - 1 else [],
                role,
                [f"{words} {i}"],
                t=1000 + i,
            )
        )
        parent = node_id
    return {
        "title": title,
        "create_time": 1000.0,
        "update_time": 1000.0 + turns * 2,
        "mapping": {n["id"]: n for n in nodes},
        "current_node": parent,
        "conversation_id": conv_id,
        "id": conv_id,
    }


def claude_conversation(uuid: str = "claude-1") -> dict[str, Any]:
    return {
        "uuid": uuid,
        "name": "Weather in Lisbon",
        "created_at": "2025-03-01T10:00:00.000000Z",
        "updated_at": "2025-03-01T10:01:00.000000Z",
        "account": {"uuid": "acct-1"},
        "chat_messages": [
            {
                "uuid": "h1",
                "text": "What's the weather in Lisbon?",
                "content": [{"type": "text", "text": "What's the weather in Lisbon?"}],
                "sender": "human",
                "created_at": "2025-03-01T10:00:00.000000Z",
                "updated_at": "2025-03-01T10:00:00.000000Z",
                "attachments": [],
                "files": [],
            },
            {
                "uuid": "b1",
                "text": "",
                "content": [
                    {"type": "thinking", "thinking": "I should search."},
                    {"type": "text", "text": "Let me look that up."},
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "web_search",
                        "input": {"query": "Lisbon weather"},
                    },
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_1",
                        "name": "web_search",
                        "content": [{"type": "text", "text": "Sunny, 21 °C"}],
                        "is_error": False,
                    },
                    {"type": "text", "text": "It is sunny in Lisbon, about 21 °C."},
                ],
                "sender": "assistant",
                "created_at": "2025-03-01T10:00:30.000000Z",
                "updated_at": "2025-03-01T10:00:30.000000Z",
                "attachments": [],
                "files": [],
            },
        ],
    }


def openwebui_chat(chat_id: str = "owui-1") -> dict[str, Any]:
    """A question answered twice (regenerated); the first answer is the one shown."""
    messages = {
        "u1": {
            "id": "u1",
            "parentId": None,
            "childrenIds": ["a1", "a1b"],
            "role": "user",
            "content": "Name a prime number",
            "timestamp": 1700000000,
            "models": ["llama3:8b"],
        },
        "a1": {
            "id": "a1",
            "parentId": "u1",
            "childrenIds": [],
            "role": "assistant",
            "content": "7",
            "model": "llama3:8b",
            "timestamp": 1700000005,
            "done": True,
        },
        "a1b": {
            "id": "a1b",
            "parentId": "u1",
            "childrenIds": [],
            "role": "assistant",
            "content": "Eleven",
            "model": "llama3:8b",
            "timestamp": 1700000010,
            "done": True,
        },
    }
    return {
        "id": chat_id,
        "user_id": "user-1",
        "title": "Primes",
        "chat": {
            "id": "",
            "title": "Primes",
            "models": ["llama3:8b"],
            "params": {},
            "history": {"messages": messages, "currentId": "a1"},
            "messages": [messages["u1"], messages["a1"]],
            "tags": [],
            "timestamp": 1700000000000,
        },
        "updated_at": 1700000010,
        "created_at": 1700000000,
        "share_id": None,
        "archived": False,
    }


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_big_chatgpt(path: Path, conversations: int, target_bytes: int) -> int:
    """A ChatGPT export of `conversations` chains about `target_bytes` in all,
    written one conversation at a time; returns its size."""
    per = max(target_bytes // conversations, 2000)
    words = "lorem ipsum dolor sit amet consectetur " * 8  # ~320 chars
    one = len(json.dumps(chatgpt_simple("x", "x", words, 1)))
    two = len(json.dumps(chatgpt_simple("x", "x", words, 2)))
    turns = max(1, (per - one) // (two - one) + 1)
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for i in range(conversations):
            if i:
                out.write(",")
            out.write(json.dumps(chatgpt_simple(f"big-{i}", f"Conversation {i}", words, turns)))
        out.write("]")
    return path.stat().st_size
