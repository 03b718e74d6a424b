"""What `monitor status` reads, as a few plain SELECTs on a DBAPI connection.

`monitor status` is what an operator (or a script, every minute) runs to look, so it
should answer at once. Importing SQLAlchemy, creating an engine and running a first
statement costs about 0.25 s of CPU, most of the 0.3 s the command may take; the standard
library's ``sqlite3`` opens the same file in a few milliseconds. So:

- on a SQLite file named plainly (``sqlite:///path``, optionally ``?timeout=SECONDS``),
  :func:`open_sqlite` opens it with ``sqlite3`` and checks that it is initialised at this
  code's schema revision. Anything else (no file yet, not a database, not initialised,
  another revision, an unusual URL) it leaves to the engine (None): ``App.engine`` then
  reports it exactly as every other command does;
- on any other database, :func:`on_engine` borrows a DBAPI connection from SQLAlchemy's
  engine (PostgreSQL: psycopg).

Both run the same SQL, written without parameters (sqlite3 and psycopg spell them
differently) and checked against the ORM queries of ``monitor.store.sources``,
``health`` and ``outbox`` by tests/test_store_status.py on SQLite and PostgreSQL. The
reads share one transaction: one snapshot of the database. The reader only reads.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.dbhealth import LOCK_KEY, DaemonReport, lock_file_of, lock_row_report, read_lock_file
from monitor.errors import StoreError
from monitor.store.light import DEFAULT_DB_URL, known_revisions

if TYPE_CHECKING:
    from sqlalchemy import Engine

FAILED_SHOWN = 50  # failed deliveries listed, newest first

# A SQLite URL naming a file plainly; other spellings (file: URIs, %-escapes, ~, other
# query options) are the engine's to read.
_PLAIN_SQLITE = re.compile(
    r"^sqlite(?:\+pysqlite)?:///(?P<path>[\w./ +-]+)(?:\?timeout=(?P<timeout>\d+(?:\.\d+)?))?$"
)
SQLITE_BUSY_TIMEOUT = 30.0  # as monitor.store.db: a read waits this long for a lock


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source's stored fetch state and health (the columns `monitor status` shows)."""

    name: str
    kind: str
    last_success_at: datetime | None
    last_status: str | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    next_due_at: datetime | None
    retry_after_until: datetime | None
    items_count: int


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    """An outbox row that ran out of attempts."""

    id: int
    kind: str
    change_id: int | None
    channel: str
    attempts: int
    last_error: str | None


_SOURCES = (
    "SELECT name, kind, last_success_at, last_status, last_error, last_error_at, "
    "consecutive_failures, failing_since, next_due_at, retry_after_until, items_count "
    "FROM sources"
)
# As monitor.store.health.newest_items: an item's date is when it was published, or when
# it was fetched if it has no date or one after its fetch (a future date must not hide
# silence).
_NEWEST_ITEMS = (
    "SELECT sources.name, MAX(CASE WHEN items.published_at IS NOT NULL "
    "AND items.published_at < items.fetched_at THEN items.published_at "
    "ELSE items.fetched_at END), sources.created_at "
    "FROM sources JOIN items ON items.source_id = sources.id "
    "GROUP BY sources.name, sources.created_at"
)
_OUTBOX = "SELECT state, COUNT(*) FROM deliveries GROUP BY state"
_FAILED = (
    "SELECT id, kind, change_id, channel, attempts, last_error FROM deliveries "
    f"WHERE state = 'failed' ORDER BY id DESC LIMIT {FAILED_SHOWN}"
)
_LOCK_ROW = f"SELECT value, updated_at FROM state WHERE key = '{LOCK_KEY}'"


