"""HTTP fetching: the only module that talks to the network.

One ``Fetcher`` is shared by every worker of a pass (or of the daemon). It is polite and
defensive:

- conditional GET that echoes the server's own ``ETag`` / ``Last-Modified`` verbatim;
- gzip/deflate decoded by requests, with the size cap enforced on the *decompressed* bytes
  while streaming (a zip bomb stops at the cap, not at the end);
- connect/read timeouts plus an overall deadline per request: a watchdog shuts the socket
  down at the deadline, so a server that drips one byte every few seconds cannot hold a
  worker (the read timeout alone restarts on every byte);
- bounded retries with exponential backoff on connection errors and 5xx;
- 429/503 with ``Retry-After`` raise ``RateLimited`` at once (the caller defers that source
  only, never the whole host);
- at most ``per_host`` requests in flight per host name, ``max_redirects`` redirects;
- an honest User-Agent naming the project.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from monitor import USER_AGENT
from monitor.errors import BodyTooLarge, FetchError, HTTPStatusError, RateLimited

if TYPE_CHECKING:
    from monitor.sources.base import Defaults

log = logging.getLogger("monitor.fetch")

DEFAULT_MAX_BODY = 5 * 1024 * 1024
CHUNK = 64 * 1024
MAX_RETRY_AFTER = 24 * 3600.0  # a server asking for more than a day is capped at a day
IDLE_EXIT = 5.0  # seconds the watchdog thread lingers without requests before exiting


class FetchCancelled(FetchError):
    """The fetcher was closed (daemon shutting down) while this request was in flight."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    final_url: str
    content_type: str | None
    elapsed: float = 0.0  # seconds, including retries

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def safe_url(url: str) -> str:
    """The URL without user:password (never log or print credentials)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def parse_retry_after(value: str | None, server_date: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date.

    An HTTP-date is measured against the server's own ``Date`` header when present, so a
    skewed client clock does not shorten or stretch the wait.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = datetime.now(UTC)
    if server_date:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            parsed = parsedate_to_datetime(server_date)
            reference = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return min(max((when - reference).total_seconds(), 0.0), MAX_RETRY_AFTER)


# --- the watchdog: lets another thread shut a request's socket down ---------------------


class _Watch:
    """One request in flight: its socket (once connected) and whether it was cut off."""

    __slots__ = ("cancelled", "expired", "sock")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.expired = False
        self.cancelled = False

    def cut(self) -> None:
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()  # .watch: the _Watch of the request this thread is making


class _WatchedMixin:
    sock: Any

    def _register(self) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.sock = self.sock
            if watch.expired or watch.cancelled:
                watch.cut()


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    def getresponse(self) -> Any:
        self._register()
        return super().getresponse()


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    def getresponse(self) -> Any:
        self._register()
        return super().getresponse()


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }


class _Watchdog:
    """One thread that cuts requests past their deadline (no thread per request)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadlines: dict[_Watch, float] = {}
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch, deadline: float) -> None:
        with self._cond:
            self._deadlines[watch] = deadline
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="fetch-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def remove(self, watch: _Watch) -> None:
        with self._cond:
            self._deadlines.pop(watch, None)

    def active(self) -> list[_Watch]:
        with self._cond:
            return list(self._deadlines)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._deadlines:
                    self._cond.wait(timeout=IDLE_EXIT)
                    if not self._deadlines:
                        self._thread = None  # idle: exit; the next add() starts another
                        return
                now = time.monotonic()
                due = [w for w, d in self._deadlines.items() if d <= now]
                for watch in due:
                    del self._deadlines[watch]
                    watch.expired = True
                nearest = min(self._deadlines.values(), default=now + 1.0)
                if not due:
                    self._cond.wait(timeout=max(nearest - now, 0.01))
            for watch in due:
                watch.cut()


# --- the fetcher -------------------------------------------------------------------------


