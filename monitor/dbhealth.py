"""The daemon's view of its own database: available, or unavailable since when and why.

A database that refuses writes (locked by another program, read-only, disk full, server
gone) is one outage, however many sources and jobs run into it. :class:`DatabaseWatch`
counts it once: the daemon logs it at ERROR when it starts and then at most once a minute,
and learns when it ends (the next write that succeeds). An outage that lasted longer than
``alerts.database_down_after`` becomes one health alert once the database takes writes
again.

While the database refuses writes, the daemon cannot say so in it: it says so in its lock
file instead (beside a SQLite database, see :mod:`monitor.daemonlock`), which `monitor status`
and the web desk's ``/healthz`` read (:class:`DaemonReport`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

LOG_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Outage:
    """The database unavailable from ``since`` (naive UTC) to ``until`` (None: still)."""

    since: datetime
    error: str
    until: datetime | None = None

    def lasted(self, now: datetime) -> timedelta:
        return (self.until or now) - self.since


class DatabaseWatch:
    """Thread-safe record of the current outage; the daemon's jobs report to it."""

    def __init__(self, log_every: timedelta = LOG_EVERY) -> None:
        self._lock = threading.Lock()
        self._outage: Outage | None = None
        self._logged_at: datetime | None = None
        self.log_every = log_every

    def failed(self, error: str, now: datetime) -> bool:
        """A write failed. True when the outage is worth a log line now: it has just begun,
        or the last line about it is ``log_every`` old."""
        with self._lock:
            if self._outage is None:
                self._outage = Outage(since=now, error=error)
                self._logged_at = now
                return True
            self._outage = replace(self._outage, error=error)
            if self._logged_at is None or now - self._logged_at >= self.log_every:
                self._logged_at = now
                return True
            return False

    def succeeded(self, now: datetime) -> Outage | None:
        """A write succeeded: the outage that this ends, if there was one."""
        with self._lock:
            ended = self._outage
            self._outage = None
            self._logged_at = None
        return replace(ended, until=now) if ended is not None else None

    @property
    def outage(self) -> Outage | None:
        with self._lock:
            return self._outage


# --- what the daemon tells the world ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaemonReport:
    """What a running daemon says about itself: its pid and its database's state."""

    pid: int | None
    running: bool
    database_since: datetime | None = None  # unavailable since (None: available)
    database_error: str | None = None

    @property
    def database_ok(self) -> bool:
        return self.database_since is None

    def to_json(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "database": "ok" if self.database_ok else "unavailable",
            "database_since": self.database_since.isoformat(timespec="seconds")
            if self.database_since
            else None,
            "database_error": self.database_error,
        }

    def describe(self) -> str:
        """One line for `monitor status`."""
        if not self.running:
            return "not running"
        line = f"running (pid {self.pid})"
        if self.database_since is not None:
            line += (
                f"; database unavailable since {self.database_since:%Y-%m-%d %H:%M:%S} UTC: "
                f"{self.database_error or 'unknown error'}"
            )
        return line


def report_text(pid: int, outage: Outage | None) -> str:
    """The lock file's content: the pid on the first line (what a second daemon quotes),
    then the database's state as JSON."""
    state: dict[str, Any] = {"database": "ok"}
    if outage is not None:
        state = {
            "database": "unavailable",
            "since": outage.since.isoformat(timespec="seconds"),
            "error": outage.error,
        }
    return f"{pid}\n{json.dumps(state, ensure_ascii=False)}\n"


def parse_report(text: str, running: bool) -> DaemonReport:
    """A :class:`DaemonReport` from a lock file's content (tolerant: any junk is 'unknown')."""
    first, _, rest = text.partition("\n")
    pid = int(first) if first.strip().isdigit() else None
    try:
        state = json.loads(rest) if rest.strip() else {}
    except ValueError:
        state = {}
    if not isinstance(state, dict) or not running:
        return DaemonReport(pid=pid, running=running)
    since: datetime | None = None
    if state.get("database") == "unavailable":
        try:
            since = datetime.fromisoformat(str(state.get("since")))
        except ValueError:
            since = None
    error = str(state["error"])[:300] if since is not None and state.get("error") else None
    return DaemonReport(pid=pid, running=True, database_since=since, database_error=error)


# --- reading a daemon's report (`monitor status`, the web desk's /healthz) ------------------
# Here rather than beside the lock in monitor.daemonlock (which needs SQLAlchemy), so that
# `monitor status` reads it without importing SQLAlchemy or the daemon (its scheduler, the
# tasks, the fetcher): see monitor.daemonlock.read_daemon_report.

STALE_AFTER = 120.0  # a database-row lock without a heartbeat for this long is abandoned
LOCK_KEY = "daemon.lock"  # the state row a daemon holds on a server database


def lock_file_of(backend: str, database: str | None) -> Path | None:
    """The lock file of a SQLite database: beside the file its URL names (``backend`` and
    ``database`` as SQLAlchemy's URL has them), after symlinks, ``..`` and relative
    spellings are resolved, so that every spelling of one database shares one lock (None
    for other databases and ``:memory:``)."""
    if backend != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # ?uri=true spelling: file:path?mode=...
        database = database[len("file:") :].split("?", 1)[0]
        if not database or database == ":memory:":
            return None
    resolved = Path(database).expanduser().resolve()
    return resolved.with_name(resolved.name + ".lock")


def read_lock_file(path: Path) -> DaemonReport:
    """What the lock file says: a daemon holds its lock (a shared lock here fails) and
    writes its database's state into it. No file, or no lock on it: not running."""
    import fcntl  # (where it is used, as in monitor.daemonlock: POSIX only)

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return parse_report(handle.read(4096), running=True)
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return parse_report(handle.read(4096), running=False)
    except OSError:
        return DaemonReport(pid=None, running=False)


def lock_row_report(holder: str | None, beat: datetime | None, now: datetime) -> DaemonReport:
    """What the lock row of a server database says: its holder (JSON with the pid) and its
    last heartbeat (``beat``, naive UTC); a heartbeat older than STALE_AFTER: not running."""
    if beat is None or holder is None:
        return DaemonReport(pid=None, running=False)
    pid = json.loads(holder).get("pid") if holder.startswith("{") else None
    fresh = (now - beat).total_seconds() < STALE_AFTER
    return DaemonReport(pid=pid if isinstance(pid, int) else None, running=fresh)
