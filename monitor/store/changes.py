"""Queries for facts, observations, changes, the alert outbox and small state.

Every write of the change log and the outbox goes through here. Callers own the
transaction (``monitor.store.db.transaction``): e.g. one item's observations, facts,
changes and outbox rows commit together with ``items.processed_at``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.changes import Decision, Key, KnownFact
from monitor.store.db import in_chunks
from monitor.store.models import (
    ChangeRow,
    DeliveryRow,
    FactRow,
    ItemRow,
    ObservationRow,
    SourceRow,
    StateRow,
)
from monitor.types import Fact

MAX_SENTENCE_CHARS = 2000  # evidence is scraped text: cap what one observation stores

# --------------------------------------------------------------------------- items + diff


def pending_item_ids(session: Session, limit: int | None = None) -> list[int]:
    """Unprocessed items in published order (undated ones by fetch time), then id."""
    when = func.coalesce(ItemRow.published_at, ItemRow.fetched_at)
    query = (
        select(ItemRow.id)
        .where(ItemRow.processed_at.is_(None))
        .order_by(when, ItemRow.id)
        .limit(limit)
    )
    return list(session.scalars(query).all())


def known_facts(session: Session, keys: Iterable[Key]) -> dict[Key, KnownFact]:
    """What is known of each triple (baseline or observed)."""
    known: dict[Key, KnownFact] = {}
    for key in set(keys):
        row = find_fact(session, key)
        if row is not None:
            known[key] = KnownFact(row.id, row.status, row.origin, row.dismissed_at is not None)
    return known


def add_fact(session: Session, fact: Fact, origin: str, now: datetime) -> FactRow:
    """A new known fact (origin ``baseline`` or ``observed``), added to the session."""
    row = FactRow(
        entity=fact.entity,
        kind=fact.kind,
        value=fact.value,
        value_key=fact.key[2],
        status=fact.status,
        origin=origin,
        first_seen_at=now,
        last_seen_at=now,
    )
    session.add(row)
    return row


def find_fact(session: Session, key: Key) -> FactRow | None:
    """The facts row of one (entity, kind, value key) triple."""
    entity, kind, value_key = key
    return session.scalars(
        select(FactRow).where(
            FactRow.entity == entity, FactRow.kind == kind, FactRow.value_key == value_key
        )
    ).one_or_none()


def record_item(
    session: Session, item: ItemRow, decisions: Sequence[Decision], now: datetime
) -> list[ChangeRow]:
    """Write one item's facts, changes and observations and mark it processed.

    Returns the changes created for this item. Safe to repeat: an existing change or
    observation is reused, never doubled.
    """
    created: list[ChangeRow] = []
    published = item.published_at or item.fetched_at
    for decision in decisions:
        fact = decision.fact
        if decision.known is None:
            row = add_fact(session, fact, "observed", now)
            session.flush()
        else:
            found = session.get(FactRow, decision.known.fact_id)
            assert found is not None
            row = found
            row.last_seen_at = now
        change: ChangeRow | None = None
        if decision.action in ("new", "live"):
            if decision.action == "live":
                row.status = "live"
            change = session.scalars(
                select(ChangeRow).where(
                    ChangeRow.fact_id == row.id, ChangeRow.change == decision.action
                )
            ).one_or_none()
            if change is None:
                change = ChangeRow(
                    fact_id=row.id,
                    change=decision.action,
                    entity=row.entity,
                    kind=row.kind,
                    value=row.value,
                    status=fact.status,
                    at=now,
                    published_at=published,
                    first_item_id=item.id,
                )
                session.add(change)
                session.flush()
                created.append(change)
        if change is None:
            change = latest_change(session, row.id)
        _observe(session, row.id, item.id, change.id if change else None, decision, now)
    item.processed_at = now
    session.flush()
    return created


def latest_change(session: Session, fact_id: int) -> ChangeRow | None:
    return session.scalars(
        select(ChangeRow).where(ChangeRow.fact_id == fact_id).order_by(ChangeRow.id.desc())
    ).first()


def _observe(
    session: Session,
    fact_id: int,
    item_id: int,
    change_id: int | None,
    decision: Decision,
    now: datetime,
) -> None:
    exists = session.scalars(
        select(ObservationRow.id).where(
            ObservationRow.fact_id == fact_id, ObservationRow.item_id == item_id
        )
    ).first()
    if exists is not None:
        return
    ev = decision.fact.evidence
    session.add(
        ObservationRow(
            fact_id=fact_id,
            item_id=item_id,
            change_id=change_id,
            status=decision.fact.status,
            sentence=(ev.sentence if ev else "")[:MAX_SENTENCE_CHARS],
            field=ev.field if ev else "text",
            start=ev.start if ev else 0,
            end=ev.end if ev else 0,
            observed_at=now,
        )
    )


# --------------------------------------------------------------------------- outbox


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
    """(row id, channel id) of the pending rows that are due, oldest first."""
    query = (
        select(DeliveryRow.id, DeliveryRow.channel)
        .where(DeliveryRow.state == "pending", DeliveryRow.next_attempt_at <= now)
        .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
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


def queued_deliveries(session: Session, route: str, until: datetime) -> list[DeliveryRow]:
    return list(
        session.scalars(
            select(DeliveryRow)
            .where(
                DeliveryRow.state == "queued",
                DeliveryRow.route == route,
                DeliveryRow.created_at <= until,
            )
            .order_by(DeliveryRow.id)
        ).all()
    )


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


def get_state(session: Session, key: str) -> str | None:
    row = session.get(StateRow, key)
    return row.value if row else None


def set_state(session: Session, key: str, value: str, now: datetime) -> None:
    row = session.get(StateRow, key)
    if row is None:
        session.add(StateRow(key=key, value=value, updated_at=now))
    else:
        row.value, row.updated_at = value, now


# --------------------------------------------------------------------------- source health


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


# --------------------------------------------------------------------------- review


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


def all_facts(session: Session) -> list[FactRow]:
    return list(
        session.scalars(
            select(FactRow).order_by(FactRow.entity, FactRow.kind, FactRow.value_key)
        ).all()
    )
