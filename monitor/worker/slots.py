"""``per_host`` across every `monitor worker`: a Fetcher's host slots in the database.

Each request holds one of its host's ``per_host`` slot rows (monitor.store.hostslots) for
as long as it runs, so all workers on one database together never have more than
``per_host`` requests in flight to one host. The process-local semaphore is taken first,
so only the requests this process could start anyway poll the table (with a short
back-off) for a free row.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from sqlalchemy.orm import Session, sessionmaker

from monitor.fetch.transport import HostLimit
from monitor.store import hostslots
from monitor.store.db import transaction

WAIT_FIRST = 0.01  # seconds before the first retry of a full host; doubles up to WAIT_MAX
WAIT_MAX = 0.2


class ClusterHostSlots:
    """``Fetcher(host_slots=ClusterHostSlots(sessions, per_host, lease))``: for each host,
    a limit that is the process's semaphore plus a slot row shared by every worker."""

    def __init__(self, sessions: sessionmaker[Session], per_host: int, lease: float) -> None:
        self.sessions = sessions
        self.per_host = per_host
        self.lease = lease  # longer than any request may take (the Fetcher's deadline)
        self.holder = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ready: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, host: str, local: HostLimit) -> HostLimit:
        with self._lock:
            ready = host in self._ready
        if not ready:
            with transaction(self.sessions) as session:
                hostslots.ensure_slots(session, host, self.per_host)
            with self._lock:
                self._ready.add(host)
        return _ClusterLimit(self, host, local)


class _ClusterLimit:
    """One request's hold on a host: the local semaphore, then a slot row."""

    def __init__(self, owner: ClusterHostSlots, host: str, local: HostLimit) -> None:
        self.owner = owner
        self.host = host
        self.local = local
        self.slot: int | None = None

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        ends = None if timeout is None else time.monotonic() + timeout
        if not self.local.acquire(blocking, timeout):
            return False
        pause = WAIT_FIRST
        owner = self.owner
        while True:
            with transaction(owner.sessions) as session:
                slot = hostslots.claim(
                    session, self.host, owner.per_host, owner.holder, owner.lease
                )
            if slot is not None:
                self.slot = slot
                return True
            left = None if ends is None else ends - time.monotonic()
            if not blocking or (left is not None and left <= 0):
                self.local.release()
                return False
            time.sleep(pause if left is None else min(pause, left))
            pause = min(pause * 2, WAIT_MAX)

    def release(self) -> None:
        slot, self.slot = self.slot, None
        try:
            if slot is not None:
                with transaction(self.owner.sessions) as session:
                    hostslots.release(session, self.host, slot, self.owner.holder)
        finally:
            self.local.release()
