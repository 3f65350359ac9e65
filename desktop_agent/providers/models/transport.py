"""httpx2 for big downloads: up to 1 MiB per `recv` instead of httpcore's 64 KiB.

httpcore reads a response body `READ_NUM_BYTES` (64 KiB) at a time in Python; for a
multi-gigabyte file that per-read work is what stands between us and `curl`
(measured: 1 MiB reads cut a 256 MiB download from the local hub by ~20 %). That
constant is shared by every httpx2 client of the process (the openai client's SSE
reads too), so instead of changing it this transport's own connection pool gets a
network backend whose streams read bigger pieces. A client given a transport ignores
the proxy variables, so a download that goes through a proxy (`proxied`) uses
httpx2's own transports instead.
"""

from __future__ import annotations

from typing import Any

import httpcore2
import httpx2

__all__ = ["download_transport", "proxied"]

READ_SIZE = 1 << 20


class _BigReadStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max(max_bytes, READ_SIZE), timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, timeout)

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore2.NetworkStream:
        return _BigReadStream(self.inner.start_tls(*args, **kwargs))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _BigReadBackend(httpcore2.NetworkBackend):
    def __init__(self) -> None:
        self.inner = httpcore2.SyncBackend()

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore2.NetworkStream:
        return _BigReadStream(self.inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore2.NetworkStream:
        return _BigReadStream(self.inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def download_transport() -> httpx2.BaseTransport:
    """A transport for direct connections that reads 1 MiB at a time (httpx2's own
    one, unchanged, if its pool is not where this version keeps it)."""
    context = httpx2.create_ssl_context()  # (made once: loading the CAs takes ~20 ms)
    transport = httpx2.HTTPTransport(verify=context)
    if isinstance(getattr(transport, "_pool", None), httpcore2.ConnectionPool):
        transport._pool.close()
        transport._pool = httpcore2.ConnectionPool(
            ssl_context=context, network_backend=_BigReadBackend()
        )
    return transport


def proxied(url: str) -> bool:
    """Do the proxy variables send `url` through a proxy?"""
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    if not (proxies.get(parts.scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass(parts.hostname or "")
