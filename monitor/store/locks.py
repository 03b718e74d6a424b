"""Cluster-wide locks on a server database, and which database errors are worth a retry.

``exclusive(engine, name)`` makes one runner of a named task at a time across every
process on one PostgreSQL database (``monitor once``, the daemon, `monitor worker`s): a
session-level advisory lock held on its own connection for the duration. A process that
dies drops its connection, hence its lock, at once. On SQLite (one machine, one writer at
a time) it is a no-op: the database file serialises writers already.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

# SQLSTATEs meaning "run the transaction again": serialization_failure, deadlock_detected.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (the same in every process and release)."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def is_server(engine: Engine) -> bool:
    return engine.url.get_backend_name() == "postgresql"


@contextmanager
def exclusive(engine: Engine, name: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold the cluster-wide lock ``name`` while the block runs. Yields False (without
    waiting) when ``wait`` is off and another process holds it; True otherwise."""
    if not is_server(engine):
        yield True
        return
    key = lock_key(f"monitor:{name}")
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            yield False
            return
        try:
            yield True
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def is_retryable(exc: BaseException) -> bool:
    """A serialisation failure or a deadlock the server broke: the transaction may simply
    run again."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state in RETRYABLE_SQLSTATES


class HeldLock:
    """A cluster-wide lock held for a process's life (the daemon's): a session-level
    advisory lock on a connection of its own. The server drops it the moment the holder's
    connection ends, so a process killed with kill -9, on any host, frees it at once.
    PostgreSQL only (``is_server``)."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.key = lock_key(f"monitor:{name}")
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        """Take it if free; False (holding nothing) when another process has it."""
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            taken = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        except BaseException:
            conn.close()
            raise
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def still_held(self) -> bool:
        """Whether the lock's session is alive (the server keeps the lock as long as it
        is): False once its connection broke, when another process may have taken it."""
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            conn.close()
