"""What the web desk reads beside the change log itself (``monitor.store.queries``): one
change's status history and deliveries, a company's facts, the daemon's heartbeat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.models import ChangeRow, DeliveryRow, FactRow, StateRow


def change_history(session: Session, fact_id: int) -> list[ChangeRow]:
    """The fact's changes in the order they happened (new, then live)."""
    return list(
        session.scalars(
            select(ChangeRow).where(ChangeRow.fact_id == fact_id).order_by(ChangeRow.at)
        ).all()
    )


def deliveries_of(session: Session, change_id: int) -> list[DeliveryRow]:
    return list(
        session.scalars(
            select(DeliveryRow).where(DeliveryRow.change_id == change_id).order_by(DeliveryRow.id)
        ).all()
    )


def facts_of(session: Session, entity: str) -> list[FactRow]:
    """A company's known facts (baseline and discovered), by kind then first seen."""
    return list(
        session.scalars(
            select(FactRow)
            .where(FactRow.entity == entity)
            .order_by(FactRow.kind, FactRow.first_seen_at, FactRow.value)
        ).all()
    )


def known_entities(session: Session) -> list[str]:
    return list(session.scalars(select(FactRow.entity).distinct().order_by(FactRow.entity)))


def state_updated_at(session: Session, key: str) -> datetime | None:
    """When the state row ``key`` was last written (e.g. the daemon's heartbeat)."""
    row = session.get(StateRow, key)
    return row.updated_at if row else None
