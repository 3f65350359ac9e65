"""One HTTP GET for `fetch_url`, with the checks an approved URL needs.

* **One deadline for everything**: resolving, connecting, TLS, headers and body
  together end at `limit_s`. A watchdog shuts the socket down when it passes, so
  a server sending one byte every half second cannot stretch a fetch.
* **What the user approved is what is reached.** A URL with a user name
  (`http://example.com@127.0.0.1/`) is refused, and so is a host in a numeric form
  other than a dotted quad (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`) or a
  bracketed IPv6 address in its canonical form (`[::ffff:7f00:1]` too: write the
  IPv4 address). Loopback, private, link-local, multicast, reserved and
  unspecified addresses are reached only when the URL names them: the host is the
  address itself, or `localhost` for a loopback address. A name that resolves to
  one of them is refused (so is a name whose DNS answer changes to one: DNS
  rebinding).
* **Each hop is checked by address.** The host is resolved (getaddrinfo) and the
  connection goes to exactly the address that was checked (the Host header and
  TLS name stay the host's), so a DNS answer that changes between the check and
  the connect is never used.
* **Redirects stay on the approved host** (same name; same port, or http → https
  on the default ports): one that leads elsewhere is refused with its target, so
  the model can ask for that URL, and the user is asked again.

No proxy is used (a proxy would connect to an address that was not checked).
Standard library only; runs in a worker thread (`web.fetch_text`).
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

__all__ = ["FetchError", "Page", "address_refusal", "get", "redirect_refusal", "url_refusal"]

MAX_REDIRECTS = 5
USER_AGENT = "desktop-agent (+https://github.com/desktop-agent)"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_REDIRECTS = {301, 302, 303, 307, 308}

Resolver = Callable[[str, int], list[str]]

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
#: A last label that makes a URL parser (and getaddrinfo) read the host as IPv4.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


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


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address `host` (a URL's hostname, lowercase, without brackets) spells in a
    standard form: a dotted quad, or a canonical IPv6 address; None for a name.

    Raises FetchError for a numeric form a reader would not recognise."""
    if ":" in host:  # (only a bracketed IPv6 literal has a colon in its hostname)
        try:
            ip = ipaddress.IPv6Address(host)
        except ValueError:
            raise FetchError(f"{host!r} is not an IPv6 address") from None
        if ip.ipv4_mapped is not None:
            raise FetchError(
                f"the host [{host}] is an IPv4 address not in a standard form: "
                f"write it as {ip.ipv4_mapped}"
            )
        if str(ip) != host:
            raise FetchError(f"the host [{host}] is not in a standard form: write [{ip}]")
        return ip
    if _DOTTED_QUAD.fullmatch(host):
        return ipaddress.IPv4Address(host)
    last = host.removesuffix(".").rsplit(".", 1)[-1]
    if _NUMERIC_LABEL.fullmatch(last):
        raise FetchError(
            f"the host {host!r} is a number not in a standard form "
            "(an IPv4 address is written as four decimal numbers, like 93.184.216.34)"
        )
    return None


def url_refusal(url: str) -> str | None:
    """Why `url` (http or https) may not be fetched whatever it resolves to, or None."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        return (
            f"{url!r} has a user name or password before the host: not fetched "
            "(the host is what follows the @)"
        )
    try:
        _literal(parts.hostname or "")
    except FetchError as exc:
        return str(exc)
    return None


def address_refusal(host: str, addresses: Sequence[str]) -> str | None:
    """Why `host` (resolved to `addresses`) may not be fetched, or None.

    A non-public address only when the URL names it: the host is that very address
    (in a standard form, see `url_refusal`), or `localhost` for a loopback address."""
    try:
        literal = _literal(host)
    except FetchError as exc:
        return str(exc)
    for address in addresses:
        kind = _kind(address)
        if kind is None:
            continue
        if literal is not None and literal == ipaddress.ip_address(address.split("%", 1)[0]):
            continue
        if host == "localhost" and kind == "loopback":
            continue
        return (
            f"{host} resolves to {address}, a {kind} address: not fetched (a local or "
            "private address is fetched only when the URL names it: the address itself, "
            "or localhost)"
        )
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
        for _ in range(MAX_REDIRECTS + 1):
            refusal = url_refusal(current)
            if refusal:
                raise FetchError(refusal)
            parts = urlsplit(current)
            host = parts.hostname or ""
            addresses = resolver(host, _port(parts))  # once: connect to what was checked
            refusal = address_refusal(host, addresses)
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
