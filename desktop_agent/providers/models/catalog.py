"""The built-in catalog of GGUF models that run on a laptop CPU, and what fits here.

Every entry names a file in a Hugging Face repository. `size` and `ram` are the
figures published on the model cards as this catalog was written (approximate,
shown before a download); the exact size and the sha256 a download is checked
against always come from the hub's own metadata at download time (`hub`), so a
catalog value that drifted can make a hint wrong but never lets a wrong file in.

`tools`: the app offers its tools to the model. That needs llama.cpp's
`chatml-function-calling` chat format (the only one in llama-cpp-python 0.3.x that
turns a model's free choice to call a tool into `tool_calls`), which renders
prompts as ChatML: so only models whose own template is ChatML get tools.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CATALOG", "CatalogEntry", "Machine", "find_entry", "fit_hint", "this_machine"]

GB = 1_000_000_000
#: The chat format that gives a ChatML model the agent's tools.
FUNCTION_CALLING = "chatml-function-calling"


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    repo: str
    file: str
    quant: str
    #: bytes, approximate (the hub's figure is used for the download itself)
    size: int
    #: bytes of memory the model needs at its default context, approximate
    ram: int
    #: the model's trained context length, in tokens
    context: int
    licence: str
    tools: bool
    vision: bool = False
    #: None: the sha256 is taken from the hub's metadata at download time
    sha256: str | None = None
    note: str = ""

    @property
    def ref(self) -> str:
        return f"hf:{self.repo}/{self.file}"

    @property
    def chat_format(self) -> str | None:
        return FUNCTION_CALLING if self.tools else None


def _gb(value: float) -> int:
    return int(value * GB)


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "qwen3-0.6b", "Qwen3 0.6B", "Qwen/Qwen3-0.6B-GGUF", "Qwen3-0.6B-Q8_0.gguf",
        "Q8_0", _gb(0.64), _gb(1.5), 32768, "Apache-2.0", tools=True,
    ),
    CatalogEntry(
        "qwen3-1.7b", "Qwen3 1.7B", "Qwen/Qwen3-1.7B-GGUF", "Qwen3-1.7B-Q8_0.gguf",
        "Q8_0", _gb(1.83), _gb(3.0), 32768, "Apache-2.0", tools=True,
    ),
    CatalogEntry(
        "qwen3-4b", "Qwen3 4B", "Qwen/Qwen3-4B-GGUF", "Qwen3-4B-Q4_K_M.gguf",
        "Q4_K_M", _gb(2.5), _gb(4.5), 32768, "Apache-2.0", tools=True,
    ),
    CatalogEntry(
        "smollm3-3b", "SmolLM3 3B", "ggml-org/SmolLM3-3B-GGUF", "SmolLM3-Q4_K_M.gguf",
        "Q4_K_M", _gb(1.92), _gb(3.5), 65536, "Apache-2.0", tools=True,
    ),
    CatalogEntry(
        "llama-3.2-1b", "Llama 3.2 1B Instruct", "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M", _gb(0.81), _gb(2.0), 131072,
        "Llama 3.2 Community", tools=False,
        note="its own tool template is not ChatML: offered without tools",
    ),
    CatalogEntry(
        "llama-3.2-3b", "Llama 3.2 3B Instruct", "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf", "Q4_K_M", _gb(2.02), _gb(4.0), 131072,
        "Llama 3.2 Community", tools=False,
        note="its own tool template is not ChatML: offered without tools",
    ),
    CatalogEntry(
        "gemma-3-1b", "Gemma 3 1B", "ggml-org/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf",
        "Q4_K_M", _gb(0.81), _gb(2.0), 32768, "Gemma", tools=False,
        note="no tool support in its template",
    ),
    CatalogEntry(
        "gemma-3-4b", "Gemma 3 4B", "ggml-org/gemma-3-4b-it-GGUF", "gemma-3-4b-it-Q4_K_M.gguf",
        "Q4_K_M", _gb(2.49), _gb(4.5), 131072, "Gemma", tools=False, vision=True,
        note="vision needs its separate mmproj file, which the app does not load yet",
    ),
    CatalogEntry(
        "phi-4-mini", "Phi-4-mini Instruct", "bartowski/microsoft_Phi-4-mini-instruct-GGUF",
        "microsoft_Phi-4-mini-instruct-Q4_K_M.gguf", "Q4_K_M", _gb(2.49), _gb(4.5), 131072,
        "MIT", tools=False, note="its own tool template is not ChatML: offered without tools",
    ),
)  # fmt: skip


def find_entry(ref: str) -> CatalogEntry | None:
    """The catalog entry with this id (or `hf:` reference)."""
    for entry in CATALOG:
        if ref in (entry.id, entry.ref):
            return entry
    return None


@dataclass(frozen=True)
class Machine:
    ram: int  # bytes of physical memory (0: unknown)
    free_disk: int  # bytes free where models are stored


def physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not on this platform
        return 0


def this_machine(folder: Path) -> Machine:
    """RAM, and free disk space at `folder` (or the nearest folder that exists)."""
    where = folder
    while not where.exists() and where != where.parent:
        where = where.parent
    return Machine(physical_memory(), shutil.disk_usage(where).free)


def fit_hint(entry: CatalogEntry, machine: Machine) -> tuple[bool, str]:
    """(fits, a short hint for people) for `entry` on `machine`."""
    if machine.free_disk and entry.size > machine.free_disk:
        return False, f"needs {entry.size / GB:.1f} GB of disk, {machine.free_disk / GB:.1f} free"
    if machine.ram and entry.ram > machine.ram:
        have = machine.ram / GB
        return False, f"needs {entry.ram / GB:.1f} GB of memory, this computer has {have:.1f}"
    if machine.ram and entry.ram > machine.ram * 0.6:
        return True, "fits, but leaves little memory for other programs"
    return True, "fits this computer"
