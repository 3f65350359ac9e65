"""Ways files get into the composer: the paperclip button and Ctrl+U (a file dialog,
several files), drag and drop onto the window, paste (image data, copied files).

Reading and preparing (decoding, scaling, encoding, PDF text) run in a worker
thread (`asyncio.to_thread`): the window keeps painting while a 50 MB photo is
read, and its chip shows how much has been read. A file that cannot be attached
is a notice naming it; the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QToolButton, QWidget

from .attachment_chips import AttachmentChip, AttachmentTray

if TYPE_CHECKING:  # (asyncio and the classes used only on demand: after the first
    import asyncio  # paint, see app.py: each Qt class imported builds its enum types)

    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    from ..app.attachments import Attachment, AttachmentLimits

__all__ = ["AttachInput", "attach_button", "send_with_attachments", "settings_limits"]

_log = logging.getLogger(__name__)

#: Files read in pieces of this size (progress is reported per piece).
CHUNK = 1 << 20


def settings_limits() -> AttachmentLimits:
    """The attachment limits of the settings file ("attachments" section)."""
    from ..app.attachments import AttachmentLimits
    from ..app.settings import load_settings

    return AttachmentLimits.from_settings(load_settings())


def attach_button(parent: QWidget) -> QToolButton:
    """The paperclip (its icon: `attach_icon`, after the first paint)."""
    button = QToolButton(parent)
    button.setText("Attach")
    button.setObjectName("attachButton")
    button.setAccessibleName("Attach files")
    button.setToolTip("Attach files: images, PDFs, text and code (Ctrl+U)")
    button.setMinimumHeight(40)
    return button


def attach_icon(button: QToolButton) -> None:
    """The paperclip's icon: a standard one (an emoji paperclip is a box on systems
    without an emoji font). After the first paint: Python's first touch of `QStyle`
    builds its enum types, ~5 ms."""
    from PySide6.QtWidgets import QStyle

    button.setIcon(button.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))


def read_in_pieces(path: Path, limit: int, progress: Callable[[float], None]) -> bytes:
    """A file's bytes, read in `CHUNK`s (calling `progress(fraction)`); refused when it
    is over `limit` bytes (checked first, and again while reading)."""
    from ..app.attachments import AttachmentError, human_size

    if not path.is_file():  # a folder, a device, a pipe (which would block forever)
        raise AttachmentError(f"{path.name}: not a regular file; it cannot be attached.")
    size = path.stat().st_size
    if size > limit:
        raise AttachmentError(
            f"{path.name} is {human_size(size)}; files up to {human_size(limit)} can be attached."
        )
    parts: list[bytes] = []
    done = 0
    with path.open("rb") as handle:
        while piece := handle.read(CHUNK):
            done += len(piece)
            if done > limit:
                raise AttachmentError(f"{path.name} grew past {human_size(limit)} while read.")
            parts.append(piece)
            if size > 4 * CHUNK:
                progress(done / size)
    return b"".join(parts)


def _png_bytes(image: QImage) -> bytes:
    """An image as PNG (in the worker thread: QImage is reentrant)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # (the stubs want bytes)
    buffer.close()
    return bytes(array.data())


