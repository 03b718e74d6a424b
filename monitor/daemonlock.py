"""The single-daemon lock: one `monitor run` per database, and what it says to others.

SQLite: an OS lock on ``<database>.lock`` beside the file, holding the daemon's pid and,
while the database refuses writes, the outage. Other databases: a row in the ``state``
table with pid, host and a heartbeat (on PostgreSQL behind an advisory lock).
``read_daemon_report`` reads either for `monitor doctor` and the web desk.

Apart from :mod:`monitor.daemon` because none of it needs the scheduler: the lock is taken,
kept and read the same way whatever runs the jobs, and a reader of the report need not
import the daemon (its scheduler, the tasks, the fetcher).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from monitor.dbhealth import (
    LOCK_KEY,
    STALE_AFTER,
    DaemonReport,
    Outage,
    lock_file_of,
    lock_row_report,
    read_lock_file,
    report_text,
)
from monitor.errors import MonitorError, StoreError
from monitor.store.db import transaction, utcnow
from monitor.store.locks import HeldLock, is_server
from monitor.store.state import drop_lock, lock_holder, set_state, take_lock, touch_lock


class DaemonAlreadyRunning(MonitorError):
    """Another `monitor run` holds this database."""


class DaemonLock:
    """Only one daemon per database.

    SQLite: an OS lock (``fcntl.flock``) on ``<database>.lock`` next to the file, holding the
    pid; the OS drops it when the process dies, so a crash never leaves a stale lock.
    Other databases: a row in the ``state`` table with pid, host and a heartbeat; a row
    whose heartbeat is older than 2 minutes is taken over.
    """

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]):
        self.engine = engine
        self.sessions = sessions
        self._file: IO[str] | None = None
        self._row_held = False
        self._held: HeldLock | None = None
        self.lock_path: Path | None = lock_path_of(engine.url)

    def acquire(self) -> None:
        if self.lock_path is not None:
            self._acquire_file(self.lock_path)
        else:
            self._acquire_row()

    def _acquire_file(self, path: Path) -> None:
        import fcntl

        try:
            # 0600 like the database: it names the daemon's pid, nothing for other users
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            handle = open(descriptor, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        except OSError as exc:  # a read-only folder, a directory in the way ...
            raise StoreError(f"cannot open the daemon lock file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.readline().strip() or "unknown"
            handle.close()
            raise DaemonAlreadyRunning(
                f"another monitor daemon (pid {holder}) is already running on this database "
                f"(lock file {path})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def _identity(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname()}

    def _acquire_row(self) -> None:
        stale_after = timedelta(seconds=STALE_AFTER)
        if is_server(self.engine):
            # PostgreSQL: the advisory lock is the lock; the row only says who holds it.
            # A dead holder's connection is gone, so is its lock: take the row over at once.
            held = HeldLock(self.engine, LOCK_KEY)
            if not held.try_acquire():
                with transaction(self.sessions) as session:
                    holder = lock_holder(session, LOCK_KEY)
                raise DaemonAlreadyRunning(
                    f"another monitor daemon (pid {holder.get('pid')} on "
                    f"{holder.get('host')}) is already running on this database"
                )
            self._held = held
            stale_after = timedelta(0)
        with transaction(self.sessions) as session:
            taken = take_lock(session, LOCK_KEY, self._identity(), utcnow(), stale_after)
        if taken is not None:
            holder, heartbeat = taken
            raise DaemonAlreadyRunning(
                f"another monitor daemon (pid {holder.get('pid')} on "
                f"{holder.get('host')}) is already running on this database "
                f"(heartbeat {heartbeat:%H:%M:%S} UTC)"
            )
        self._row_held = True

    def heartbeat(self) -> None:
        """A write proving the daemon alive and its database writable (DBAPIError if not):
        the lock row's time, or on SQLite a state row of the same name (the web desk's
        ``/healthz`` reads its age)."""
        with transaction(self.sessions) as session:
            if self._row_held:
                touch_lock(session, LOCK_KEY, utcnow())
            else:
                set_state(session, LOCK_KEY, json.dumps(self._identity()), utcnow())

    def still_held(self) -> bool:
        """Whether this lock still keeps other daemons out: on SQLite, the lock file is
        still the one this daemon locked (not deleted, nor replaced by another daemon's);
        on PostgreSQL, the advisory lock's session is alive."""
        if self._file is not None and self.lock_path is not None:
            try:
                mine = os.fstat(self._file.fileno())
                there = os.stat(self.lock_path)
            except OSError:
                return False
            return (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino)
        if self._held is not None:
            return self._held.still_held()
        return True

    def publish(self, outage: Outage | None) -> None:
        """Say in the lock file (SQLite) whether the database takes writes: the one place
        the daemon can say so while it does not."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):  # a full disk: the log line still says it
            self._file.seek(0)
            self._file.truncate()
            self._file.write(report_text(os.getpid(), outage))
            self._file.flush()

    def release(self) -> None:
        if self._file is not None:
            import fcntl

            with contextlib.suppress(OSError):
                self._file.seek(0)
                self._file.truncate()
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._row_held or self.lock_path is not None:
            with contextlib.suppress(Exception), transaction(self.sessions) as session:
                drop_lock(session, LOCK_KEY, {"pid": os.getpid()})
            self._row_held = False
        if self._held is not None:
            self._held.release()
            self._held = None


def lock_path_of(url: URL) -> Path | None:
    """The lock file of a SQLite database (see monitor.dbhealth.lock_file_of)."""
    return lock_file_of(url.get_backend_name(), url.database)


def read_daemon_report(engine: Engine, now: datetime | None = None) -> DaemonReport:
    """Whether a daemon runs on this database, and what it says about the database.

    SQLite: the lock file; a daemon holds its lock (a shared lock here fails) and writes
    its database's state into it. Other databases: the lock row and its heartbeat."""
    path = lock_path_of(engine.url)
    if path is not None:
        return read_lock_file(path)
    from monitor.store.changelog import state_updated_at
    from monitor.store.state import get_state

    with transaction(session_factory_of(engine)) as session:
        beat = state_updated_at(session, LOCK_KEY)
        holder = get_state(session, LOCK_KEY)
    return lock_row_report(holder, beat, now or utcnow())


def session_factory_of(engine: Engine) -> sessionmaker[Session]:
    from monitor.store.db import session_factory

    return session_factory(engine)
