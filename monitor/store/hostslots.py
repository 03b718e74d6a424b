"""Cluster-wide ``per_host``: request slots per host, in rows every worker shares.

A request to a host first claims one of its ``per_host`` slot rows (``claim``), and frees
it after (``release``). A claim is a lease measured by the database's own clock (workers
on several machines need not agree on the time): a worker killed with kill -9 holds its
slots only until the lease ends. Claims take a free row with ``FOR UPDATE SKIP LOCKED``,
so two workers never hold one slot and neither waits for the other's transaction.
PostgreSQL only (`monitor worker`); the embedded daemon keeps per-process semaphores.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_ENSURE = text(
    "INSERT INTO host_slots (host, slot) SELECT :host, s FROM generate_series(0, :n - 1) s "
    "ON CONFLICT DO NOTHING"
)
_CLAIM = text(
    "UPDATE host_slots SET holder = :holder, "
    "until = (now() AT TIME ZONE 'utc') + make_interval(secs => :lease) "
    "WHERE (host, slot) = (SELECT host, slot FROM host_slots WHERE host = :host AND slot < :n "
    "AND (until IS NULL OR until < now() AT TIME ZONE 'utc') "
    "ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING slot"
)
_RELEASE = text(
    "UPDATE host_slots SET holder = NULL, until = NULL "
    "WHERE host = :host AND slot = :slot AND holder = :holder"
)


def ensure_slots(session: Session, host: str, per_host: int) -> None:
    """Create the host's slot rows (once; safe to repeat from every worker at once)."""
    session.execute(_ENSURE, {"host": host, "n": per_host})


def claim(session: Session, host: str, per_host: int, holder: str, lease: float) -> int | None:
    """Take a free slot of ``host`` for ``lease`` seconds; its number, or None if all
    ``per_host`` are held."""
    slot = session.execute(
        _CLAIM, {"host": host, "n": per_host, "holder": holder, "lease": lease}
    ).scalar()
    return int(slot) if slot is not None else None


def release(session: Session, host: str, slot: int, holder: str) -> None:
    session.execute(_RELEASE, {"host": host, "slot": slot, "holder": holder})
