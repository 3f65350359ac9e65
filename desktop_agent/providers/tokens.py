"""Exact token counts for OpenAI's models with `tiktoken`, when it can work offline.

tiktoken downloads its BPE files on first use. The app never waits on that: it uses
tiktoken only when the encoding's file is already in tiktoken's cache
(`TIKTOKEN_CACHE_DIR`, `DATA_GYM_CACHE_DIR`, else `<tmp>/data-gym-cache`), or can be
put there from the copy the `bpe-openai` package ships (the `tokens` extra installs
both); otherwise the engine's calibrated estimate (which errs high) counts.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache

__all__ = ["encoding_url", "openai_counter", "seed_from_package", "tiktoken_cache_path"]

_OPENAI_PREFIXES = ("gpt-", "chatgpt-", "o1", "o3", "o4", "text-embedding-")


def encoding_url(name: str) -> str:
    return f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def tiktoken_cache_path(name: str) -> str:
    """Where tiktoken keeps the BPE file of encoding `name` (its own naming rule)."""
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    cache = cache or os.path.join(tempfile.gettempdir(), "data-gym-cache")
    return os.path.join(cache, hashlib.sha1(encoding_url(name).encode()).hexdigest())


def seed_from_package(name: str) -> bool:
    """Put encoding `name` into tiktoken's cache from the copy `bpe-openai` ships (the
    same file tiktoken would download; tiktoken checks its sha256 when it loads it)."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        return False
    for folder in spec.submodule_search_locations:
        source = os.path.join(folder, "data", f"{name}.tiktoken.gz")
        if os.path.isfile(source):
            break
    else:
        return False
    target = tiktoken_cache_path(name)
    try:
        with open(source, "rb") as packed:
            data = gzip.decompress(packed.read())
        os.makedirs(os.path.dirname(target), exist_ok=True)
        temporary = f"{target}.{os.getpid()}.tmp"
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    return True


@lru_cache(maxsize=16)
def openai_counter(model: str) -> Callable[[str], int] | None:
    """tiktoken's count for an OpenAI model whose encoding is cached; else None."""
    name = model.lower().rsplit("/", 1)[-1]
    if not name.startswith(_OPENAI_PREFIXES):
        return None
    try:
        import tiktoken
        from tiktoken.model import encoding_name_for_model
    except ImportError:
        return None
    try:
        encoding_name = encoding_name_for_model(name)
    except KeyError:
        return None
    if not os.path.exists(tiktoken_cache_path(encoding_name)) and not seed_from_package(
        encoding_name
    ):
        return None
    try:
        encoding = tiktoken.get_encoding(encoding_name)
    except Exception:  # a corrupt cache makes tiktoken try the network: estimate instead
        return None

    def count(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    return count
