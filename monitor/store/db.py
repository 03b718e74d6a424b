"""Engine, sessions and schema upgrades (Alembic), for SQLite or any SQLAlchemy URL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, overload

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from monitor.errors import StoreError

# (at home in light.py, which `monitor status` imports without SQLAlchemy)
from monitor.store.light import DEFAULT_DB_URL as DEFAULT_DB_URL
from monitor.store.light import MIGRATIONS_DIR as MIGRATIONS_DIR
from monitor.store.light import known_revisions as known_revisions
from monitor.store.light import utcnow as utcnow

if TYPE_CHECKING:  # the ORM is imported by session_factory: `monitor status` does without it
    from sqlalchemy.orm import Session, sessionmaker


T = TypeVar("T")
IN_CHUNK = 400  # values per SQL IN list: SQLite's bound-parameter limit


def in_chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in slices small enough for one ``IN (...)`` list."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


@overload
def to_naive_utc(value: datetime) -> datetime: ...
@overload
def to_naive_utc(value: None) -> None: ...
def to_naive_utc(value: datetime | None) -> datetime | None:
    """Naive UTC, the form every timestamp column stores (naive input is taken as UTC)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


SQLITE_BUSY_TIMEOUT = 30.0  # seconds a write waits for another writer's lock by default


def _sqlite_pragmas(busy_timeout: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets readers (monitor status) run while the daemon writes.
        # New files free pages as they go (`monitor prune`); older ones switch on prune.
        with contextlib.suppress(Exception):  # a read-only file cannot note it: no matter
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    return on_connect


def _private_database_file(path: Path) -> None:
    """Create the folder (0700) and the database file (0600) where they are missing.

    The database holds the operator's sources, alerts and delivery errors: other local
    users have no business reading it. SQLite creates its -wal, -shm and journal files
    with the database file's own mode, so creating the file 0600 before SQLite opens it
    covers them too. Existing files and folders keep the mode the operator gave them.
    """
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        why = "a file is in the way" if isinstance(exc, FileExistsError) else exc.strerror
        raise StoreError(f"cannot create the database folder {folder}: {why}") from None
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        pass  # a read-only folder or the like: SQLite's own open reports it clearly


def make_engine(url: str | None = None) -> Engine:
    """Engine for ``url`` (default: $MONITOR_DB_URL or sqlite:///storage/monitor.db).

    For SQLite, the parent folder (0700) and the database file (0600) are created and
    WAL mode switched on; a write waits up to 30 s for another writer, or
    ``?timeout=SECONDS`` in the URL.
    """
    url = url or os.environ.get("MONITOR_DB_URL") or DEFAULT_DB_URL
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"bad database URL {url!r}: {exc}") from None
    kwargs: dict[str, Any] = {}
    busy_timeout = SQLITE_BUSY_TIMEOUT
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_database_file(Path(database).expanduser())
        if "timeout" in parsed.query:
            try:
                busy_timeout = float(str(parsed.query["timeout"]))
            except ValueError:
                raise StoreError(
                    f"bad database URL {url!r}: timeout must be a number of seconds"
                ) from None
            if not 0 <= busy_timeout <= 3600:
                raise StoreError(f"bad database URL {url!r}: timeout must be 0 to 3600 seconds")
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout}
    try:
        engine = create_engine(parsed, **kwargs)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot open database {parsed!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Make the session's transaction one transaction now, before its first statement.

    pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE, so a SAVEPOINT
    before that runs on its own and its RELEASE commits: a batch of savepoints would be a
    batch of commits. ``BEGIN IMMEDIATE`` also takes SQLite's write lock up front (waiting
    for it as for any write), so the reads that come first cannot go stale before the
    writes. Other databases begin their transaction at the first statement anyway."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Create the schema or bring an older database up to the newest revision."""
    from alembic import command
    from alembic.util import CommandError

    try:
        command.upgrade(_alembic_config(engine), "head")
    except DBAPIError as exc:  # not a database, locked, read-only, unreachable server ...
        raise StoreError(f"cannot upgrade database {engine.url!r}: {exc.orig}") from None
    except CommandError as exc:  # e.g. a revision written by a newer monitor
        raise StoreError(f"cannot upgrade database {engine.url!r}: {exc}") from None


def require_schema(engine: Engine) -> None:
    """Raise a clear StoreError when the database is unusable: not a database, never
    initialised (`monitor init`), or at another schema revision than this code's."""
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "sources" not in tables or "alembic_version" not in tables:
                raise StoreError(
                    f"database {engine.url!r} is not initialised: run `monitor init` first"
                )
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except DBAPIError as exc:
        raise StoreError(f"cannot open database {engine.url!r}: {exc.orig}") from None
    known, heads = known_revisions()
    if current == heads:
        return
    shown = ", ".join(sorted(current)) or "none"
    if current - known:
        raise StoreError(
            f"database {engine.url!r} has schema revision {shown}, unknown to this version of "
            "monitor (written by a newer one?)"
        )
    raise StoreError(
        f"database {engine.url!r} has an older schema (revision {shown}): "
        "run `monitor init` to upgrade it"
    )
