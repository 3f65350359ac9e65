"""The Hugging Face hub (or a mirror in `HF_ENDPOINT`): references, metadata, errors.

`huggingface_hub` builds the URLs and headers (`HF_TOKEN`, the user agent) and reads
a file's metadata from the HEAD of its resolve URL, the way the real hub answers:
a 302 to the CDN carrying `X-Linked-Etag` (the LFS sha256) and `X-Linked-Size`.
When the etag is not a sha256, the LFS sha256 comes from
`GET {endpoint}/api/models/OWNER/REPO?blobs=true`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .catalog import CatalogEntry, find_entry

__all__ = ["HubError", "NotFound", "RemoteFile", "endpoint", "parse_ref", "remote_file"]

DEFAULT_ENDPOINT = "https://huggingface.co"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


class HubError(Exception):
    """The hub could not tell us about a file (network, refused, odd answer)."""


class NotFound(HubError):
    """No such repository or file (or not visible without a token)."""


@dataclass(frozen=True)
class RemoteFile:
    repo: str
    file: str
    #: where the bytes are (the CDN location the hub redirects to, or the resolve URL)
    url: str
    size: int
    sha256: str
    #: headers for `url` (no Authorization when it is not on the hub itself)
    headers: dict[str, str] = field(default_factory=dict)


def endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def parse_ref(ref: str) -> tuple[str, str, CatalogEntry | None]:
    """(repo, file, catalog entry) for a catalog id or `hf:OWNER/REPO/FILE.gguf`."""
    entry = find_entry(ref)
    if entry is not None:
        return entry.repo, entry.file, entry
    bare = ref.removeprefix("hf:")
    owner, _, rest = bare.partition("/")
    name, _, file = rest.partition("/")
    repo = f"{owner}/{name}"
    if not ref.startswith("hf:") or not _REPO.fullmatch(repo) or not file:
        raise ValueError(
            f"{ref!r} is neither a catalog id (see `desktop-agent models list`) "
            "nor hf:OWNER/REPO/FILE.gguf"
        )
    if ".." in file.split("/") or not file.endswith(".gguf"):
        raise ValueError(f"{file!r} is not a .gguf file name")
    return repo, file, find_entry(f"hf:{repo}/{file}")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def remote_file(repo: str, file: str, *, timeout: float = 20.0) -> RemoteFile:
    """What the hub says about `file` in `repo`: where, how big, its sha256."""
    import httpx2
    from huggingface_hub import errors, file_download, hf_api
    from huggingface_hub.utils._headers import build_hf_headers

    base = endpoint()
    url = file_download.hf_hub_url(repo, file, endpoint=base)
    try:
        meta = file_download.get_hf_file_metadata(url, timeout=timeout, endpoint=base)
        sha = (meta.etag or "").strip('"').lower()
        if not _SHA256.fullmatch(sha):
            info = hf_api.HfApi(endpoint=base).model_info(repo, files_metadata=True)
            sha = next(
                (
                    s.lfs.sha256
                    for s in info.siblings or []
                    if s.rfilename == file and s.lfs is not None
                ),
                "",
            )
    except errors.GatedRepoError:
        raise HubError(f"{repo} is gated: accept its licence on the hub and set HF_TOKEN") from None
    except (
        errors.RepositoryNotFoundError,
        errors.RevisionNotFoundError,
        errors.EntryNotFoundError,
        errors.RemoteEntryNotFoundError,
    ):
        raise NotFound(f"{repo}/{file} was not found on {base}") from None
    except errors.HfHubHTTPError as exc:
        raise HubError(f"{base} refused {repo}/{file}: {str(exc).splitlines()[0]}") from None
    except httpx2.HTTPError as exc:
        raise HubError(f"cannot reach {base}: {exc}") from None
    if not _SHA256.fullmatch(sha):
        raise HubError(f"{base} gives no sha256 for {repo}/{file}; it cannot be verified")
    if meta.size is None:
        raise HubError(f"{base} gives no size for {repo}/{file}")
    location = meta.location or url
    headers = build_hf_headers()
    if _origin(location) != _origin(base):  # a signed CDN URL: the token stays on the hub
        headers.pop("authorization", None)
        headers.pop("Authorization", None)
    return RemoteFile(repo, file, location, int(meta.size), sha, headers)
