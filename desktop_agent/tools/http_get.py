"""One HTTP GET for `fetch_url`, with the checks an approved URL needs.

* **One deadline for everything**: resolving, connecting, TLS, headers and body
  together end at `limit_s`. A watchdog shuts the socket down when it passes, so
  a server sending one byte every half second cannot stretch a fetch.
* **Each hop is checked by address.** The host is resolved (getaddrinfo) and the
  connection goes to exactly the address that was checked (the Host header and
  TLS name stay the host's), so a DNS answer that changes between the check and
  the connect (rebinding) is never used. Loopback, private, link-local,
  multicast, reserved and unspecified addresses are refused unless the approved
  URL itself led there (the user saw that URL).
* **Redirects stay on the approved host** (same name; same port, or http → https
  on the default ports): one that leads elsewhere is refused with its target, so
  the model can ask for that URL, and the user is asked again.

No proxy is used (a proxy would connect to an address that was not checked).
Standard library only; runs in a worker thread (`web.fetch_text`).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

__all__ = ["FetchError", "Page", "address_refusal", "get", "redirect_refusal"]

MAX_REDIRECTS = 5
USER_AGENT = "desktop-agent (+https://github.com/desktop-agent)"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = {301, 302, 303, 307, 308}

Resolver = Callable[[str, int], list[str]]


class FetchError(ValueError):
    """The URL cannot be fetched (the message says why)."""


@dataclass(frozen=True)
class Page:
    url: str
    content_type: str
    charset: str
    body: bytes
    cut: bool


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"could not connect: cannot resolve {host!r} ({exc})") from None
    addresses: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _kind(address: str) -> str | None:
    """What makes `address` not a public one (None if it is public)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    ):
        if flag:
            return kind
    return None


def address_refusal(host: str, addresses: Sequence[str], *, private_approved: bool) -> str | None:
    """Why `host` (resolved to `addresses`) may not be fetched, or None."""
    if private_approved:
        return None
    for address in addresses:
        kind = _kind(address)
        if kind is not None:
            return f"{host} resolves to {address}, a {kind} address: not fetched"
    return None


def _port(parts: SplitResult) -> int:
    return parts.port or _DEFAULT_PORTS[parts.scheme]


def redirect_refusal(approved_url: str, target: str) -> str | None:
    """Why a redirect from the approved URL's host to `target` is not followed, or None."""
    approved, new = urlsplit(approved_url), urlsplit(target)
    if new.scheme not in _DEFAULT_PORTS or not new.hostname:
        return f"refusing a redirect to {target!r}: only http and https"
    same_port = _port(new) == _port(approved) or (
        approved.scheme == "http"
        and new.scheme == "https"
        and _port(approved) == 80
        and _port(new) == 443
    )
    if new.hostname.lower() != (approved.hostname or "").lower() or not same_port:
        return (
            f"the page redirects to {target!r}, on another host than the approved "
            f"{approved.netloc}: not followed (fetch that URL to ask the user again)"
        )
    return None


class _Deadline:
    """The fetch's one deadline: past it, the socket being used is shut down."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.name = "fetch_url deadline"
        self._timer.daemon = True
        self._timer.start()

    def error(self, detail: str = "") -> FetchError:
        return FetchError(f"no answer within {self.seconds:g} s{detail}")

    def remaining(self) -> float:
        left = self._end - time.monotonic()
        if left <= 0 or self.expired:
            raise self.error()
        return left

    def watch(self, sock: socket.socket | None) -> None:
        with self._lock:
            self._sock = sock
            if sock is not None and self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._sock is not None:
                _shutdown(self._sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    try:  # the plain socket's shutdown (not TLS's), so a blocked read returns at once
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


def get(url: str, *, limit_s: float, max_bytes: int, resolver: Resolver = resolve) -> Page:
    """GET `url` (already checked to be http/https), following redirects on the
    same host; at most `max_bytes` of the body are read."""
    deadline = _Deadline(limit_s)
    try:
        current = url
        private_approved: bool | None = None
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(current)
            host = parts.hostname or ""
            addresses = resolver(host, _port(parts))
            if private_approved is None:  # the URL the user approved: wherever it is
                private_approved = (
                    address_refusal(host, addresses, private_approved=False) is not None
                )
            refusal = address_refusal(host, addresses, private_approved=private_approved)
            if refusal:
                raise FetchError(refusal)
            status, reason, location, page = _request(parts, addresses, deadline, max_bytes)
            if status in _REDIRECTS and location:
                target = urljoin(current, location)
                refusal = redirect_refusal(url, target)
                if refusal:
                    raise FetchError(refusal)
                current = target
                continue
            if status >= 400:
                raise FetchError(f"the server answered {status} {reason}")
            assert page is not None
            return page
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")
    finally:
        deadline.cancel()


def _connect(parts: SplitResult, addresses: Sequence[str], deadline: _Deadline) -> socket.socket:
    """A connection to one of the checked `addresses` (TLS for https)."""
    port = _port(parts)
    problem: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=deadline.remaining())
        except OSError as exc:
            problem = exc
            continue
        deadline.watch(sock)
        try:
            if parts.scheme == "https":
                sock.settimeout(deadline.remaining())
                context = ssl.create_default_context()
                tls = context.wrap_socket(sock, server_hostname=parts.hostname)
                deadline.watch(tls)
                return tls
            return sock
        except BaseException:
            deadline.watch(None)
            sock.close()
            raise
    if isinstance(problem, TimeoutError):
        raise deadline.error()
    raise FetchError(f"could not connect: {problem}")


def _request(
    parts: SplitResult, addresses: Sequence[str], deadline: _Deadline, max_bytes: int
) -> tuple[int, str, str | None, Page | None]:
    """(status, reason, Location header, the page for a non-redirect)."""
    sock: socket.socket | None = None
    try:
        sock = _connect(parts, addresses, deadline)
        connection_type = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(parts.hostname or "", _port(parts))
        connection.sock = sock  # already connected to the checked address
        sock.settimeout(deadline.remaining())
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request(
            "GET",
            target,
            headers={
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "identity",
                "Connection": "close",
            },
        )
        response = connection.getresponse()
        status, reason = response.status, response.reason
        if status in _REDIRECTS or status >= 400:
            return status, reason, response.getheader("Location"), None
        data = response.read(max_bytes + 1)
        if deadline.expired:
            raise deadline.error(" (the server was still sending)")
        page = Page(
            url=parts.geturl(),
            content_type=response.headers.get_content_type(),
            charset=response.headers.get_content_charset() or "utf-8",
            body=data[:max_bytes],
            cut=len(data) > max_bytes,
        )
        return status, reason, None, page
    except (OSError, http.client.HTTPException) as exc:
        if deadline.expired or isinstance(exc, TimeoutError):
            raise deadline.error() from None
        raise FetchError(f"the connection failed: {exc}") from None
    finally:
        deadline.watch(None)
        if sock is not None:
            sock.close()
