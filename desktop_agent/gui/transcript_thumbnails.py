"""Thumbnails of a user message's images, put into the transcript's document from
the app's own store (or the attachments just sent), and the full-size viewer they
open. The transcript loads nothing by itself: these are added as resources under a
name made with its random scheme (`transcript/attachments.thumb_url`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument

from .transcript.attachments import THUMB_SIDE, thumb_url

__all__ = [
    "AttachmentBytes",
    "add_thumbnails",
    "remember",
    "remember_thumbnail",
    "thumbnail_of",
]


#: The images sent lately in this process (a session without history has no store to
#: read them back from): sha256 -> bytes, the last `_KEEP`.
_RECENT: OrderedDict[str, bytes] = OrderedDict()
_KEEP = 32


def remember(sha256: str, data: bytes) -> None:
    """Keep an image just sent, for its thumbnail and the viewer."""
    _RECENT[sha256] = data
    _RECENT.move_to_end(sha256)
    while len(_RECENT) > _KEEP:
        _RECENT.popitem(last=False)


#: Thumbnails made while attaching (in the worker thread): sha256 -> QImage.
_THUMBS: OrderedDict[str, QImage] = OrderedDict()


def thumbnail_pixels(data: bytes) -> tuple[int, int, bytes] | None:
    """A `THUMB_SIDE` thumbnail as (width, height, RGBA bytes), made with Pillow, which
    lets other threads run while it decodes and scales (QImage.fromData holds the GIL:
    ~70 ms for a 2048 px JPEG, a stall of the GUI thread). For a worker thread."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (THUMB_SIDE * 2, THUMB_SIDE * 2))  # JPEG: decode at 1/8
            image.thumbnail((THUMB_SIDE, THUMB_SIDE))
            rgba = image.convert("RGBA")
            return rgba.width, rgba.height, rgba.tobytes()
    except (OSError, ValueError, SyntaxError):
        return None


def image_from_pixels(pixels: tuple[int, int, bytes]) -> QImage:
    """The QImage of `thumbnail_pixels` (a copy that owns its memory)."""
    width, height, data = pixels
    return QImage(data, width, height, width * 4, QImage.Format.Format_RGBA8888).copy()


def thumbnail_of(sha256: str, data: bytes) -> QImage | None:
    """The thumbnail made when it was attached, else one made now."""
    image = _THUMBS.get(sha256)
    if image is None:
        pixels = thumbnail_pixels(data)
        image = image_from_pixels(pixels) if pixels is not None else None
    return image


def remember_thumbnail(sha256: str, image: QImage) -> None:
    _THUMBS[sha256] = image
    _THUMBS.move_to_end(sha256)
    while len(_THUMBS) > _KEEP:
        _THUMBS.popitem(last=False)


class AttachmentBytes:
    """Where an attachment's bytes come from: the ones just sent, then the store."""

    def __init__(self, store: Callable[[], Any]) -> None:
        self._store = store

    def get(self, sha256: str) -> bytes | None:
        data = _RECENT.get(sha256)
        if data is not None:
            return data
        store = self._store()
        found = store.blob(sha256) if store is not None else None
        return found[0] if found is not None else None


def add_thumbnails(transcript: Any, refs: list[dict[str, Any]], source: AttachmentBytes) -> None:
    """Put the thumbnails of `refs`' images into `transcript`'s document."""
    document: QTextDocument = transcript.document()
    added: set[str] = transcript.__dict__.setdefault("_thumbnails_added", set())
    for ref in refs:
        sha = str(ref.get("sha256") or "")
        if ref.get("kind") != "image" or not sha or sha in added:
            continue
        added.add(sha)
        url = QUrl(thumb_url(transcript.links, sha))
        image = _THUMBS.get(sha)
        if image is None:  # Pillow, not QImage.fromData: a JPEG decodes at 1/8 (draft)
            data = source.get(sha)
            image = thumbnail_of(sha, data) if data else None
        if image is None:
            from PySide6.QtCore import Qt  # here, not at import: see app.py (start-up)

            image = QImage(THUMB_SIDE // 2, THUMB_SIDE // 2, QImage.Format.Format_RGB32)
            image.fill(Qt.GlobalColor.lightGray)  # (missing from the store: a grey square)
        document.addResource(QTextDocument.ResourceType.ImageResource, url, image)
