"""Who may talk to `desktop-agent serve`: the Host, Origin, token and body-type checks.

Every request (the WebSocket handshake included) passes, in this order:

1. **Host** (DNS rebinding): a loopback name (`127.0.0.1`, `localhost`, `[::1]`) or the
   address the connection arrived on, with the port it arrived on; or a configured
   public name (`--public-host NAME[:PORT]`). Else 403 (400 without a Host).
2. **Origin** (cross-site requests): absent, the page's own origin, or `--cors-origin`.
   A request without Origin whose `Sec-Fetch-Site` says another site sent it (an
   `<img>`, a `<script>`, a link) is refused too. Else 403.
3. **Token** (when one is set), on every route but the page and its static files (they
   hold no secret): `Authorization: Bearer <token>` (any case of the scheme); `?token=`
   only on the GET routes where a header cannot be set (`EventSource`, the WebSocket
   handshake). Compared in constant time. Else 401. Never a cookie: a cookie for
   127.0.0.1 reaches every port of 127.0.0.1. The URL `serve` prints carries the token
   in its fragment (`/#token=...`, which a browser never sends); the page keeps it in
   `sessionStorage` (per origin, so per port) and sends it as above.
4. **Body type**: a POST must be `application/json`, else 415 (a form or a `no-cors`
   fetch cannot send that without a preflight).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiohttp import web
from yarl import URL

__all__ = ["Gate", "error_response", "is_loopback", "split_host", "startup_token"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: GET routes that may carry `?token=` (EventSource, the WebSocket handshake).
QUERY_TOKEN_ROUTES = frozenset({"/chat/stream", "/chat"})
#: `Sec-Fetch-Site` values of requests this server's own page (or the user) made.
OWN_FETCH_SITES = frozenset({"same-origin", "none"})
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message}}, status=status)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> tuple[str, int | None] | None:
    """`name[:port]` or `[v6][:port]` -> (lowercase name, port or None); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
    else:
        name, sep, port = value.partition(":")
        rest = f":{port}" if sep else ""
    if not name:
        return None
    if not rest:
        return name, None
    if rest.startswith(":") and rest[1:].isdigit() and len(rest) <= 6:
        return name, int(rest[1:])
    return None


def startup_token(
    host: str, token: str | None, *, no_token: bool, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The token `serve` requires: the one given, else $DESKTOP_AGENT_TOKEN, else a new
    random one (as Jupyter does). `no_token` is the explicit opt-out, on loopback only.

    Raises ValueError for a combination that is not allowed."""
    if no_token:
        if token:
            raise ValueError("--no-token and --token contradict each other")
        if not is_loopback(host):
            raise ValueError(f"--no-token is only allowed on a loopback address, not {host}")
        return None
    return token or environ.get("DESKTOP_AGENT_TOKEN") or secrets.token_urlsafe(32)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Gate:
    """The checks above, as aiohttp middlewares (`gate.middlewares`)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        cors_origin: str | None = None,
        public_hosts: Iterable[str] = (),
    ) -> None:
        self.token = token
        self.cors_origin = cors_origin.rstrip("/") if cors_origin else None
        self.public_hosts: list[tuple[str, int | None]] = []
        for entry in public_hosts:
            parsed = split_host(entry)
            if parsed is None:
                raise ValueError(f"not a host name: {entry!r}")
            self.public_hosts.append(parsed)
        self.middlewares = [self._guard, self._cors]

    # -- the checks -----------------------------------------------------------------

    @staticmethod
    def _local(request: web.Request) -> tuple[str, int] | None:
        """The address and port this connection arrived on."""
        transport = request.transport
        sockname = transport.get_extra_info("sockname") if transport is not None else None
        if not isinstance(sockname, tuple) or len(sockname) < 2:
            return None
        return str(sockname[0]), int(sockname[1])

    def _host_allowed(self, request: web.Request, host: tuple[str, int | None]) -> bool:
        name, port = host
        for public_name, public_port in self.public_hosts:
            if name == public_name and public_port in (None, port):
                return True
        local = self._local(request)
        if local is None:
            return False
        address, bound = local
        if (port if port is not None else 80) != bound:
            return False
        if name in LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(name) == ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False

    def _origin_allowed(self, request: web.Request, host: tuple[str, int | None]) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            site = request.headers.get("Sec-Fetch-Site", "none").lower()
            return site in OWN_FETCH_SITES
        if self.cors_origin is not None and origin.rstrip("/") == self.cors_origin:
            return True
        try:
            url = URL(origin)
        except ValueError:
            return False
        if url.scheme not in DEFAULT_PORTS or not url.host:
            return False  # "null" (a sandboxed frame, a file: page), or garbage
        default = DEFAULT_PORTS[url.scheme]
        port = url.port if url.port is not None else default
        return url.host.lower() == host[0] and port == (host[1] or default)

    @staticmethod
    def _public(request: web.Request) -> bool:
        """The page or one of its static files (by the route that matched, not the path's
        spelling): they hold no secret, so they need no token."""
        resource = request.match_info.route.resource
        if resource is None:
            return False
        return isinstance(resource, web.StaticResource) or resource.canonical == "/"

    def _token_given(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        if request.method in ("GET", "HEAD") and self._public(request):
            return True
        candidates: list[str] = []
        scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            candidates.append(value.strip())
        if request.method == "GET" and request.path in QUERY_TOKEN_ROUTES:
            candidates.extend(request.query.getall("token", []))
        return any(_same(given, self.token) for given in candidates)

    def refusal(self, request: web.Request) -> web.Response | None:
        """Why this request may not go on (an error response), or None."""
        header = request.headers.get("Host")
        host = split_host(header) if header else None
        if host is None:
            return error_response(400, "a valid Host header is required")
        if not self._host_allowed(request, host):
            return error_response(403, f"this server does not answer to the host {header!r}")
        if not self._origin_allowed(request, host):
            return error_response(403, "requests from another origin are not allowed")
        if request.method == "OPTIONS":
            return None  # a preflight: answered by the CORS middleware, without a token
        if not self._token_given(request):
            return error_response(401, "a valid token is required")
        if request.method == "POST" and request.content_type != "application/json":
            return error_response(415, "send the body as application/json")
        return None

    # -- middlewares ------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        return await handler(request)

    @web.middleware
    async def _cors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        allowed = self.cors_origin is not None and origin is not None
        allowed = allowed and (origin or "").rstrip("/") == self.cors_origin
        if request.method == "OPTIONS":
            if not allowed:
                return error_response(403, "cross-origin requests are not allowed")
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": origin or "",
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type, Authorization",
                    "Vary": "Origin",
                },
            )
        response = await handler(request)
        if allowed and not response.prepared:
            response.headers["Access-Control-Allow-Origin"] = origin or ""
            response.headers["Vary"] = "Origin"
        return response

    def cors_headers(self, request: web.Request) -> dict[str, str]:
        """For a streaming response (prepared before the CORS middleware sees it)."""
        origin = request.headers.get("Origin")
        if self.cors_origin is not None and origin and origin.rstrip("/") == self.cors_origin:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {}
