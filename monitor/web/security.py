"""The web desk's defences, as one ASGI middleware and a few pure helpers.

- **Bind policy** (:func:`check_bind`): loopback by default; any other address needs
  ``MONITOR_WEB_TOKEN``, else ``monitor serve`` refuses to start.
- **Who may ask**: with a token set, the API and the feed take ``Authorization: Bearer
  <token>``, the pages a session cookie set by the login form. On loopback without a token,
  anyone on the machine may (a local script needs no ceremony), but the ``Host`` header must
  name the loopback too, so a web page on a rebound DNS name cannot reach the desk.
- **Guessing the token** (:class:`LoginThrottle`): an address that presents
  ``LOGIN_FAILURES_ALLOWED`` wrong tokens within ``LOGIN_WINDOW_S`` (at the login form or as
  a Bearer) gets 429 with ``Retry-After`` for every token it presents, right or wrong, until
  ``LOGIN_WINDOW_S`` has passed; a session cookie it already holds keeps working.
- **Cross-site writes**: a state-changing request whose ``Origin`` (or ``Sec-Fetch-Site``)
  is foreign gets 403; forms and htmx requests carry a CSRF token (an HMAC of the session);
  the JSON API takes only ``application/json``, which a foreign page cannot send without a
  CORS preflight that we never answer.
- **What the browser runs**: a Content-Security-Policy with no inline script or style, no
  framing, no plugins; ``nosniff``; no referrer to the outlets an analyst follows.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

TOKEN_ENV = "MONITOR_WEB_TOKEN"
SESSION_COOKIE = "monitor_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = ("/healthz", "/login", "/static/")  # reachable without signing in
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on the
    # desk's own form posts, which the Origin check must refuse. Outlets still get no
    # referrer (and their links carry rel="noreferrer").
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# Wrong tokens an address may present within the window before it must wait; the window is
# also how long it then waits. Five tries in five minutes is plenty for a person mistyping,
# and 1,440 a day is nothing against `openssl rand -hex 24`.
LOGIN_FAILURES_ALLOWED = 5
LOGIN_WINDOW_S = 300.0
# Addresses remembered at most (a few hundred bytes each); past it the one whose last wrong
# token is oldest is forgotten, so a flood of addresses cannot grow the memory.
LOGIN_TRACKED_CLIENTS = 4096

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BindRefused(Exception):
    """A non-loopback address without a token: the one line the CLI prints."""


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost`` (and the rest of 127/8): reachable only from
    this machine."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Raise :class:`BindRefused` when ``host`` is reachable from other machines and no
    token protects the desk."""
    if not is_loopback(host) and not token:
        raise BindRefused(
            f"error: refusing to listen on {host} without {TOKEN_ENV} "
            f"(set it to a long random secret, or bind 127.0.0.1)"
        )