class AttachInput(QObject):
    """Args:
    window: where files may be dropped.
    composer: the message box (paste and drops onto it come here).
    tray: the chips.
    button: the paperclip.
    notice: shows a line to the user (a file that could not be attached).
    limits: the attachment limits (settings).
    """

    def __init__(
        self,
        window: QWidget,
        composer: Any,
        tray: AttachmentTray,
        button: QToolButton,
        notice: Callable[[str], None],
        limits: Callable[[], AttachmentLimits] | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._composer = composer
        self.tray = tray
        self._notice = notice
        self._limits = limits
        self._tasks: set[asyncio.Task[None]] = set()
        self.dialog: QFileDialog | None = None
        button.clicked.connect(self.choose_files)
        composer.mime_handler = self.take_mime
        composer.has_attachments = lambda: bool(tray.chips)

    def listen(self) -> None:
        """Take drops on the window (after the first paint: a filter in Python sees
        every event the window gets)."""
        self._window.setAcceptDrops(True)
        self._window.installEventFilter(self)

    def limits(self) -> AttachmentLimits:
        from ..app.attachments import AttachmentLimits

        return self._limits() if self._limits is not None else AttachmentLimits()

    # -- ways in ------------------------------------------------------------------------

    def choose_files(self) -> QFileDialog:
        """Ctrl+U / the paperclip: a file dialog (several files), opened without
        blocking the loop."""
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, "Attach files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(
            [
                "Images, PDFs, text and code (*)",
                "Images (*.png *.jpg *.jpeg *.webp *.gif)",
                "PDF (*.pdf)",
            ]
        )
        dialog.filesSelected.connect(lambda files: self.add_paths([Path(f) for f in files]))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()
        return dialog

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        from PySide6.QtGui import QDragEnterEvent, QDropEvent

        if watched is self._window:
            if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
                assert isinstance(event, QDragEnterEvent)
                if self._wanted(event.mimeData()):
                    event.acceptProposedAction()
                    return True
            elif event.type() == QEvent.Type.Drop:
                assert isinstance(event, QDropEvent)
                if self.take_mime(event.mimeData()):
                    event.acceptProposedAction()
                    return True
        return False

    @staticmethod
    def _wanted(mime: QMimeData) -> bool:
        return mime.hasImage() or any(url.isLocalFile() for url in mime.urls())

    def take_mime(self, mime: QMimeData) -> bool:
        """Paste or drop: local files and image data become attachments. False when
        there is none (the text is then pasted as usual)."""
        files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        if files:
            self.add_paths(files)
            return True
        if mime.hasImage():
            from PySide6.QtGui import QImage

            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.add_image(image)
                return True
        return False

    # -- preparing ----------------------------------------------------------------------

    def add_paths(self, paths: list[Path]) -> None:
        for path in paths:
            chip = self.tray.add(path.name)
            self._spawn(self._prepare_file(chip, path))

    def add_image(self, image: QImage, name: str = "pasted image.png") -> None:
        chip = self.tray.add(name)
        self._spawn(self._prepare_image(chip, image.copy(), name))

    def _spawn(self, coro: Any) -> None:
        import asyncio

        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _prepare_file(self, chip: AttachmentChip, path: Path) -> None:
        import asyncio

        from ..app.attachments import prepare

        limits = self.limits()
        loop = asyncio.get_running_loop()

        def progress(fraction: float) -> None:
            loop.call_soon_threadsafe(self._progress, chip, fraction)

        def work() -> Attachment:
            return prepare(path.name, read_in_pieces(path, limits.file_bytes, progress), limits)

        await self._finish(chip, work)

    async def _prepare_image(self, chip: AttachmentChip, image: QImage, name: str) -> None:
        from ..app.attachments import prepare

        limits = self.limits()
        await self._finish(chip, lambda: prepare(name, _png_bytes(image), limits))

    async def _finish(self, chip: AttachmentChip, work: Callable[[], Attachment]) -> None:
        import asyncio

        from ..app.attachments import AttachmentError
        from .transcript_thumbnails import image_from_pixels, thumbnail_pixels

        def work_and_thumbnail() -> tuple[Attachment, tuple[int, int, bytes] | None]:
            # The thumbnail too (decoding a 2048 px picture): not on the GUI thread.
            attachment = work()
            pixels = thumbnail_pixels(attachment.data) if attachment.kind == "image" else None
            return attachment, pixels

        try:
            attachment, pixels = await asyncio.to_thread(work_and_thumbnail)
        except AttachmentError as exc:
            self.tray.remove(chip)
            self._notice(str(exc))
            return
        except OSError as exc:
            self.tray.remove(chip)
            self._notice(f"{chip.name} cannot be read: {exc.strerror or exc}")
            return
        except Exception as exc:  # a bug, or a library's surprise: say so, keep going
            _log.exception("preparing %s failed", chip.name)
            self.tray.remove(chip)
            self._notice(f"{chip.name} could not be attached: {exc}")
            return
        thumb = image_from_pixels(pixels) if pixels is not None else None
        if thumb is not None:
            from .transcript_thumbnails import remember_thumbnail

            remember_thumbnail(attachment.sha256, thumb)
        if chip in self.tray.chips:  # not removed while it was prepared
            chip.ready(attachment, thumb)
            self.tray.changed.emit()

    def _progress(self, chip: AttachmentChip, fraction: float) -> None:
        if chip in self.tray.chips and chip.attachment is None:
            chip.progress(fraction)

    async def wait_ready(self) -> None:
        """Until every chip is prepared (tests, benchmarks)."""
        import asyncio

        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- models that cannot see ---------------------------------------------------------

    def offer_text_only(self, reason: str, send_text_only: Callable[[], None]) -> QMessageBox:
        """One message saying the model cannot see images, offering to send the text
        (and documents) without them; the composer keeps everything either way."""
        from PySide6.QtCore import Qt  # here, not at import: see app.py (start-up)
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(self._window)
        box.setIcon(QMessageBox.Icon.Information)
        box.setWindowTitle("This model cannot see images")
        box.setText(reason)
        box.setInformativeText(
            "Send the text (and any documents) without the images, or keep editing "
            "(choose a model with vision, or remove the images)."
        )
        send = box.addButton("Send text only", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        send.setAccessibleName("Send text only")
        box.setDefaultButton(send)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda b: send_text_only() if b is send else None)
        box.open()
        self.vision_box = box
        return box

    def watch(self, views: Any, session: Callable[[], Any]) -> None:
        """Offer the text-only resend when an endpoint refuses a message's images."""

        def made(view: Any) -> None:
            view.error_reported.connect(lambda event, view=view: refused(view, event))

        def refused(view: Any, event: Any) -> None:
            if event.error_type != "vision_unsupported":
                return

            def text_only() -> None:
                current = session()
                if current is None or view.busy:
                    return
                entry = view.transcript.last("user")
                handle = current.conversations.send_without_images(view.conversation_id)
                if handle is None:
                    return
                view.begin_run()
                if entry is not None:
                    view.transcript.truncate(entry)

            self.offer_text_only(event.error, text_only)

        views.made.connect(made)

    def drop_images(self) -> None:
        for chip in [c for c in self.tray.chips if c.attachment and c.attachment.kind == "image"]:
            self.tray.remove(chip)


