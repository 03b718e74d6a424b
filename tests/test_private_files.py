"""Issue 9 item 5: the storage folder is created 0700, the database, its WAL and the
daemon's lock file 0600, whatever the umask lets through."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor.daemonlock import DaemonLock
from monitor.store.db import make_engine, session_factory, upgrade


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A permissive umask (what many servers run with): the modes must not depend on it."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.sqlite_only("file modes of the SQLite database, its WAL and the lock file")
def test_database_wal_lock_and_folder_are_private(tmp_path: Path, open_umask: None) -> None:
    storage = tmp_path / "storage"
    database = storage / "monitor.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with engine.connect() as connection:  # WAL mode: the -wal file exists while open
            connection.execute(text("CREATE TABLE IF NOT EXISTS probe (x)"))
            connection.commit()
            assert mode(storage) == 0o700
            assert mode(database) == 0o600
            wal = database.with_name("monitor.db-wal")
            assert wal.exists() and mode(wal) == 0o600
            lock = DaemonLock(engine, session_factory(engine))
            lock.acquire()
            try:
                assert lock.lock_path is not None and mode(lock.lock_path) == 0o600
            finally:
                lock.release()
    finally:
        engine.dispose()


@pytest.mark.sqlite_only("file modes of an existing SQLite database")
def test_an_existing_database_keeps_the_operators_mode(tmp_path: Path, open_umask: None) -> None:
    database = tmp_path / "shared.db"
    database.touch(mode=0o640)
    database.chmod(0o640)
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    assert mode(database) == 0o640
