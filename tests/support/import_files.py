"""Exports that carry images and files, built from each format's documented shape:

* a ChatGPT `.zip`: a user message with two `image_asset_pointer` parts (one in the
  archive as "file-Pic123-holiday.jpg", named by `metadata.attachments`; one
  `sediment://` pointer with a query string that is not in the archive), a PDF
  upload listed only in `metadata.attachments`, and a DALL·E image in a tool
  message; optionally a decompression bomb in a second message;
* a Claude export: a human message whose `attachments` entry has `extracted_content`
  and whose `files` entry names an image the export does not hold;
* an Open WebUI chat: a user message with a `data:` URL image in `files`, and one
  with a Markdown `data:` image in its text.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from tests.support.attach_files import jpeg_with_gps, pdf, png
from tests.support.exports import _node


def bomb_png() -> bytes:
    """A 12000×12000 PNG of a few KB (144 MP: over the decode limit)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12000, 12000)).save(out, "PNG")
    return out.getvalue()


def _user_with_images(node_id: str, parent: str, children: list[str], t: float) -> dict[str, Any]:
    node = _node(
        node_id,
        parent,
        children,
        "user",
        [
            {
                "content_type": "image_asset_pointer",
                "asset_pointer": "file-service://file-Pic123",
                "size_bytes": 1234,
                "width": 3000,
                "height": 1000,
            },
            {
                "content_type": "image_asset_pointer",
                "asset_pointer": "sediment://file_00000000gone?shared_conversation_id=abc",
                "size_bytes": 99,
                "width": 10,
                "height": 10,
            },
            "What is in these pictures? And summarise the report.",
        ],
        t=t,
        content_type="multimodal_text",
    )
    node["message"]["metadata"]["attachments"] = [
        {"id": "file-Pic123", "name": "holiday.jpg", "mime_type": "image/jpeg"},
        {"id": "file-Doc9", "name": "report.pdf", "mime_type": "application/pdf"},
    ]
    return node


def chatgpt_with_files(conv_id: str = "conv-files", *, bomb: bool = False) -> dict[str, Any]:
    mapping = [
        _node("root", None, ["u1"], None),
        _user_with_images("u1", "root", ["a1"], 100),
        _node("a1", "u1", ["t1"], "assistant", ["Here is a drawing too."], t=101),
        _node(
            "t1",
            "a1",
            ["u2"],
            "tool",
            [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-Gen1"}],
            t=102,
            content_type="multimodal_text",
            name="dalle.text2im",
        ),
    ]
    last = "t1"
    if bomb:
        mapping[-1]["children"] = ["u2"]
        bomb_node = _node(
            "u2",
            "t1",
            [],
            "user",
            [{"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-Bomb"}],
            t=103,
            content_type="multimodal_text",
        )
        bomb_node["message"]["metadata"]["attachments"] = [{"id": "file-Bomb", "name": "huge.png"}]
        mapping.append(bomb_node)
        last = "u2"
    else:
        mapping[-1]["children"] = []
    return {
        "title": "Pictures",
        "create_time": 100.0,
        "update_time": 103.0,
        "mapping": {n["id"]: n for n in mapping},
        "current_node": last,
        "conversation_id": conv_id,
        "id": conv_id,
    }


def chatgpt_zip(path: Path, conversations: list[dict[str, Any]], *, bomb: bool = False) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("conversations.json", json.dumps(conversations))
        z.writestr("chat.html", "<html></html>")
        z.writestr("file-Pic123-holiday.jpg", jpeg_with_gps())
        z.writestr("file-Doc9-report.pdf", pdf(["Quarterly figures: 42 units.", None]))
        z.writestr("dalle-generations/file-Gen1-3f2a.webp", png(32, 32))
        if bomb:
            z.writestr("file-Bomb-huge.png", bomb_png())
    return path


def claude_with_attachment(uuid: str = "claude-files") -> dict[str, Any]:
    return {
        "uuid": uuid,
        "name": "Notes",
        "created_at": "2025-01-02T10:00:00Z",
        "updated_at": "2025-01-02T10:01:00Z",
        "chat_messages": [
            {
                "uuid": "h1",
                "sender": "human",
                "text": "Summarise my notes.",
                "content": [{"type": "text", "text": "Summarise my notes."}],
                "created_at": "2025-01-02T10:00:00Z",
                "attachments": [
                    {
                        "file_name": "notes.md",
                        "file_size": 40,
                        "file_type": "text/markdown",
                        "extracted_content": "# Notes\nBuy milk. Call Ana.",
                    }
                ],
                "files": [{"file_name": "whiteboard.png", "file_uuid": "f-1"}],
            },
            {
                "uuid": "a1",
                "sender": "assistant",
                "text": "Milk, and a call to Ana.",
                "content": [{"type": "text", "text": "Milk, and a call to Ana."}],
                "created_at": "2025-01-02T10:00:30Z",
                "attachments": [],
                "files": [],
            },
        ],
    }


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def openwebui_with_image(chat_id: str = "owui-files") -> dict[str, Any]:
    messages = {
        "u1": {
            "id": "u1",
            "parentId": None,
            "childrenIds": ["a1"],
            "role": "user",
            "content": "What colour is this?",
            "timestamp": 1700000000,
            "files": [{"type": "image", "url": data_url(png(300, 200, (0, 200, 0)))}],
        },
        "a1": {
            "id": "a1",
            "parentId": "u1",
            "childrenIds": ["u2"],
            "role": "assistant",
            "content": "Green.",
            "timestamp": 1700000001,
            "model": "llama3",
        },
        "u2": {
            "id": "u2",
            "parentId": "a1",
            "childrenIds": [],
            "role": "user",
            "content": f"And this one?\n\n![chart]({data_url(png(20, 10, (200, 0, 0)))})",
            "timestamp": 1700000002,
            "files": [{"type": "file", "name": "slides.pptx", "url": "/api/v1/files/abc"}],
        },
    }
    return {
        "id": chat_id,
        "title": "Colours",
        "created_at": 1700000000,
        "updated_at": 1700000002,
        "chat": {"models": ["llama3"], "history": {"messages": messages, "currentId": "u2"}},
    }
