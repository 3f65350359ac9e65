"""The installed models: GGUF files under the data folder's `models/`, listed in a
small manifest (`installed.json`, written atomically, 0600, under a lock shared by
the window and the command line)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ...private_files import file_lock, private_dir, write_private

__all__ = ["InstalledModel", "ModelLibrary", "safe_name"]

MANIFEST = "installed.json"
IMPORTED = "imported"


def safe_name(part: str) -> str:
    """One path component from a hub name or a file name: no separators, no dot-dot."""
    cleaned = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in part).lstrip(".")
    return cleaned[:200] or "_"


@dataclass(frozen=True)
class InstalledModel:
    #: "OWNER/REPO/FILE" for a model from the hub, "imported/FILE" for an import
    id: str
    repo: str
    file: str
    #: relative to the models folder
    path: str
    sha256: str
    size: int
    source: str = "hub"
    catalog_id: str = ""
    installed_at: float = 0.0

    @property
    def ref(self) -> str:
        return f"hf:{self.id}" if self.source == "hub" else self.id

    @property
    def label(self) -> str:
        return self.file.split(".")[0] or self.file


class ModelLibrary:
    """The models folder and its manifest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def ensure(self) -> Path:
        return private_dir(self.folder)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.ensure()
        with file_lock(self.folder / ".lock"):
            yield

    def _read(self) -> list[InstalledModel]:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        known = {f.name for f in fields(InstalledModel)}
        models = []
        for item in data.get("models", []) if isinstance(data, dict) else []:
            if isinstance(item, dict):
                with contextlib.suppress(TypeError):
                    models.append(InstalledModel(**{k: v for k, v in item.items() if k in known}))
        return models

    def _write(self, models: list[InstalledModel]) -> None:
        text = json.dumps({"models": [asdict(m) for m in models]}, indent=1)
        write_private(self.folder / MANIFEST, text + "\n")

    def models(self) -> list[InstalledModel]:
        """The installed models whose files are still there (an entry pointing outside
        the models folder, from an edited manifest, is ignored: never used, never
        deleted)."""
        return [m for m in self._read() if self._inside(m) and self.file_of(m).is_file()]

    def _inside(self, model: InstalledModel) -> bool:
        root = self.folder.resolve()
        return root in self.file_of(model).resolve().parents

    def file_of(self, model: InstalledModel) -> Path:
        return self.folder / model.path

    def path_for(self, repo: str, file: str) -> Path:
        owner, _, name = repo.partition("/")
        return self.folder / safe_name(owner) / safe_name(name) / safe_name(file)

    def find(self, ref: str) -> InstalledModel | None:
        """By id, `hf:` reference, catalog id, or file name."""
        bare = ref.removeprefix("hf:")
        for model in self.models():
            if bare in (model.id, model.catalog_id, model.file, model.label):
                return model
        return None

    def add(self, model: InstalledModel) -> InstalledModel:
        with self.locked():
            models = [m for m in self._read() if m.id != model.id]
            stamped = InstalledModel(**{**asdict(model), "installed_at": time.time()})
            models.append(stamped)
            self._write(models)
        return stamped

    def remove(self, ref: str) -> InstalledModel | None:
        """Delete an installed model's file and its manifest entry."""
        model = self.find(ref)
        if model is None:
            return None
        with self.locked():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.file_of(model))
            self._prune(self.file_of(model).parent)
            self._write([m for m in self._read() if m.id != model.id])
        return model

    def _prune(self, folder: Path) -> None:
        """Remove empty folders between `folder` and the models folder."""
        while folder != self.folder and self.folder in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def partials(self) -> list[Path]:
        """Unfinished downloads (`*.gguf.part`)."""
        return sorted(self.folder.glob("*/*/*.part")) if self.folder.is_dir() else []
