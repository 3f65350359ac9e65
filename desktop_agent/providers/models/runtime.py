"""How the embedded engine runs a given GGUF file: its context length (the model's
own, within a memory limit) and whether it is offered the agent's tools."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from .catalog import FUNCTION_CALLING, find_entry, physical_memory
from .gguf import GGUFError, GGUFInfo, read_gguf
from .installed import ModelLibrary

__all__ = ["LocalProfile", "context_within", "profile_for"]

MIN_CONTEXT = 2048
#: a CPU reads a long prompt slowly; past this a bigger window helps little here
MAX_CONTEXT = 32768
#: the share of physical memory the KV cache may take
KV_SHARE = 0.25
_KEYS = ("block_count", "attention.head_count_kv", "attention.head_count", "embedding_length")


@dataclass(frozen=True)
class LocalProfile:
    path: Path
    n_ctx: int
    #: the chat format that gives it tools (None: no tools, the model's own template)
    chat_format: str | None

    @property
    def tools(self) -> bool:
        return self.chat_format is not None


def kv_bytes_per_token(info: GGUFInfo) -> int | None:
    arch = info.architecture
    try:
        layers, kv_heads, heads, width = (int(info.metadata[f"{arch}.{k}"]) for k in _KEYS)
    except (KeyError, TypeError, ValueError):
        return None
    if min(layers, kv_heads, heads, width) <= 0:
        return None
    return 2 * layers * kv_heads * (width // heads) * 2  # keys and values, f16


def context_within(info: GGUFInfo, ram: int) -> int:
    """The model's trained context, no more than a quarter of `ram` of KV cache allows
    (nor MAX_CONTEXT), no less than MIN_CONTEXT; a multiple of 1024."""
    trained = info.context_length or MIN_CONTEXT
    limit = MAX_CONTEXT
    per_token = kv_bytes_per_token(info)
    if per_token and ram:
        limit = min(limit, int(ram * KV_SHARE) // per_token)
    n_ctx = min(trained, limit) // 1024 * 1024
    return max(n_ctx, min(MIN_CONTEXT, trained))


def _template_does_tools(info: GGUFInfo) -> bool:
    """A ChatML template that knows about tools (what `chatml-function-calling` renders)."""
    template = str(info.metadata.get("tokenizer.chat_template", ""))
    return "<|im_start|>" in template and "tools" in template


def profile_for(path: Path, library: ModelLibrary | None = None, ram: int = 0) -> LocalProfile:
    """The catalog decides for catalog models; for others, their own chat template."""
    info: GGUFInfo | None = None
    with contextlib.suppress(GGUFError):
        head = read_gguf(path)
        arch = head.architecture
        wanted = (*(f"{arch}.{k}" for k in _KEYS), "tokenizer.chat_template")
        info = read_gguf(path, wanted)
    ram = ram or physical_memory()
    n_ctx = context_within(info, ram) if info is not None else MIN_CONTEXT
    tools = info is not None and _template_does_tools(info)
    if library is not None:
        for model in library.models():
            if library.file_of(model) == path and model.catalog_id:
                entry = find_entry(model.catalog_id)
                if entry is not None:
                    tools = entry.tools
    return LocalProfile(path, n_ctx, FUNCTION_CALLING if tools else None)
