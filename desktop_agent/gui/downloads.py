"""Model downloads for the window: each runs on its own thread (a download never
waits on the event loop, so it keeps going while you chat) and reports through Qt
signals, which arrive on the GUI thread. Pause keeps the partial file (Download
resumes it with a Range request); Cancel deletes it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..providers.models import download
from ..providers.models.hub import HubError, NotFound
from ..providers.models.installed import ModelLibrary

__all__ = ["DownloadManager"]


@dataclass
class _Job:
    ref: str
    cancel: threading.Event = field(default_factory=threading.Event)
    discard: bool = False  # cancelled (not paused): delete the partial file
    done: int = 0
    total: int = 0


class DownloadManager(QObject):
    progress = Signal(str, int, int)  # ref, bytes done, bytes in all
    finished = Signal(str, str, str)  # ref, outcome (installed|paused|cancelled|failed), message

    def __init__(
        self,
        library: ModelLibrary,
        parent: QObject | None = None,
        *,
        disk_free: Callable[[Path], int] = download.free_space,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.disk_free = disk_free
        self.jobs: dict[str, _Job] = {}

    def active(self, ref: str) -> bool:
        return ref in self.jobs

    def start(self, ref: str) -> bool:
        """Download (or resume) `ref`; False when it is already downloading."""
        if ref in self.jobs:
            return False
        job = self.jobs[ref] = _Job(ref)
        threading.Thread(target=self._run, args=(job,), name=f"pull {ref}", daemon=True).start()
        return True

    def pause(self, ref: str) -> None:
        if ref in self.jobs:
            self.jobs[ref].cancel.set()

    def cancel(self, ref: str) -> None:
        """Stop and delete what was downloaded (now, if it was not running)."""
        job = self.jobs.get(ref)
        if job is None:
            download.discard_partial(ref, self.library)
            self.finished.emit(ref, "cancelled", "Download cancelled")
            return
        job.discard = True
        job.cancel.set()

    def stop_all(self) -> None:
        """Pause every download (the window closes; partial files are kept)."""
        for job in self.jobs.values():
            job.cancel.set()

    def summary(self) -> str:
        """ "Downloading qwen3-1.7b 42%" for the status bar ("" when idle)."""
        parts = []
        for job in list(self.jobs.values()):
            share = f" {100 * job.done // job.total}%" if job.total else ""
            parts.append(f"{job.ref.removeprefix('hf:').rsplit('/', 1)[-1]}{share}")
        return f"Downloading {', '.join(parts)}" if parts else ""

    def _run(self, job: _Job) -> None:  # on the download's thread
        def advanced(done: int, total: int) -> None:
            job.done, job.total = done, total
            self.progress.emit(job.ref, done, total)

        outcome, message = "installed", ""
        try:
            model = download.pull(
                job.ref,
                self.library,
                on_progress=advanced,
                cancel=job.cancel,
                disk_free=self.disk_free,
            )
            message = f"Installed {model.label}"
        except download.Cancelled:
            if job.discard:
                download.discard_partial(job.ref, self.library)
                outcome, message = "cancelled", "Download cancelled"
            else:
                outcome, message = "paused", "Paused: Download resumes where it stopped"
        except NotFound as exc:
            outcome, message = "failed", f"Not found: {exc}"
        except (ValueError, HubError, download.DownloadError, OSError) as exc:
            outcome, message = "failed", str(exc)
        except Exception as exc:  # a thread's error never reaches anyone else: say it
            outcome, message = "failed", f"The download failed: {exc!r}"
        finally:
            self.jobs.pop(job.ref, None)
        self.finished.emit(job.ref, outcome, message)
