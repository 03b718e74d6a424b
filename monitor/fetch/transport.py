"""The fetcher's plumbing under requests: each request in flight is a ``Watch``.

The ``Watch`` of the request this thread is making (a thread-local: requests and urllib3
connect and follow redirects in the caller's thread) lets the layers below act for it:

- the watchdog thread shuts its socket down at its deadline or on ``Fetcher.close()``;
- the connection checks the address it actually connected to (``sock.getpeername()``,
  after DNS) against the request's ``AddressPolicy`` before a byte is sent, on every
  request including those reusing a kept-alive connection (``monitor.netguard``);
- the adapter takes the per-host slot of each hop's host (a redirect to a slow host
  releases the first host's slot, so a slow host never holds another host's slot);
- the session drops the caller's headers, ``Authorization`` and cookies on a redirect to
  another origin.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from monitor.netguard import AddressPolicy, Origin, make_origin, normal_host, origin_of

IDLE_EXIT = 5.0  # seconds the watchdog thread lingers without requests before exiting
SLOT_POLL = 0.1  # seconds between checks for a cut while waiting for a host slot


class Refusal(Exception):
    """Internal: the request was stopped before it was sent. Not an OSError, so neither
    urllib3 nor requests wrap or retry it."""


class AddressRefusal(Refusal):
    """The address connected to is internal and not allowed for this request."""


class HostBusy(Refusal):
    """No slot of the host freed up before the deadline."""


class HostLimit(Protocol):
    """A host's request slots: a ``threading.BoundedSemaphore``, or one that also holds a
    slot shared with other processes (monitor.worker.slots)."""

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool: ...

    def release(self) -> None: ...


class Watch:
    """One request in flight: its socket (once connected), its limits and whether it was
    cut off."""

    def __init__(
        self,
        *,
        policy: AddressPolicy | None = None,
        slots: Callable[[str], HostLimit] | None = None,
        private_headers: Iterable[str] = (),
        headers_origin: Origin | None = None,
        slot_until: float = float("inf"),
    ) -> None:
        self.sock: socket.socket | None = None
        self.expired = False
        self.cancelled = False
        self.policy = policy
        self.slots = slots
        self.private_headers = tuple(private_headers)
        self.headers_origin = headers_origin
        self.slot_until = slot_until  # monotonic time after which no host slot is awaited
        self._held: HostLimit | None = None
        self._held_host: str | None = None

    def cut(self) -> None:
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def enter_host(self, host: str) -> None:
        """Hold the slot of ``host`` (releasing the previous hop's) for the next request."""
        if self.slots is None:
            return
        host = normal_host(host)
        if host == self._held_host:
            return
        self.leave_host()
        limit = self.slots(host)
        while not limit.acquire(timeout=SLOT_POLL):
            if self.cancelled or self.expired or time.monotonic() >= self.slot_until:
                raise HostBusy(f"{host} had no free slot (per_host) before the deadline")
        self._held, self._held_host = limit, host

    def leave_host(self) -> None:
        if self._held is not None:
            self._held.release()
        self._held = self._held_host = None


_current = threading.local()  # .watch: the Watch of the request this thread is making


def current_watch() -> Watch | None:
    return getattr(_current, "watch", None)


def set_current_watch(watch: Watch | None) -> None:
    _current.watch = watch


class _WatchedMixin:
    sock: Any
    host: str
    port: int
    proxy: Any
    scheme = "http"

    def _register(self) -> None:
        watch = current_watch()
        if watch is not None:
            watch.sock = self.sock
            if watch.expired or watch.cancelled:
                watch.cut()

    def _check_peer(self, sock: socket.socket) -> None:
        watch = current_watch()
        if watch is None or watch.policy is None or self.proxy:
            # Through a proxy the peer is the proxy (the operator's own setting), and the
            # proxy resolves the target: there is no target address to check here.
            return
        peer = str(sock.getpeername()[0])
        reason = watch.policy.refusal(make_origin(self.scheme, self.host, self.port), peer)
        if reason is not None:
            raise AddressRefusal(reason)

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        try:
            self._check_peer(sock)
        except AddressRefusal:
            sock.close()
            raise
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # a kept-alive connection, checked for THIS request
            self._check_peer(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        self._register()
        return super().getresponse()  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    scheme = "http"


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    scheme = "https"


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        watch = current_watch()
        if watch is not None:  # every hop of a redirect chain comes through here
            watch.enter_host(urlsplit(request.url or "").hostname or "")
        return super().send(request, *args, **kwargs)


class GuardedSession(requests.Session):
    """A session whose redirects to another origin carry none of the caller's headers."""

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: Any) -> None:
        super().rebuild_auth(prepared_request, response)  # drops Authorization on a new host
        watch = current_watch()
        if watch is None or origin_of(prepared_request.url or "") == watch.headers_origin:
            return
        for name in (*watch.private_headers, "Authorization", "Cookie"):
            prepared_request.headers.pop(name, None)


class Watchdog:
    """One thread that cuts requests past their deadline (no thread per request)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._deadlines: dict[Watch, float] = {}
        self._thread: threading.Thread | None = None

    def add(self, watch: Watch, deadline: float) -> None:
        with self._cond:
            self._deadlines[watch] = deadline
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="fetch-watchdog", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def remove(self, watch: Watch) -> None:
        with self._cond:
            self._deadlines.pop(watch, None)

    def active(self) -> list[Watch]:
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
