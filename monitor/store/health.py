"""Source health alerts: which sources went down (and stayed down) or came back up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.models import SourceRow


def sources_newly_down(session: Session, now: datetime, after: timedelta) -> list[SourceRow]:
    return list(
        session.scalars(
            select(SourceRow).where(
                SourceRow.failing_since.is_not(None),
                SourceRow.failing_since <= now - after,
                SourceRow.down_alerted.is_(False),
            )
        ).all()
    )


def sources_recovered(session: Session) -> list[SourceRow]:
    return list(
        session.scalars(
            select(SourceRow).where(
                SourceRow.down_alerted.is_(True), SourceRow.failing_since.is_(None)
            )
        ).all()
    )


def mark_down_alerted(session: Session, source_id: int, down: bool) -> None:
    """Remember that the source's 'down' alert went out (``down``), or its 'up' one."""
    row = session.get(SourceRow, source_id)
    if row is not None:
        row.down_alerted = down
