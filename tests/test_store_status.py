"""`monitor status`'s reader (monitor.store.status) reads what the ORM queries read.

Its SQL is written out, without SQLAlchemy, so that status starts fast; these tests fill a
real database (SQLite, or PostgreSQL with MONITOR_TEST_PG_URL) through the ORM and compare
every answer with the ORM queries' (monitor.store.sources, health, outbox, state).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text

from monitor.dbhealth import LOCK_KEY
from monitor.errors import StoreError
from monitor.store import health, outbox
from monitor.store.db import session_factory, transaction
from monitor.store.models import DeliveryRow, ItemRow, SourceRow, StateRow
from monitor.store.sources import all_sources
from monitor.store.status import (
    StatusReader,
    on_engine,
    open_sqlite,
    plain_sqlite_file,
)

T0 = datetime(2026, 11, 1, 8, 30, 15, 123456)


def fill(engine: Engine) -> None:
    """Sources in every state, items with and without (future) dates, an outbox with more
    failed rows than status lists, the daemon's lock row."""
    with transaction(session_factory(engine)) as session:
        ok = SourceRow(name="ok", kind="feed", url="https://a.test/", created_at=T0)
        ok.last_success_at, ok.last_status, ok.items_count = T0, "fetched", 3
        ok.next_due_at = T0 + timedelta(minutes=30)
        bad = SourceRow(name="bad", kind="html", url="https://b.test/", created_at=T0)
        bad.last_status, bad.last_error, bad.last_error_at = "failed", "HTTP 404 «x»", T0
        bad.consecutive_failures, bad.failing_since = 4, T0 - timedelta(days=1)
        bad.retry_after_until = T0 + timedelta(hours=2)
        never = SourceRow(name="never", kind="json", url="https://c.test/", created_at=T0)
        session.add_all([ok, bad, never])
        session.flush()
        dates = [T0 - timedelta(days=20), None, T0 + timedelta(days=3)]  # old, none, future
        for n, published in enumerate(dates):
            session.add(
                ItemRow(
                    source_id=ok.id if n else bad.id,
                    content_hash=f"h{n}",
                    url=f"https://a.test/{n}",
                    published_at=published,
                    fetched_at=T0 - timedelta(days=n),
                )
            )
        for n in range(120):
            session.add(
                DeliveryRow(
                    kind="change" if n % 3 else "source-down",
                    route="all",
                    channel=f"ch{n % 4}",
                    state=["failed", "failed", "sent", "pending"][n % 4],
                    attempts=n % 9,
                    last_error=f"refused {n}" if n % 5 else None,
                    created_at=T0,
                )
            )
        session.add(StateRow(key=LOCK_KEY, value=json.dumps({"pid": 4242}), updated_at=T0))


@pytest.fixture
def readers(db_url: str, fresh_db: Engine) -> Iterator[list[StatusReader]]:
    """The reader on the file itself (SQLite) and the reader through the engine."""
    fill(fresh_db)
    found = [on_engine(fresh_db)]
    if fresh_db.dialect.name == "sqlite":
        direct = open_sqlite(db_url)
        assert direct is not None, "a migrated SQLite file must be read directly"
        found.append(direct)
    try:
        yield found
    finally:
        for reader in found:
            reader.close()


