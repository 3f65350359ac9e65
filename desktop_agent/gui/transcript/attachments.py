"""Attachments under a user message in the transcript: thumbnails of its images (a
link that opens the picture in the app) and the names of its documents.

The thumbnails are put into the document as resources (`QTextDocument.addResource`)
under `<the transcript's random scheme>:thumb/<sha256>`: only the app can name
them, and `Transcript.loadResource` still loads nothing at all. HTML only here.
"""

from __future__ import annotations

import html
from typing import Any

from .links import AppLinks

__all__ = ["THUMB_SIDE", "attachments_html", "thumb_url"]

#: The longest side of a thumbnail in the transcript, in pixels.
THUMB_SIDE = 120


def thumb_url(links: AppLinks, sha256: str) -> str:
    """The resource name of an image's thumbnail (never loaded: added by the app)."""
    return f"{links.scheme}:thumb/{sha256}"


def attachments_html(refs: list[dict[str, Any]], links: AppLinks, muted: str) -> str:
    """A row of thumbnails (each a link to the full picture) and document names."""
    if not refs:
        return ""
    pieces = []
    for ref in refs:
        name = html.escape(str(ref.get("name") or "file"))
        sha = str(ref.get("sha256") or "")
        if ref.get("kind") == "image" and sha:
            src = html.escape(thumb_url(links, sha))
            pieces.append(
                f'<a href="{links.href("view", sha, str(ref.get("name") or ""))}">'
                f'<img src="{src}" alt="{name}" title="{name}"></a>'
            )
        else:
            pieces.append(f'<span style="color:{muted};">[file: {name}]</span>')
    return '<p style="margin:0;">' + " &nbsp; ".join(pieces) + "</p>"
