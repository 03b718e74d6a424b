"""Known facts: lookups, the baseline and observed rows, and one item's diff writes.

``record_item`` writes an item's facts, changes and observations and marks it
processed. Callers own the transaction (``monitor.store.db.transaction``): one item's
observations, facts, changes and outbox rows commit together with ``items.processed_at``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from monitor.changes import Decision, Key, KnownFact
from monitor.store.db import IN_CHUNK, in_chunks
from monitor.store.models import ChangeRow, FactRow, ItemRow, ObservationRow
from monitor.types import Fact

MAX_SENTENCE_CHARS = 2000  # evidence is scraped text: cap what one observation stores


def known_facts(session: Session, keys: Iterable[Key]) -> dict[Key, KnownFact]:
    """What is known of each triple (baseline or observed)."""
    return known_of(fact_rows(session, keys))


def known_of(rows: Mapping[Key, FactRow]) -> dict[Key, KnownFact]:
    """What the diff needs to know of facts rows already loaded."""
    return {
        key: KnownFact(row.id, row.status, row.origin, row.dismissed_at is not None)
        for key, row in rows.items()
    }


def fact_rows(
    session: Session, keys: Iterable[Key], *, for_update: bool = False
) -> dict[Key, FactRow]:
    """The facts rows of the triples that are known: one query per few hundred triples,
    not one per triple.

    Written as ``(entity = ? AND kind = ? AND value_key IN (...)) OR ...``, one branch per
    (entity, kind): both SQLite and PostgreSQL answer that from the triple's unique index,
    whereas SQLite scans the whole table for a row-value ``(a, b, c) IN (VALUES ...)``.

    ``for_update`` (the diff, which then writes them) locks the rows, always in key order:
    two transactions locking overlapping facts take them in the same order, so they wait
    for each other instead of deadlocking (SQLite ignores it: it has one writer)."""
    found: dict[Key, FactRow] = {}
    for chunk in in_chunks(sorted(set(keys)), IN_CHUNK // 3):  # at most 3 values a triple
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for entity, kind, value_key in chunk:
            groups[(entity, kind)].append(value_key)
        branches = [
            and_(FactRow.entity == entity, FactRow.kind == kind, FactRow.value_key.in_(values))
            for (entity, kind), values in groups.items()
        ]
        query = select(FactRow).where(or_(*branches))
        if for_update:
            query = query.order_by(FactRow.entity, FactRow.kind, FactRow.value_key)
            query = query.with_for_update()
        for row in session.scalars(query):
            found[(row.entity, row.kind, row.value_key)] = row
    return found


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


def record_item(
    session: Session,
    item: ItemRow,
    decisions: Sequence[Decision],
    now: datetime,
    *,
    backfill: bool = False,
) -> list[ChangeRow]:
    """Write one item's facts, changes and observations and mark it processed.
    ``backfill``: its changes are recorded to alert nobody (``monitor.changes.is_backfill``).

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
                    backfill=backfill,
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


def all_facts(session: Session) -> list[FactRow]:
    return list(
        session.scalars(
            select(FactRow).order_by(FactRow.entity, FactRow.kind, FactRow.value_key)
        ).all()
    )
