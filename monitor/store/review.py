"""The change log as the analyst reviews it: change views with their evidence, dismissal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.store.db import in_chunks
from monitor.store.models import ChangeRow, DeliveryRow, FactRow, ItemRow, ObservationRow, SourceRow


@dataclass
class EvidenceView:
    url: str | None
    title: str
    source: str
    sentence: str
    published: datetime | None
    lang: str | None
    status: str


@dataclass
class ChangeView:
    id: int
    fact_id: int
    entity: str
    kind: str
    value: str
    status: str
    change: str
    at: datetime
    published: datetime | None
    dismissed_at: datetime | None
    dismiss_reason: str | None
    evidence: list[EvidenceView] = field(default_factory=list)

    @property
    def sources(self) -> int:
        return len({e.source for e in self.evidence})


def _view(row: ChangeRow) -> ChangeView:
    return ChangeView(
        id=row.id,
        fact_id=row.fact_id,
        entity=row.entity,
        kind=row.kind,
        value=row.value,
        status=row.status,
        change=row.change,
        at=row.at,
        published=row.published_at,
        dismissed_at=row.dismissed_at,
        dismiss_reason=row.dismiss_reason,
    )


def _attach_evidence(session: Session, views: list[ChangeView]) -> list[ChangeView]:
    by_id = {v.id: v for v in views}
    ids = list(by_id)
    for chunk in in_chunks(ids):
        rows = session.execute(
            select(ObservationRow, ItemRow, SourceRow.name)
            .join(ItemRow, ObservationRow.item_id == ItemRow.id)
            .join(SourceRow, ItemRow.source_id == SourceRow.id)
            .where(ObservationRow.change_id.in_(chunk))
            .order_by(func.coalesce(ItemRow.published_at, ItemRow.fetched_at), ItemRow.id)
        ).all()
        for obs, item, source in rows:
            assert obs.change_id is not None
            by_id[obs.change_id].evidence.append(
                EvidenceView(
                    url=item.url,
                    title=item.title,
                    source=source,
                    sentence=obs.sentence,
                    published=item.published_at,
                    lang=item.lang,
                    status=obs.status,
                )
            )
    return views


def list_changes(
    session: Session,
    *,
    since: datetime | None = None,
    entity: str | None = None,
    kind: str | None = None,
    include_dismissed: bool = True,
    ids: Sequence[int] | None = None,
) -> list[ChangeView]:
    """The change log, newest first (by the first item's date, then record order)."""
    query = select(ChangeRow)
    when = func.coalesce(ChangeRow.published_at, ChangeRow.at)
    if since is not None:
        query = query.where(when >= since)
    if entity:
        query = query.where(ChangeRow.entity == entity)
    if kind:
        query = query.where(ChangeRow.kind == kind)
    if not include_dismissed:
        query = query.where(ChangeRow.dismissed_at.is_(None))
    if ids is not None:
        query = query.where(ChangeRow.id.in_(list(ids)))
    rows = session.scalars(query.order_by(when.desc(), ChangeRow.id.desc())).all()
    return _attach_evidence(session, [_view(r) for r in rows])


def get_change(session: Session, change_id: int) -> ChangeView | None:
    views = list_changes(session, ids=[change_id])
    return views[0] if views else None


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
