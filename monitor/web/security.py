"""The web desk's defences, as one ASGI middleware and a few pure helpers.

- **Bind policy** (:func:`check_bind`): loopback by default; any other address needs
  ``MONITOR_WEB_TOKEN``, else ``monitor serve`` refuses to start.
- **Who may ask**: with a token set, the API and the feed take ``Authorization: Bearer
  <token>``, the pages a session cookie set by the login form. On loopback without a token,
  anyone on the machine may (a local script needs no ceremony), but the ``Host`` header must
  name the loopback too, so a web page on a rebound DNS name cannot reach the desk.
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
import secrets
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


@dataclass
class Guard:
    """The desk's security settings, built once per served app (never module state)."""

    token: str | None = None
    loopback: bool = True
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))

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

    # --- per request ------------------------------------------------------------------
    def signed_in(self, headers: dict[str, str], cookies: dict[str, str]) -> bool:
        """No token: everyone (on loopback). Token: a bearer header or a session cookie."""
        if not self.token:
            return True
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer ") and self.token_ok(auth[7:].strip()):
            return True
        return self.session_nonce(cookies.get(SESSION_COOKIE)) is not None


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
        if not path.startswith(OPEN_PATHS) and not self.guard.signed_in(headers, cookies):
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


async def _plain(send: Send, status: int, text: str) -> None:
    body = (text + "\n").encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
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
