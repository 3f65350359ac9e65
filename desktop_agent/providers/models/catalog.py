"""The built-in catalog of GGUF models that run on a laptop CPU, and what fits here.

Every entry names a file in a Hugging Face repository. Verified values: the repository
and file name, the exact `size` in bytes and the `sha256` of every entry were
cross-checked against public manifests (model catalogs, download scripts and pinned
test fixtures of several unrelated open-source projects that record the hub's LFS
size and sha256 for these files); a value is kept only where at least two
independent sources agree. The trained context length and the licence were checked
against what those sources state. `ram` stays an estimate (the model's memory at its
default context), used only for the fit hint.

A download is checked twice: the sha256 the hub's metadata gives must equal the
catalog's pinned `sha256` (when an entry has one: a disagreement is an error before
any byte is fetched, so a file replaced upstream is never installed under a pinned
entry; such an entry fails until its pin is re-verified and updated here), and the
downloaded bytes must hash to it (`download.pull`).

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
    #: bytes, exact (verified with `sha256`; an estimate where `sha256` is None)
    size: int
    #: bytes of memory the model needs at its default context, approximate
    ram: int
    #: the model's trained context length, in tokens
    context: int
    licence: str
    tools: bool
    vision: bool = False
    #: the file's pinned sha256 (hex): the hub's metadata must agree with it before a
    #: download starts. None: not pinned, the hub's sha256 alone is checked
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
        "Q8_0", 639_446_688, _gb(1.5), 32768, "Apache-2.0", tools=True,
        sha256="9465e63a22add5354d9bb4b99e90117043c7124007664907259bd16d043bb031",
    ),
    CatalogEntry(
        "qwen3-1.7b", "Qwen3 1.7B", "Qwen/Qwen3-1.7B-GGUF", "Qwen3-1.7B-Q8_0.gguf",
        "Q8_0", 1_834_426_016, _gb(3.0), 32768, "Apache-2.0", tools=True,
        sha256="061b54daade076b5d3362dac252678d17da8c68f07560be70818cace6590cb1a",
    ),
    CatalogEntry(
        "qwen3-4b", "Qwen3 4B", "Qwen/Qwen3-4B-GGUF", "Qwen3-4B-Q4_K_M.gguf",
        "Q4_K_M", 2_497_280_256, _gb(4.5), 32768, "Apache-2.0", tools=True,
        sha256="7485fe6f11af29433bc51cab58009521f205840f5b4ae3a32fa7f92e8534fdf5",
    ),
    CatalogEntry(
        "smollm3-3b", "SmolLM3 3B", "ggml-org/SmolLM3-3B-GGUF", "SmolLM3-Q4_K_M.gguf",
        "Q4_K_M", 1_915_305_312, _gb(3.5), 65536, "Apache-2.0", tools=True,
        sha256="8334b850b7bd46238c16b0c550df2138f0889bf433809008cc17a8b05761863e",
    ),
    CatalogEntry(
        "llama-3.2-1b", "Llama 3.2 1B Instruct", "bartowski/Llama-3.2-1B-Instruct-GGUF",
        "Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M", 807_694_464, _gb(2.0), 131072,
        "Llama 3.2 Community", tools=False,
        sha256="6f85a640a97cf2bf5b8e764087b1e83da0fdb51d7c9fab7d0fece9385611df83",
        note="its own tool template is not ChatML: offered without tools",
    ),
    CatalogEntry(
        "llama-3.2-3b", "Llama 3.2 3B Instruct", "bartowski/Llama-3.2-3B-Instruct-GGUF",
        "Llama-3.2-3B-Instruct-Q4_K_M.gguf", "Q4_K_M", 2_019_377_696, _gb(4.0), 131072,
        "Llama 3.2 Community", tools=False,
        sha256="6c1a2b41161032677be168d354123594c0e6e67d2b9227c84f296ad037c728ff",
        note="its own tool template is not ChatML: offered without tools",
    ),
    CatalogEntry(
        "gemma-3-1b", "Gemma 3 1B", "ggml-org/gemma-3-1b-it-GGUF", "gemma-3-1b-it-Q4_K_M.gguf",
        "Q4_K_M", 806_058_240, _gb(2.0), 32768, "Gemma Terms of Use", tools=False,
        sha256="8ccc5cd1f1b3602548715ae25a66ed73fd5dc68a210412eea643eb20eb75a135",
        note="no tool support in its template",
    ),
    CatalogEntry(
        "gemma-3-4b", "Gemma 3 4B", "ggml-org/gemma-3-4b-it-GGUF", "gemma-3-4b-it-Q4_K_M.gguf",
        "Q4_K_M", 2_489_757_856, _gb(4.5), 131072, "Gemma Terms of Use", tools=False,
        vision=True,
        sha256="882e8d2db44dc554fb0ea5077cb7e4bc49e7342a1f0da57901c0802ea21a0863",
        note="vision needs its separate mmproj file, which the app does not load yet",
    ),
    CatalogEntry(
        "phi-4-mini", "Phi-4-mini Instruct", "bartowski/microsoft_Phi-4-mini-instruct-GGUF",
        "microsoft_Phi-4-mini-instruct-Q4_K_M.gguf", "Q4_K_M", 2_491_874_688, _gb(4.5), 131072,
        "MIT", tools=False,
        sha256="01999f17c39cc3074afae5e9c539bc82d45f2dd7faa3917c66cbef76fce8c0c2",
        note="its own tool template is not ChatML: offered without tools",
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