def sign(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def safe_next(target: str | None) -> str:
    """A login's ``next`` only ever leads to a page of this site (``/...``, not ``//host``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class Throttled(Exception):
    """This address guessed wrong too often: it may present a token again in
    ``retry_after`` seconds (whole, for the Retry-After header)."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def client_key(host: str | None) -> str:
    """The address a throttle counts for: an IPv4 address as it is, an IPv6 one by its /64
    (one machine or site usually holds a whole /64, so counting each address would let it
    guess 2^64 times as often)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


@dataclass
class _Attempts:
    failures: list[float] = field(default_factory=list)  # times of recent wrong tokens
    until: float | None = None  # throttled until then


class LoginThrottle:
    """Wrong tokens per client address: after ``allowed`` within ``window_s`` seconds the
    address waits ``window_s`` seconds, during which every token it presents is refused
    (a right one too, else the throttle would not stop the guessing). At most ``capacity``
    addresses are remembered. ``clock`` is monotonic seconds (injected by tests)."""

    def __init__(
        self,
        allowed: int = LOGIN_FAILURES_ALLOWED,
        window_s: float = LOGIN_WINDOW_S,
        capacity: int = LOGIN_TRACKED_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.allowed = allowed
        self.window_s = window_s
        self.capacity = capacity
        self.clock = clock
        # Ordered by last wrong token, oldest first: the one to forget when full.
        self._clients: OrderedDict[str, _Attempts] = OrderedDict()
        # The desk runs in one event loop, but `monitor run --web` and the tests share a
        # guard across threads: the bookkeeping is cheap enough to lock.
        self._lock = threading.Lock()

    def wait(self, client: str) -> int:
        """Whole seconds ``client`` must still wait before presenting a token; 0: go ahead."""
        with self._lock:
            attempts = self._clients.get(client)
            if attempts is None or attempts.until is None:
                return 0
            left = attempts.until - self.clock()
            if left > 0:
                return max(1, math.ceil(left))
            del self._clients[client]  # served its time: a fresh start
            return 0

    def failed(self, client: str) -> None:
        """``client`` presented a wrong token (the caller checked :meth:`wait` first)."""
        with self._lock:
            now = self.clock()
            attempts = self._clients.get(client)
            if attempts is None:
                if len(self._clients) >= self.capacity:
                    self._clients.popitem(last=False)
                attempts = self._clients[client] = _Attempts()
            else:
                self._clients.move_to_end(client)
            recent = [t for t in attempts.failures if now - t < self.window_s]
            attempts.failures = [*recent, now]
            if len(attempts.failures) >= self.allowed:
                attempts.until = now + self.window_s
                log.warning(
                    "web login throttled client=%s failures=%d retry_after_s=%d",
                    client,
                    len(attempts.failures),
                    math.ceil(self.window_s),
                )
                attempts.failures = []

    def __len__(self) -> int:
        return len(self._clients)


@dataclass
class Guard:
    """The desk's security settings, built once per served app (never module state)."""

    token: str | None = None
    loopback: bool = True
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    # --- sessions and CSRF ------------------------------------------------------------
    def session_value(self) -> str:
        """A fresh signed session cookie value: ``nonce.signature``."""
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{sign(self.secret, 'session', nonce)}"

    def session_nonce(self, cookie: str | None) -> str | None:
        """The nonce of a valid session cookie, else None."""
        if not cookie or "." not in cookie:
            return None
        nonce, signature = cookie.rsplit(".", 1)
        expected = sign(self.secret, "session", nonce)
        return nonce if hmac.compare_digest(signature, expected) else None

    def csrf_token(self, cookie: str | None) -> str:
        """The CSRF token for forms: bound to the session when there is one."""
        return sign(self.secret, "csrf", self.session_nonce(cookie) or "anonymous")

    def csrf_ok(self, cookie: str | None, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(str(presented), self.csrf_token(cookie))

    def token_ok(self, presented: str | None) -> bool:
        return (
            bool(self.token)
            and bool(presented)
            and hmac.compare_digest(str(presented).encode(), str(self.token).encode())
        )

    def attempt(self, client: str, presented: str | None) -> bool:
        """Whether ``presented`` (at the login form or as a Bearer) is the token, a wrong
        one counted against ``client`` (see :func:`client_key`). :class:`Throttled` when
        ``client`` has guessed wrong too often, whatever it presents now."""
        if not self.token:
            return False  # nothing to guess: every token is wrong, none counted
        wait = self.throttle.wait(client)
        if wait:
            raise Throttled(wait)
        if self.token_ok(presented):
            return True
        self.throttle.failed(client)
        return False

    # --- per request ------------------------------------------------------------------
    def signed_in(self, headers: dict[str, str], cookies: dict[str, str], client: str) -> bool:
        """No token: everyone (on loopback). Token: a bearer header or a session cookie.
        :class:`Throttled` when a throttled ``client`` presents a bearer token."""
        if not self.token:
            return True
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self.attempt(client, auth[7:].strip()):
            return True
        return self.session_nonce(cookies.get(SESSION_COOKIE)) is not None


def scope_client(scope: Scope) -> str | None:
    """The peer's address (no proxy header is trusted: uvicorn runs with
    ``proxy_headers=False``), None when the server does not know it."""
    client = scope.get("client")
    return str(client[0]) if client else None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _cookies(header: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found[name] = value
    return found


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]")[0] + "]"
    return host_header.rsplit(":", 1)[0] if ":" in host_header else host_header


def foreign_origin(headers: dict[str, str], scheme: str) -> bool:
    """True when the browser says the request comes from another site (or from an opaque
    origin such as a sandboxed frame: ``Origin: null``)."""
    fetch_site = headers.get("sec-fetch-site", "")
    if fetch_site in ("cross-site", "same-site"):
        return True
    origin = headers.get("origin")
    if origin is None:
        return False  # a script or curl on this machine, not a browser on another site
    return origin != f"{scheme}://{headers.get('host', '')}"


class GuardMiddleware:
    """Applies :class:`Guard` to every HTTP request and adds the security headers."""

    def __init__(self, app: ASGIApp, guard: Guard):
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        path: str = scope["path"]
        method: str = scope["method"]
        if self.guard.loopback and not self.guard.token:
            host = _host_name(headers.get("host", "")).lower()
            if host not in LOOPBACK_NAMES and not is_loopback(host):
                await _plain(send, 421, "this desk answers only to a loopback host name")
                return
        if method not in SAFE_METHODS and foreign_origin(headers, scope.get("scheme", "http")):
            await _plain(send, 403, "cross-site request refused")
            return
        cookies = _cookies(headers.get("cookie", ""))
        try:
            signed_in = path.startswith(OPEN_PATHS) or self.guard.signed_in(
                headers, cookies, client_key(scope_client(scope))
            )
        except Throttled as exc:
            await _plain(
                send,
                429,
                f"too many wrong tokens from this address: retry after {exc.retry_after} s",
                [(b"retry-after", str(exc.retry_after).encode())],
            )
            return
        if not signed_in:
            if path.startswith("/api/") or path == "/feed.atom" or method not in SAFE_METHODS:
                await _plain(send, 401, "sign in: Authorization: Bearer <MONITOR_WEB_TOKEN>")
            else:
                query = scope.get("query_string", b"").decode("latin-1")
                target = path + (f"?{query}" if query else "")
                await _redirect(send, "/login?next=" + quote(target, safe=""))
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _plain(
    send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *(extra or []),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 303,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})
