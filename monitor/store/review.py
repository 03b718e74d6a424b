"""Review state changes on the change log (dismissal). Reading it: ``monitor.store.queries``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.store.models import ChangeRow, DeliveryRow, FactRow


def dismiss_change(session: Session, change_id: int, reason: str, now: datetime) -> bool:
    """Dismiss a change and its fact (no further alert); unsent deliveries are cancelled."""
    change = session.get(ChangeRow, change_id)
    if change is None:
        return False
    fact = session.get(FactRow, change.fact_id)
    for row in [*session.scalars(select(ChangeRow).where(ChangeRow.fact_id == change.fact_id))]:
        if row.dismissed_at is None:
            row.dismissed_at, row.dismiss_reason = now, reason
    if fact is not None and fact.dismissed_at is None:
        fact.dismissed_at, fact.dismiss_reason = now, reason
    session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.change_id.in_(
                select(ChangeRow.id).where(ChangeRow.fact_id == change.fact_id)
            ),
            DeliveryRow.state.in_(["pending", "queued"]),
        )
        .values(state="cancelled", last_error=f"dismissed: {reason}")
    )
    return True