def send_with_attachments(
    attach: AttachInput, session: Any, view: Any, composer: Any, text: str
) -> Any:
    """Send `text` with the tray's attachments; None when it could not go (still
    preparing, too much, a model that cannot see): the text goes back into the
    composer and the chips stay, with a notice or the offer to send the text only."""
    from ..app.attachments import AttachmentError
    from ..engine.model import VisionUnsupportedError

    def keep(message: str) -> None:
        if not composer.toPlainText().strip():
            composer.setPlainText(text)
        view.transcript.add_notice(message)

    if attach.tray.preparing:
        keep("Attachments are still being prepared: send again when their chips are ready.")
        return None
    attachments = attach.tray.take()
    try:
        handle = session.conversations.send(
            view.conversation_id, text, attachments, limits=attach.limits()
        )
        from .transcript_thumbnails import remember

        for a in attachments:
            if a.kind == "image":
                remember(a.sha256, a.data)
        return handle
    except VisionUnsupportedError as exc:
        attach.tray.put_back(attachments)
        keep(exc.message)

        def text_only() -> None:
            attach.drop_images()
            composer.submit()

        attach.offer_text_only(exc.message, text_only)
    except AttachmentError as exc:
        attach.tray.put_back(attachments)
        keep(str(exc))
    return None
