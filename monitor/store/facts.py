"""Known facts: lookups, the baseline and observed rows, and one item's diff writes.

``record_item`` writes an item's facts, changes and observations and marks it
processed (``monitor.store.recorder`` does it for a batch of items). Callers own the
transaction (``monitor.store.db.transaction``): one item's observations, facts, changes
and outbox rows commit together with ``items.processed_at``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from monitor.changes import Decision, Key, KnownFact
from monitor.store.db import IN_CHUNK, in_chunks
from monitor.store.models import FactRow, ItemRow
from monitor.store.recorder import BatchItem, LoggedChange, record_batch
from monitor.types import Fact


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
) -> list[LoggedChange]:
    """Write one item's facts, changes and observations and mark it processed: a batch of
    one (``monitor.store.recorder.record_batch``, which batches of items use).
    ``backfill``: its changes are recorded to alert nobody (``monitor.changes.is_backfill``).

    Returns the changes created for this item. Safe to repeat: an existing change or
    observation is reused, never doubled. The change log comes out as if items were
    processed in published order whatever order they come in (monitor.changes.ordered_log):
    an earlier report arriving late moves a change's first report back, and may split a
    ``new`` live change into ``new`` planned and ``live``, or fold a ``live`` change into
    ``new``.
    """
    session.flush()  # the batch reads with Core statements: pending ORM rows go first
    entry = BatchItem(
        item.id,
        item.published_at or item.fetched_at,
        item.content_hash,
        [d.fact for d in decisions],
        backfill,
    )
    (done,) = record_batch(session, [entry], now)
    session.expire(item, ["processed_at"])  # written by the batch's UPDATE
    return done.created


def all_facts(session: Session) -> list[FactRow]:
    return list(
        session.scalars(
            select(FactRow).order_by(FactRow.entity, FactRow.kind, FactRow.value_key)
        ).all()
    )
