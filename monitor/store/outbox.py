"""The alert outbox: one row per (message, channel), claimed before it is sent.

A row goes ``pending -> sending -> sent``, back to ``pending`` after a refused send
(with a backoff) or ``failed`` for good; digest routes park rows as ``queued`` until
their time, then fold them into one ``digest`` row (``digested``); a dismissed change's
unsent rows are ``cancelled``. Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from monitor.store.models import DeliveryRow


def add_delivery(
    session: Session,
    *,
    kind: str,
    route: str,
    channel: str,
    now: datetime,
    change_id: int | None = None,
    payload: dict[str, Any] | None = None,
    state: str = "pending",
) -> DeliveryRow:
    row = DeliveryRow(
        kind=kind,
        change_id=change_id,
        route=route,
        channel=channel,
        payload=payload,
        state=state,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


def reclaim_in_flight(session: Session, now: datetime) -> int:
    """Rows left ``sending`` past their lease belonged to a process that died mid-send."""
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.state == "sending", DeliveryRow.next_attempt_at <= now)
        .values(state="pending", next_attempt_at=now)
    )
    return _rowcount(result)


def _rowcount(result: Any) -> int:
    """Rows an UPDATE touched (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


def due_deliveries(session: Session, now: datetime, limit: int = 500) -> list[tuple[int, str]]:
    """(row id, channel id) of the pending rows that are due, in change (row) order.

    A channel's alerts go out in the order of its rows: a row backing off after a refused
    send holds back that channel's later rows. Otherwise, when a channel comes back after
    an outage, the rows never tried (due since they were made) would go out before the
    first one, still waiting out its backoff. (A row being sent is not a hold: the sender
    skips a channel still busy with an earlier row.)
    """
    held = (
        select(DeliveryRow.channel, func.min(DeliveryRow.id).label("first_held"))
        .where(DeliveryRow.state == "pending", DeliveryRow.next_attempt_at > now)
        .group_by(DeliveryRow.channel)
        .subquery()
    )
    query = (
        select(DeliveryRow.id, DeliveryRow.channel)
        .outerjoin(held, held.c.channel == DeliveryRow.channel)
        .where(
            DeliveryRow.state == "pending",
            DeliveryRow.next_attempt_at <= now,
            or_(held.c.first_held.is_(None), DeliveryRow.id < held.c.first_held),
        )
        .order_by(DeliveryRow.id)
        .limit(limit)
    )
    return [(row_id, channel) for row_id, channel in session.execute(query).all()]


def fail_deliveries(session: Session, row_ids: Sequence[int], error: str) -> int:
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(list(row_ids)), DeliveryRow.state == "pending")
        .values(state="failed", last_error=error)
    )
    return _rowcount(result)


def claim_delivery(session: Session, row_id: int, now: datetime, lease: timedelta) -> bool:
    """pending -> sending (attempts + 1); False when another sender took it first."""
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row_id, DeliveryRow.state == "pending")
        .values(
            state="sending",
            attempts=DeliveryRow.attempts + 1,
            next_attempt_at=now + lease,
        )
    )
    return _rowcount(result) != 0


def finish_delivery(
    session: Session,
    row_id: int,
    *,
    ok: bool,
    now: datetime,
    error: str | None,
    max_attempts: int,
    backoff: timedelta,
    max_backoff: timedelta,
) -> str:
    """Record a send's outcome: sent, pending again after a backoff, or failed. Returns it."""
    row = session.get(DeliveryRow, row_id)
    if row is None:
        return "gone"
    if ok:
        row.state, row.sent_at, row.last_error = "sent", now, None
    elif row.attempts >= max_attempts:
        row.state, row.last_error = "failed", error
    else:
        delay = min(backoff * (2 ** max(row.attempts - 1, 0)), max_backoff)
        row.state, row.last_error, row.next_attempt_at = "pending", error, now + delay
    return row.state


def requeue_failed(session: Session, now: datetime) -> int:
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.state == "failed")
        .values(state="pending", attempts=0, next_attempt_at=now)
    )
    return _rowcount(result)


def digest_queued(
    session: Session, route: str, until: datetime, now: datetime
) -> list[tuple[str, int | None]]:
    """Fold the rows ``queued`` for a digest route (recorded up to ``until``) into the
    digest: each becomes ``digested``. Returns their (channel, change id), oldest first."""
    rows = session.scalars(
        select(DeliveryRow)
        .where(
            DeliveryRow.state == "queued",
            DeliveryRow.route == route,
            DeliveryRow.created_at <= until,
        )
        .order_by(DeliveryRow.id)
    ).all()
    folded = []
    for row in rows:
        folded.append((row.channel, row.change_id))
        row.state, row.sent_at = "digested", now
    return folded


def pending_delivery(session: Session, row_id: int) -> DeliveryRow | None:
    """The row if it is still ``pending`` (None once sent, claimed, cancelled or gone)."""
    row = session.get(DeliveryRow, row_id)
    return row if row is not None and row.state == "pending" else None


def cancel_delivery(session: Session, row_id: int, reason: str) -> bool:
    """pending -> cancelled (nothing left to send, e.g. its change was dismissed)."""
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == row_id, DeliveryRow.state == "pending")
        .values(state="cancelled", last_error=reason)
    )
    return _rowcount(result) != 0


def delivery_summary(session: Session) -> dict[str, int]:
    """Outbox rows per state (for `monitor status`)."""
    rows = session.execute(
        select(DeliveryRow.state, func.count()).group_by(DeliveryRow.state)
    ).all()
    return {state: int(count) for state, count in rows}


def failed_deliveries(session: Session, limit: int = 50) -> list[DeliveryRow]:
    return list(
        session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.state == "failed")
            .order_by(DeliveryRow.id.desc())
            .limit(limit)
        ).all()
    )
