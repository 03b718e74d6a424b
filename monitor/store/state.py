"""Small key/value state rows (digest marks, the daemon's row lock)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from monitor.store.models import StateRow


def get_state(session: Session, key: str) -> str | None:
    row = session.get(StateRow, key)
    return row.value if row else None


def set_state(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(StateRow, key)
    if row is None:
        session.add(StateRow(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


# --------------------------------------------------------------------------- row locks
# A lock held in a state row (for databases without a lock file): the holder's identity
# as JSON and a heartbeat in ``updated_at``.


def take_lock(
    session: Session, key: str, holder: dict[str, Any], now: datetime, stale_after: timedelta
) -> tuple[dict[str, Any], datetime] | None:
    """Take the lock row ``key`` for ``holder``, or take it over once its heartbeat is
    older than ``stale_after``. Returns (other holder, its heartbeat) and changes nothing
    when a fresh lock belongs to someone else; None when ``holder`` has it."""
    row = session.get(StateRow, key, with_for_update=True)
    if row is None:
        session.add(StateRow(key=key, value=json.dumps(holder), updated_at=now))
        return None
    current = _json_or_empty(row.value)
    fresh = (now - row.updated_at) < stale_after
    if fresh and {k: current.get(k) for k in holder} != holder:
        return current, row.updated_at
    row.value, row.updated_at = json.dumps(holder), now
    return None


def lock_holder(session: Session, key: str) -> dict[str, Any]:
    """Who holds the lock row ``key`` (pid, host), or {} when nobody."""
    row = session.get(StateRow, key)
    return _json_or_empty(row.value) if row is not None else {}


def touch_lock(session: Session, key: str, now: datetime) -> None:
    """The holder's heartbeat."""
    row = session.get(StateRow, key)
    if row is not None:
        row.updated_at = now


def drop_lock(session: Session, key: str, holder: dict[str, Any]) -> bool:
    """Delete the lock row if ``holder`` (each of its keys) still holds it."""
    row = session.get(StateRow, key)
    if row is None:
        return False
    current = _json_or_empty(row.value)
    if any(current.get(k) != v for k, v in holder.items()):
        return False
    session.delete(row)
    return True


def _json_or_empty(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
