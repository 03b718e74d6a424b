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
- at most ``per_host`` requests in flight per host name (each hop of a redirect chain
  holds its own host's slot only), ``max_redirects`` redirects;
- a per-source deadline (``deadline_at``) that no attempt, retry or wait goes past;
- no server-side request forgery: internal addresses only at the source's own origin or
  an allowed host, checked on the address connected to (``monitor.netguard``);
- the caller's headers, Authorization and cookies never follow a redirect to another
  origin; URLs print with their credentials masked (``safe_url``);
- an honest User-Agent naming the project.

The plumbing under requests (the watchdog, checked connections, per-hop host slots) is in
``monitor.fetch.transport``; reading a response (status to error, Retry-After, the capped
body, headers) in ``monitor.fetch.response``; which network failures are retried, and how
they read on one line, in ``monitor.fetch.failures``. This module keeps the request loop:
sessions, host limits, attempts, retries and deadlines.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from monitor import USER_AGENT
from monitor.errors import AddressRefused, FetchError
from monitor.fetch.failures import FetchCancelled, Retryable, network_error, one_line
from monitor.fetch.response import (
    CHUNK,
    MAX_RETRY_AFTER,
    header,
    parse_retry_after,
    raise_for_status,
    read_capped,
)
from monitor.fetch.transport import (
    AddressRefusal,
    GuardedSession,
    HostBusy,
    HostLimit,
    Watch,
    Watchdog,
    WatchedAdapter,
    set_current_watch,
)
from monitor.netguard import AddressPolicy, origin_of
from monitor.safetext import safe_text, safe_url, strip_controls

if TYPE_CHECKING:
    from monitor.sources.base import Defaults

__all__ = [
    "CHUNK",
    "DEFAULT_MAX_BODY",
    "HOST_POOLS",
    "MAX_RETRY_AFTER",
    "FetchCancelled",
    "FetchResult",
    "Fetcher",
    "parse_retry_after",
    "safe_url",
]

log = logging.getLogger("monitor.fetch")


class _MaskedLog(logging.Filter):
    """urllib3's DEBUG lines quote request paths ("GET /feed?api_key=..."): mask them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = safe_text(record.getMessage()), None
        return True


for _name in ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_MaskedLog())

DEFAULT_MAX_BODY = 5 * 1024 * 1024
HOST_POOLS = 64  # hosts whose kept-alive connections are kept (least recently used go)


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
        allow_private_hosts: Iterable[str] = (),
        host_slots: Callable[[str, HostLimit], HostLimit] | None = None,
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
        self.allow_private_hosts = tuple(allow_private_hosts)
        self._host_limits: dict[str, threading.BoundedSemaphore] = {}
        # Also held for each request when given: a slot shared with other processes
        # (`monitor worker`'s cluster-wide per_host, monitor.worker.slots).
        self.host_slots = host_slots
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []  # every session made (closed by close())
        self._idle: list[requests.Session] = []  # those not in use right now
        self._adapter: WatchedAdapter | None = None  # shared by the sessions (its pools)
        self._watchdog = Watchdog()
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
            "allow_private_hosts": defaults.allow_private_hosts,
        }
        values.update(overrides)
        return cls(**values)

    # Sessions: a pool, one session per request in flight (requests.Session is not
    # documented as thread-safe). Not one per thread: the daemon and every `run_pass` start
    # new worker threads, and per-thread sessions (each with its keep-alive sockets) piled
    # up for the life of the process.
    # The sessions share one adapter, so one pool of kept-alive connections (urllib3's pools
    # are thread-safe): at most per_host idle sockets for each of the last HOST_POOLS hosts.
    # An adapter per session kept a socket per session and host, up to concurrency x 64
    # (2,048 at the default 32: past the usual limit of 1,024 open files).
    @contextlib.contextmanager
    def _session(self) -> Iterator[requests.Session]:
        with self._lock:
            session = self._idle.pop() if self._idle else None
            if self._adapter is None:
                self._adapter = WatchedAdapter(
                    pool_connections=HOST_POOLS,
                    pool_maxsize=max(self.per_host, 2),
                    max_retries=0,
                )
            adapter = self._adapter
        if session is None:
            session = GuardedSession()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.max_redirects = self.max_redirects
            session.headers["User-Agent"] = self.user_agent
            session.headers["Accept-Encoding"] = "gzip, deflate"
            # trust_env stays on: HTTP(S)_PROXY / NO_PROXY and REQUESTS_CA_BUNDLE apply.
            with self._lock:
                self._sessions.append(session)
        # Cookies live for one request and its redirects: a cookie one source's server set
        # is never sent on another source's request.
        session.cookies.clear()
        try:
            yield session
        finally:
            with self._lock:
                if not self._closed.is_set():
                    self._idle.append(session)

    def _host_limit(self, host: str) -> HostLimit:
        with self._lock:
            limit = self._host_limits.get(host)
            if limit is None:
                limit = self._host_limits[host] = threading.BoundedSemaphore(self.per_host)
        if self.host_slots is not None:
            # per_host across processes too (`monitor worker`, monitor.worker.slots)
            return self.host_slots(host, limit)
        return limit

    def close(self) -> None:
        """Cut every request in flight (they raise FetchCancelled) and refuse new ones."""
        self._closed.set()
        for watch in self._watchdog.active():
            watch.cancelled = True
            watch.cut()
        with self._lock:
            sessions, self._sessions, self._idle = self._sessions, [], []
            adapter, self._adapter = self._adapter, None
        for session in sessions:
            with contextlib.suppress(Exception):
                session.close()
        if adapter is not None:
            with contextlib.suppress(Exception):
                adapter.close()

    def get(
        self,
        url: str,
        *,
        source: str | None = None,
        origin: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        timeouts: tuple[float, float] | None = None,
        max_body: int | None = None,
        headers: Mapping[str, str] | None = None,
        deadline_at: float | None = None,
    ) -> FetchResult:
        """GET ``url``; raises a FetchError subclass (carrying source and URL) on failure.

        ``origin``: the URL the operator configured for the source (default: ``url``). Only
        that origin, and ``allow_private_hosts``, may be at an internal address; a link or
        redirect elsewhere that resolves to one raises ``AddressRefused``.
        ``headers`` (and the validators) go to ``url``'s origin only: a redirect to another
        origin carries none of them, nor Authorization or cookies.
        ``deadline_at`` (``time.monotonic()`` seconds): no attempt, retry or wait for a host
        slot goes past it; a request still running then is cut.
        """
        shown = safe_url(url)
        request_headers = dict(headers or {})
        # The server's validators, verbatim: never a date made from the client's clock.
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        policy = AddressPolicy.for_source(origin or url, self.allow_private_hosts)
        ends = deadline_at if deadline_at is not None else float("inf")
        started = time.monotonic()
        attempt = 0
        while True:
            if self._closed.is_set():
                raise FetchCancelled("shutting down", source=source, url=shown)
            if time.monotonic() >= ends:
                raise FetchError("the source's deadline passed", source=source, url=shown)
            try:
                result = self._attempt(
                    url,
                    shown=shown,
                    source=source,
                    headers=request_headers,
                    timeouts=timeouts or (self.connect_timeout, self.read_timeout),
                    max_body=max_body or self.max_body,
                    policy=policy,
                    ends=ends,
                )
            except Retryable as exc:
                delay = self.retry_backoff * (2**attempt)
                if (
                    attempt >= self.retries
                    or self._closed.is_set()
                    or time.monotonic() + delay >= ends
                ):
                    raise exc.error from None
                log.debug("retry source=%s in=%.2fs why=%s", source, delay, exc.error.message)
                attempt += 1
                # Sleep holding no host slot, so other sources on that host go ahead.
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
        policy: AddressPolicy,
        ends: float,
    ) -> FetchResult:
        watch = Watch(
            policy=policy,
            slots=self._host_limit,
            private_headers=headers,
            headers_origin=origin_of(url),
            slot_until=ends,
        )
        set_current_watch(watch)
        try:
            # The first hop's host slot is awaited before the attempt's clock starts (as
            # long as the source's deadline allows); later hops take theirs within it.
            watch.enter_host(urlsplit(url).hostname or "")
            now = time.monotonic()
            budget = min(self.deadline, timeouts[0] + timeouts[1] + 20, ends - now)
            self._watchdog.add(watch, now + budget)
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
                raise network_error(exc, watch, budget, source, shown) from None
            except requests.RequestException as exc:
                raise FetchError(one_line(exc), source=source, url=shown) from None
            with response:
                status = response.status_code
                if status >= 400:
                    raise_for_status(response, source, shown)
                not_modified = status == 304
                return FetchResult(
                    status=status,
                    body=b""
                    if not_modified
                    else read_capped(response, watch, budget, max_body, source, shown),
                    etag=header(response, "ETag"),
                    last_modified=header(response, "Last-Modified"),
                    final_url=strip_controls(response.url),
                    content_type=None if not_modified else header(response, "Content-Type"),
                )
        except AddressRefusal as exc:
            raise AddressRefused(str(exc), source=source, url=shown) from None
        except HostBusy as exc:
            if watch.cancelled:
                raise FetchCancelled("shutting down", source=source, url=shown) from None
            raise FetchError(str(exc), source=source, url=shown) from None
        finally:
            self._watchdog.remove(watch)
            watch.leave_host()
            set_current_watch(None)
