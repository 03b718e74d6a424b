"""Source health alerts: which sources went down (and stayed down) or came back up, and
when each source last published."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from monitor.store.models import ItemRow, SourceRow


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


def newest_items(session: Session) -> dict[str, tuple[datetime, datetime]]:
    """Per source name: when its newest stored item was published (its fetch time when it
    has no date, or a date after it was fetched: a future date must not hide silence), and
    since when the source has been watched (its row's creation)."""
    when = case(
        (
            and_(ItemRow.published_at.is_not(None), ItemRow.published_at < ItemRow.fetched_at),
            ItemRow.published_at,
        ),
        else_=ItemRow.fetched_at,
    )
    query = (
        select(SourceRow.name, func.max(when), SourceRow.created_at)
        .join(ItemRow, ItemRow.source_id == SourceRow.id)
        .group_by(SourceRow.name, SourceRow.created_at)
    )
    return {
        name: (newest, watched) for name, newest, watched in session.execute(query).all() if newest
    }