def _moment(value: Any) -> datetime | None:
    """A stored time as naive UTC: SQLite hands back SQLAlchemy's text spelling
    (``2025-03-04 08:00:00.000000``), psycopg a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


class StatusReader:
    """The database as `monitor status` reads it: one connection, one snapshot."""

    def __init__(
        self,
        connection: Any,
        errors: type[Exception] | tuple[type[Exception], ...],
        lock_file: Path | None,
    ) -> None:
        self._connection = connection  # a DBAPI connection
        self._errors = errors  # the driver's exceptions, reported as database errors
        self._lock_file = lock_file  # a SQLite database's daemon lock file

    def _rows(self, sql: str) -> list[Sequence[Any]]:
        try:
            cursor = self._connection.cursor()
            try:
                cursor.execute(sql)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except self._errors as exc:  # as the CLI reports SQLAlchemy's DBAPIError
            raise StoreError(f"database: {exc}") from None

    def sources(self) -> dict[str, SourceHealth]:
        """Every stored source by name."""
        found = {}
        for row in self._rows(_SOURCES):
            name, kind, success, status, error, error_at, failures, since, due, retry, n = row
            found[name] = SourceHealth(
                name=name,
                kind=kind,
                last_success_at=_moment(success),
                last_status=status,
                last_error=error,
                last_error_at=_moment(error_at),
                consecutive_failures=failures or 0,
                failing_since=_moment(since),
                next_due_at=_moment(due),
                retry_after_until=_moment(retry),
                items_count=n or 0,
            )
        return found

    def newest_items(self) -> dict[str, tuple[datetime, datetime]]:
        """Per source name: its newest item's date and since when it is watched (as
        ``monitor.store.health.newest_items``)."""
        found = {}
        for name, newest, watched in self._rows(_NEWEST_ITEMS):
            newest_at, watched_at = _moment(newest), _moment(watched)
            if newest_at is not None and watched_at is not None:
                found[name] = (newest_at, watched_at)
        return found

    def delivery_summary(self) -> dict[str, int]:
        """Outbox rows per state."""
        return {state: int(count) for state, count in self._rows(_OUTBOX)}

    def failed_deliveries(self) -> list[FailedDelivery]:
        """The newest failed outbox rows (FAILED_SHOWN at most)."""
        return [FailedDelivery(*row) for row in self._rows(_FAILED)]

    def daemon_report(self, now: datetime) -> DaemonReport:
        """Whether a daemon runs on this database (as monitor.daemonlock.read_daemon_report)."""
        if self._lock_file is not None:
            return read_lock_file(self._lock_file)
        rows = self._rows(_LOCK_ROW)
        holder, beat = (rows[0][0], _moment(rows[0][1])) if rows else (None, None)
        return lock_row_report(holder, beat, now)

    def close(self) -> None:
        try:
            self._connection.rollback()  # it only read
        finally:
            self._connection.close()


def plain_sqlite_file(url: str) -> tuple[Path, float] | None:
    """The file and busy timeout a plain SQLite URL names (see ``_PLAIN_SQLITE``); None
    for any other URL, or a timeout monitor.store.db would refuse."""
    match = _PLAIN_SQLITE.match(url)
    if match is None or match["path"].startswith(("file:", ":memory:")):
        return None
    timeout = float(match["timeout"]) if match["timeout"] else SQLITE_BUSY_TIMEOUT
    if not 0 <= timeout <= 3600:
        return None
    return Path(match["path"]), timeout


def open_sqlite(url: str) -> StatusReader | None:
    """A reader on the SQLite file ``url`` names when it is plainly named and initialised
    at this code's schema; None otherwise."""
    found = plain_sqlite_file(url)
    if found is None or not found[0].is_file():  # (the engine creates a missing file)
        return None
    path, timeout = found
    try:
        connection = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        connection.execute("BEGIN")  # one snapshot for every read
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
        current: set[str] = set()
        if {"sources", "alembic_version"} <= tables:
            current = {v for (v,) in connection.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:  # not a database, or locked past the timeout: the engine says so
        connection.close()
        return None
    if not current or current != known_revisions()[1]:
        connection.close()
        return None
    lock_file = lock_file_of("sqlite", str(path))
    return StatusReader(connection, sqlite3.Error, lock_file)


def on_engine(engine: Engine) -> StatusReader:
    """A reader on a DBAPI connection borrowed from ``engine`` (returned by ``close``)."""
    connection = engine.raw_connection()
    url = engine.url
    return StatusReader(
        connection,
        engine.dialect.loaded_dbapi.Error,
        lock_file_of(url.get_backend_name(), url.database),
    )


def database_url(url: str | None) -> str:
    """The URL a command uses: ``url``, else $MONITOR_DB_URL, else the default (as
    monitor.store.db.make_engine)."""
    return url or os.environ.get("MONITOR_DB_URL") or DEFAULT_DB_URL


@contextmanager
def status_reader(url: str | None, engine: Callable[[], Engine]) -> Iterator[StatusReader]:
    """The reader for `monitor status`: :func:`open_sqlite` on ``url`` (None: the engine
    was handed in, use it), else :func:`on_engine` on ``engine()``, which raises
    StoreError on an unusable database."""
    reader = (open_sqlite(url) if url is not None else None) or on_engine(engine())
    try:
        yield reader
    finally:
        reader.close()
