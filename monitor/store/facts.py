"""Known facts: lookups, the baseline and observed rows, and one item's diff writes.

``record_item`` writes an item's facts, changes and observations and marks it
processed. Callers own the transaction (``monitor.store.db.transaction``): one item's
observations, facts, changes and outbox rows commit together with ``items.processed_at``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from monitor.changes import Decision, Key, KnownFact, LogEntry, ordered_log
from monitor.store.db import IN_CHUNK, in_chunks
from monitor.store.models import ChangeRow, DeliveryRow, FactRow, ItemRow, ObservationRow
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
    observation is reused, never doubled. The change log comes out as if items were
    processed in published order whatever order they come in (monitor.changes.ordered_log):
    an earlier report arriving late moves a change's first report back, and may split a
    ``new`` live change into ``new`` planned and ``live``, or fold a ``live`` change into
    ``new``.
    """
    created: list[ChangeRow] = []
    published = item.published_at or item.fetched_at
    for decision in decisions:
        fact = decision.fact
        change: ChangeRow | None = None
        if decision.known is None:
            row = add_fact(session, fact, "observed", now)
            session.flush()
            report = LogEntry((published, item.content_hash), fact.status, item.id)
            change = _write_change(session, row, None, report, "new", now, backfill)
            created.append(change)
        else:
            found = session.get(FactRow, decision.known.fact_id)
            assert found is not None
            row = found
            row.last_seen_at = now
            if not decision.known.dismissed:  # a dismissed fact never changes again
                report = LogEntry((published, item.content_hash), fact.status, item.id)
                change = _log_report(session, row, report, now, created, backfill)
        if change is None:
            change = latest_change(session, row.id)
        _observe(session, row.id, item.id, change.id if change else None, decision, now)
    item.processed_at = now
    session.flush()
    return created


def _log_report(
    session: Session,
    row: FactRow,
    report: LogEntry,
    now: datetime,
    created: list[ChangeRow],
    backfill: bool,
) -> ChangeRow | None:
    """Bring a known fact's changes to what published order gives with this report added;
    the change this report is the first report of, if any."""
    logged = {
        c.change: c for c in session.scalars(select(ChangeRow).where(ChangeRow.fact_id == row.id))
    }
    new, live = logged.get("new"), logged.get("live")
    baseline = None
    if row.origin == "baseline":
        baseline = "planned" if live is not None or row.status == "planned" else "live"
    want_new, want_live = ordered_log(baseline, _entry(session, new), _entry(session, live), report)
    if report.status == "live":
        row.status = "live"  # the furthest status seen
    elif want_new is not None and want_new.status == "planned" and want_live is None:
        row.status = "planned"  # only planned reports so far
    mine: ChangeRow | None = None
    for kind, current, wanted in (("new", new, want_new), ("live", live, want_live)):
        if wanted is None:
            if current is not None:
                _fold_change(session, current, into=logged.get("new"))
            continue
        if current is None:
            current = _write_change(session, row, None, wanted, kind, now, backfill)
            created.append(current)
        else:
            _write_change(session, row, current, wanted, kind, now)
        if wanted.item_id == report.item_id:
            mine = current
    return mine


def _entry(session: Session, change: ChangeRow | None) -> LogEntry | None:
    if change is None:
        return None
    first = session.get(ItemRow, change.first_item_id) if change.first_item_id else None
    at = (change.published_at or change.at, first.content_hash if first else "")
    return LogEntry(at, change.status, change.first_item_id or 0)


def _write_change(
    session: Session,
    fact: FactRow,
    change: ChangeRow | None,
    entry: LogEntry,
    kind: str,
    now: datetime,
    backfill: bool = False,
) -> ChangeRow:
    """Create the change (flushed, so it has an id) or move it to ``entry``."""
    published, item_id = entry.at[0], entry.item_id
    if change is None:
        change = ChangeRow(
            fact_id=fact.id,
            change=kind,
            entity=fact.entity,
            kind=fact.kind,
            value=fact.value,
            status=entry.status,
            at=now,
            published_at=published,
            first_item_id=item_id,
            backfill=backfill,
        )
        session.add(change)
        session.flush()
    else:
        change.status = entry.status
        change.published_at = published
        change.first_item_id = item_id
    return change


def _fold_change(session: Session, change: ChangeRow, into: ChangeRow | None) -> None:
    """Remove a change that published order does not give (a ``live`` change whose fact
    turns out to have been reported live first): its evidence moves to ``into``, its
    unsent alerts go."""
    session.execute(
        update(ObservationRow)
        .where(ObservationRow.change_id == change.id)
        .values(change_id=into.id if into is not None else None)
    )
    session.execute(delete(DeliveryRow).where(DeliveryRow.change_id == change.id))
    session.delete(change)
    session.flush()


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
