"""The models package without the network: GGUF headers (hostile ones too), the
context a model gets, fit hints, the function-calling history."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from desktop_agent.providers.local import function_calling_messages
from desktop_agent.providers.models.catalog import CATALOG, GB, Machine, find_entry, fit_hint
from desktop_agent.providers.models.gguf import GGUFError, GGUFInfo, check_magic, read_gguf
from desktop_agent.providers.models.hub import parse_ref
from desktop_agent.providers.models.runtime import context_within


def gguf(path: Path, kvs: list[tuple[str, int, bytes]], keys: int | None = None) -> Path:
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs) if keys is None else keys)
    for key, kind, value in kvs:
        out += struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", kind) + value
    path.write_bytes(out)
    return path


def string(text: str) -> bytes:
    return struct.pack("<Q", len(text)) + text.encode()


def test_reads_architecture_and_context(tmp_path: Path) -> None:
    path = gguf(
        tmp_path / "m.gguf",
        [
            ("general.architecture", 8, string("qwen3")),
            ("tokenizer.ggml.scores", 9, struct.pack("<IQ", 6, 3) + b"\0" * 12),  # skipped
            ("qwen3.context_length", 4, struct.pack("<I", 40960)),
        ],
    )
    info = read_gguf(path)
    assert (info.version, info.architecture, info.context_length) == (3, "qwen3", 40960)


@pytest.mark.parametrize("head", [b"PK\x03\x04xxxx", b"GGU", b"GGUF" + struct.pack("<I", 99), b""])
def test_not_gguf_is_refused(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(head)
    with pytest.raises(GGUFError):
        check_magic(path)


def test_hostile_headers_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(GGUFError, match="claims"):
        read_gguf(gguf(tmp_path / "a.gguf", [], keys=10**12))
    huge = struct.pack("<Q", 1 << 40) + b"x"  # a string "of a terabyte"
    with pytest.raises(GGUFError, match="unreadable"):
        read_gguf(gguf(tmp_path / "b.gguf", [("general.name", 8, huge)]))
    cut = gguf(tmp_path / "c.gguf", [("general.architecture", 8, string("llama"))])
    cut.write_bytes(cut.read_bytes()[:-3])
    with pytest.raises(GGUFError):
        read_gguf(cut)


def test_context_follows_the_model_within_memory() -> None:
    meta = {
        "general.architecture": "llama",
        "llama.context_length": 131072,
        "llama.block_count": 28,
        "llama.attention.head_count_kv": 8,
        "llama.attention.head_count": 24,
        "llama.embedding_length": 3072,
    }
    info = GGUFInfo(3, meta)
    # 2 * 28 * 8 * 128 * 2 = 114,688 bytes per token
    assert context_within(info, 64 * GB) == 32768  # capped for a CPU
    small = context_within(info, 2 * GB)  # a quarter of 2 GB: ~4,360 tokens
    assert small == 4096
    assert context_within(GGUFInfo(3, {**meta, "llama.context_length": 8192}), 64 * GB) == 8192
    assert context_within(GGUFInfo(3, {"general.architecture": "x"}), 64 * GB) == 2048


def test_fit_hints() -> None:
    entry = find_entry("qwen3-4b")
    assert entry is not None
    assert fit_hint(entry, Machine(16 * GB, 100 * GB)) == (True, "fits this computer")
    fits, hint = fit_hint(entry, Machine(2 * GB, 100 * GB))
    assert not fits and "memory" in hint
    fits, hint = fit_hint(entry, Machine(16 * GB, GB))
    assert not fits and "disk" in hint


def test_catalog_entries_are_complete() -> None:
    assert len({e.id for e in CATALOG}) == len(CATALOG) >= 9
    for entry in CATALOG:
        assert parse_ref(entry.id) == (entry.repo, entry.file, entry)
        assert entry.file.endswith(".gguf") and entry.size > 0 and entry.ram > entry.size
        assert entry.context >= 32768 and entry.licence and entry.quant in entry.file
        assert entry.chat_format == ("chatml-function-calling" if entry.tools else None)
        assert entry.tools or entry.note  # a model without tools says why
        assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256)


def test_every_built_in_entry_is_pinned() -> None:
    """The catalog's values were verified (see its docstring): each entry pins its file."""
    assert [e.id for e in CATALOG if e.sha256 is None] == []
    assert len({e.sha256 for e in CATALOG}) == len(CATALOG)


def test_tool_results_reach_a_function_calling_template() -> None:
    history = [
        {"role": "user", "content": "code of Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "XQ-4417"},
    ]
    out = function_calling_messages(history)
    assert out[1]["content"] == ""  # llama.cpp's server refuses null
    assert out[2] == {"role": "user", "content": "Result of functions.lookup:\nXQ-4417"}
    assert history[1]["content"] is None  # the history itself is untouched