class Fetcher:
    """Fetches URLs politely; safe to share between threads."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        deadline: float | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        max_redirects: int = 5,
        retries: int = 2,
        retry_backoff: float = 0.5,
        per_host: int = 2,
        user_agent: str | None = None,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        # The overall budget of one attempt: generous, but finite whatever the server does.
        self.deadline = deadline if deadline is not None else connect_timeout + read_timeout + 20
        self.max_body = max_body
        self.max_redirects = max_redirects
        self.retries = retries
        self.retry_backoff = retry_backoff
        self.per_host = per_host
        self.user_agent = user_agent or USER_AGENT
        self._host_limits: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []  # every session made (closed by close())
        self._idle: list[requests.Session] = []  # those not in use right now
        self._watchdog = _Watchdog()
        self._closed = threading.Event()

    @classmethod
    def from_defaults(cls, defaults: Defaults, **overrides: Any) -> Fetcher:
        """A Fetcher configured from ``Config.defaults`` (keyword overrides win)."""
        values: dict[str, Any] = {
            "connect_timeout": defaults.connect_timeout,
            "read_timeout": defaults.read_timeout,
            "max_body": defaults.max_body,
            "max_redirects": defaults.max_redirects,
            "retries": defaults.retries,
            "per_host": defaults.per_host,
            "user_agent": defaults.user_agent,
        }
        values.update(overrides)
        return cls(**values)

    # Sessions: a pool, one session per request in flight (requests.Session is not
    # documented as thread-safe). Not one per thread: the daemon and every `run_pass` start
    # new worker threads, and per-thread sessions (each with its keep-alive sockets) piled
    # up for the life of the process.
    @contextlib.contextmanager
    def _session(self) -> Iterator[requests.Session]:
        with self._lock:
            session = self._idle.pop() if self._idle else None
        if session is None:
            session = requests.Session()
            adapter = _WatchedAdapter(
                pool_connections=64, pool_maxsize=max(self.per_host, 2), max_retries=0
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.max_redirects = self.max_redirects
            session.headers["User-Agent"] = self.user_agent
            session.headers["Accept-Encoding"] = "gzip, deflate"
            # trust_env stays on: HTTP(S)_PROXY / NO_PROXY and REQUESTS_CA_BUNDLE apply.
            with self._lock:
                self._sessions.append(session)
        try:
            yield session
        finally:
            with self._lock:
                if not self._closed.is_set():
                    self._idle.append(session)

    @contextlib.contextmanager
    def _host_slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            limit = self._host_limits.get(host)
            if limit is None:
                limit = self._host_limits[host] = threading.BoundedSemaphore(self.per_host)
        with limit:
            yield

    def close(self) -> None:
        """Cut every request in flight (they raise FetchCancelled) and refuse new ones."""
        self._closed.set()
        for watch in self._watchdog.active():
            watch.cancelled = True
            watch.cut()
        with self._lock:
            sessions, self._sessions, self._idle = self._sessions, [], []
        for session in sessions:
            with contextlib.suppress(Exception):
                session.close()

    def get(
        self,
        url: str,
        *,
        source: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        timeouts: tuple[float, float] | None = None,
        max_body: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """GET ``url``; raises a FetchError subclass (carrying source and URL) on failure."""
        shown = safe_url(url)
        request_headers = dict(headers or {})
        # The server's validators, verbatim: never a date made from the client's clock.
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        started = time.monotonic()
        attempt = 0
        while True:
            if self._closed.is_set():
                raise FetchCancelled("shutting down", source=source, url=shown)
            try:
                with self._host_slot(url):
                    result = self._attempt(
                        url,
                        shown=shown,
                        source=source,
                        headers=request_headers,
                        timeouts=timeouts or (self.connect_timeout, self.read_timeout),
                        max_body=max_body or self.max_body,
                    )
            except _Retryable as exc:
                if attempt >= self.retries or self._closed.is_set():
                    raise exc.error from None
                delay = self.retry_backoff * (2**attempt)
                log.debug("retry source=%s in=%.2fs why=%s", source, delay, exc.error.message)
                attempt += 1
                # Sleep outside the host slot so other sources on that host go ahead.
                if self._closed.wait(delay):
                    raise FetchCancelled("shutting down", source=source, url=shown) from None
                continue
            return replace(result, elapsed=time.monotonic() - started)

    def _attempt(
        self,
        url: str,
        *,
        shown: str,
        source: str | None,
        headers: dict[str, str],
        timeouts: tuple[float, float],
        max_body: int,
    ) -> FetchResult:
        watch = _Watch()
        deadline = min(self.deadline, timeouts[0] + timeouts[1] + 20)
        _current.watch = watch
        self._watchdog.add(watch, time.monotonic() + deadline)
        try:
            try:
                with self._session() as session:
                    response = session.get(
                        url, headers=headers, timeout=timeouts, stream=True, allow_redirects=True
                    )
            except requests.TooManyRedirects:
                raise FetchError(
                    f"more than {self.max_redirects} redirects", source=source, url=shown
                ) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise self._network_error(exc, watch, deadline, source, shown) from None
            except requests.RequestException as exc:
                raise FetchError(_one_line(exc), source=source, url=shown) from None
            with response:
                status = response.status_code
                if status >= 400:
                    self._raise_for_status(response, source, shown)
                not_modified = status == 304
                return FetchResult(
                    status=status,
                    body=b""
                    if not_modified
                    else self._read_capped(response, watch, deadline, max_body, source, shown),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                    final_url=response.url,
                    content_type=None if not_modified else response.headers.get("Content-Type"),
                )
        finally:
            self._watchdog.remove(watch)
            _current.watch = None

    def _raise_for_status(
        self, response: requests.Response, source: str | None, shown: str
    ) -> None:
        status = response.status_code
        reason = f"HTTP {status} {response.reason or ''}".strip()
        if status in (429, 503):
            wait = parse_retry_after(
                response.headers.get("Retry-After"), response.headers.get("Date")
            )
            if wait is not None:
                raise RateLimited(
                    f"{reason}, retry after {wait:.0f} s",
                    status=status,
                    retry_after=wait,
                    source=source,
                    url=shown,
                )
        error = HTTPStatusError(reason, status=status, source=source, url=shown)
        if status >= 500:
            raise _Retryable(error)
        raise error

    def _read_capped(
        self,
        response: requests.Response,
        watch: _Watch,
        deadline: float,
        max_body: int,
        source: str | None,
        shown: str,
    ) -> bytes:
        too_large = BodyTooLarge(
            f"body larger than the {_size(max_body)} cap (max_body)", source=source, url=shown
        )
        declared = response.headers.get("Content-Length", "")
        # Content-Length counts compressed bytes: over the cap already means over the cap.
        if declared.isdigit() and int(declared) > max_body:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > max_body:
                    raise too_large
                chunks.append(chunk)
        except (requests.RequestException, OSError) as exc:
            raise self._network_error(exc, watch, deadline, source, shown) from None
        if watch.expired or watch.cancelled:
            # The socket was cut mid-body: what we have is truncated.
            raise self._network_error(None, watch, deadline, source, shown)
        return b"".join(chunks)

    @classmethod
    def _network_error(
        cls,
        exc: BaseException | None,
        watch: _Watch,
        deadline: float,
        source: str | None,
        shown: str,
    ) -> Exception:
        """The error to raise for a network failure: retryable only when it was quick to
        fail (refused/reset connections), never for a timeout (retrying a hang multiplies it)."""
        error = cls._describe_network_error(exc, watch, deadline, source, shown)
        slow = watch.expired or watch.cancelled or isinstance(exc, requests.Timeout)
        return error if slow else _Retryable(error)

    @staticmethod
    def _describe_network_error(
        exc: BaseException | None, watch: _Watch, deadline: float, source: str | None, shown: str
    ) -> FetchError:
        if watch.cancelled:
            return FetchCancelled("shutting down", source=source, url=shown)
        if watch.expired:
            return FetchError(
                f"no complete response within {deadline:.0f} s", source=source, url=shown
            )
        if isinstance(exc, requests.ConnectTimeout):
            return FetchError("connection timed out", source=source, url=shown)
        if isinstance(exc, requests.ReadTimeout):
            return FetchError("read timed out", source=source, url=shown)
        if isinstance(exc, requests.ConnectionError):
            return FetchError(f"connection failed: {_one_line(exc)}", source=source, url=shown)
        return FetchError(_one_line(exc) if exc else "network error", source=source, url=shown)


class _Retryable(Exception):
    """Internal: wraps the error of an attempt that may be retried."""

    def __init__(self, error: FetchError):
        super().__init__(error.message)
        self.error = error


def _one_line(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, on one line, without URLs."""
    reason: BaseException = exc
    for _ in range(5):
        inner = reason.args[0] if reason.args else None
        if isinstance(inner, BaseException):
            reason = inner
            continue
        inner_reason = getattr(reason, "reason", None)
        if isinstance(inner_reason, BaseException):
            reason = inner_reason
            continue
        break
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    # urllib3 messages embed "HTTPConnectionPool(host=..., port=...): Max retries ..." noise
    if "Max retries exceeded" in text and "(Caused by" in text:
        text = text.split("(Caused by", 1)[1].rstrip(")")
    text = _POOL_PREFIX.sub("", text.strip())
    text = _ERRNO.sub("", text.replace("Failed to establish a new connection: ", ""))
    return text[:300]


# "HTTPConnectionPool(host='x', port=80): " and "<...Connection object at 0x..>: " prefixes
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
_POOL_PREFIX = re.compile(r"^(?:<[^>]*>|\w+\(host=[^)]*\)):\s*")


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"