def test_the_reader_answers_as_the_orm_queries(
    fresh_db: Engine, readers: list[StatusReader]
) -> None:
    with transaction(session_factory(fresh_db)) as session:
        rows = all_sources(session)
        newest = health.newest_items(session)
        summary = outbox.delivery_summary(session)
        failed = outbox.failed_deliveries(session, limit=50)
        expected_sources = {
            name: (
                row.name, row.kind, row.last_success_at, row.last_status, row.last_error,
                row.last_error_at, row.consecutive_failures, row.failing_since,
                row.next_due_at, row.retry_after_until, row.items_count,
            )
            for name, row in rows.items()
        }  # fmt: skip
        expected_failed = [
            (r.id, r.kind, r.change_id, r.channel, r.attempts, r.last_error) for r in failed
        ]
    assert len(expected_failed) == 50 and set(newest) == {"ok", "bad"}
    for reader in readers:
        got = {
            name: (
                s.name, s.kind, s.last_success_at, s.last_status, s.last_error,
                s.last_error_at, s.consecutive_failures, s.failing_since, s.next_due_at,
                s.retry_after_until, s.items_count,
            )
            for name, s in reader.sources().items()
        }  # fmt: skip
        assert got == expected_sources
        assert reader.newest_items() == newest
        assert reader.delivery_summary() == summary
        listed = [
            (f.id, f.kind, f.change_id, f.channel, f.attempts, f.last_error)
            for f in reader.failed_deliveries()
        ]
        assert listed == expected_failed


def test_the_daemon_lock_row_is_read_as_the_daemon_reads_it(
    fresh_db: Engine, readers: list[StatusReader]
) -> None:
    """On PostgreSQL the report comes from the lock row (on SQLite from the lock file,
    tests/test_daemon_lock.py): fresh within STALE_AFTER of its heartbeat, then stale."""
    from monitor.daemonlock import read_daemon_report

    reader = readers[0]
    if fresh_db.dialect.name == "sqlite":  # the row as a server database would have it
        reader = StatusReader(reader._connection, sqlite3.Error, None)
    for later, running in ((60, True), (600, False)):
        report = reader.daemon_report(T0 + timedelta(seconds=later))
        assert (report.pid, report.running) == (4242, running)
        if fresh_db.dialect.name != "sqlite":
            assert read_daemon_report(fresh_db, T0 + timedelta(seconds=later)) == report


def test_a_driver_error_is_a_database_error_not_a_traceback(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "empty.db")
    reader = StatusReader(connection, sqlite3.Error, None)
    with pytest.raises(StoreError, match=r"^database: no such table: sources$"):
        reader.sources()
    reader.close()


@pytest.mark.parametrize(
    ("url", "timeout"),
    [
        ("sqlite:////tmp/a/monitor.db", 30.0),
        ("sqlite:///storage/monitor.db", 30.0),
        ("sqlite+pysqlite:///x y/m.db?timeout=1.5", 1.5),
        ("sqlite:///m.db?timeout=0", 0.0),
    ],
)
def test_plain_sqlite_urls_name_the_file_sqlalchemy_names(url: str, timeout: float) -> None:
    found = plain_sqlite_file(url)
    assert found is not None
    assert found == (Path(str(make_url(url).database)), timeout)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file:m.db?mode=ro&uri=true",
        "sqlite:///a%20b.db",
        "sqlite:///~/m.db",
        "sqlite:///m.db?timeout=5000",
        "sqlite:///m.db?check_same_thread=false",
        "sqlite+aiosqlite:///m.db",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ],
)
def test_other_urls_are_left_to_the_engine(url: str) -> None:
    assert plain_sqlite_file(url) is None


@pytest.mark.sqlite_only("the SQLite file read directly")
def test_a_file_not_ready_is_left_to_the_engine(db_url: str, tmp_path: Path) -> None:
    """open_sqlite reads only a file at this code's schema; the engine reports the rest
    (tests/test_store_schema.py checks its messages through `monitor status`)."""
    assert open_sqlite(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert not (tmp_path / "missing.db").exists()  # and it created nothing
    sqlite3.connect(tmp_path / "blank.db").close()
    assert open_sqlite(f"sqlite:///{tmp_path / 'blank.db'}") is None
    (tmp_path / "text.db").write_text("not a database\n" * 100)
    assert open_sqlite(f"sqlite:///{tmp_path / 'text.db'}") is None
    reader = open_sqlite(db_url)
    assert reader is not None
    reader.close()
    path = make_url(db_url).database
    assert path is not None
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'x'").text)
    connection.close()
    assert open_sqlite(db_url) is None
