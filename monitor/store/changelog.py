"""What the web desk reads beside the change log pages of ``monitor.store.queries``: the
counts per filter value in few queries, one change's status history and deliveries, a
company's facts, the daemon's heartbeat.

(``_conditions`` is the queries module's own filter builder: reused, so that a filter
means the same on a page and in its counts.)"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store.models import (
    ChangeRow,
    DeliveryRow,
    FactRow,
    ItemRow,
    ObservationRow,
    SourceRow,
    StateRow,
)
from monitor.store.queries import ChangeQuery, _conditions


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


def facts_per_source(session: Session) -> dict[str, int]:
    """How many distinct facts each source's items reported (the sources page)."""
    rows = session.execute(
        select(SourceRow.name, func.count(ObservationRow.fact_id.distinct()))
        .join(ItemRow, ItemRow.source_id == SourceRow.id)
        .join(ObservationRow, ObservationRow.item_id == ItemRow.id)
        .group_by(SourceRow.name)
    ).all()
    return {str(name): int(n) for name, n in rows}


def known_entities(session: Session) -> list[str]:
    return list(session.scalars(select(FactRow.entity).distinct().order_by(FactRow.entity)))


def state_updated_at(session: Session, key: str) -> datetime | None:
    """When the state row ``key`` was last written (e.g. the daemon's heartbeat)."""
    row = session.get(StateRow, key)
    return row.updated_at if row else None


# --------------------------------------------------------------------------- the desk's counts
# The change log page shows, beside 50 changes, how many changes each filter value has.
# Asked one count_changes_by per facet, a text search or an evidence filter would be
# evaluated eight times per page; these take one grouped query for the change's columns
# and two for the evidence's, and a search is resolved to ids once.

COLUMN_FACETS = ("entity", "kind", "change", "status", "state", "backfill")
# Bound parameters of one IN list: below SQLite 3.32+'s 32,766 and PostgreSQL's 65,535.
MAX_NARROWED_IDS = 30_000


@dataclass
class ChangeFacets:
    total: int  # changes matching every filter
    values: dict[str, list[tuple[str, int]]]  # facet -> (value, changes), most first


def narrow_search(session: Session, query: ChangeQuery) -> ChangeQuery:
    """The query with its text search replaced by the ids it matches (one scan of the
    evidence instead of one per count), unless more than MAX_NARROWED_IDS match."""
    if not query.search:
        return query
    found = session.scalars(
        select(ChangeRow.id).where(*_conditions(ChangeQuery(search=query.search)))
    ).all()
    if len(found) > MAX_NARROWED_IDS:
        return query
    ids = set(found) if query.ids is None else set(found) & set(query.ids)
    return replace(query, search=None, ids=sorted(ids))


def _wanted(query: ChangeQuery) -> dict[str, str | None]:
    """The column filters, spelt as the facet values are (backfill: "true"/"false")."""
    return {
        "entity": query.entity,
        "kind": query.kind,
        "change": query.change,
        "status": query.status,
        "state": query.state,
        "backfill": None if query.backfill is None else str(query.backfill).lower(),
    }


def change_facets(session: Session, query: ChangeQuery) -> ChangeFacets:
    """The total and the counts of the change's own columns (a facet's own filter left
    out, as ``count_changes_by`` does) in one grouped query.
    The evidence's facets: :func:`evidence_facets`."""
    unpaged = replace(query, limit=None, cursor=None)
    columns = replace(
        unpaged, entity=None, kind=None, change=None, status=None, state=None, backfill=None
    )
    grouped_by = (
        ChangeRow.entity,
        ChangeRow.kind,
        ChangeRow.change,
        ChangeRow.status,
        ChangeRow.state,
        ChangeRow.backfill,
    )
    grouped = session.execute(
        select(*grouped_by, func.count()).where(*_conditions(columns)).group_by(*grouped_by)
    ).all()
    wanted = _wanted(query)
    counts: dict[str, dict[str, int]] = {f: {} for f in COLUMN_FACETS}
    total = 0
    for entity, kind, change, status, state, backfill, n in grouped:
        row = {"entity": entity, "kind": kind, "change": change, "status": status}
        row["state"], row["backfill"] = state, str(bool(backfill)).lower()
        misses = [f for f in COLUMN_FACETS if wanted[f] is not None and row[f] != wanted[f]]
        if not misses:
            total += int(n)
        for facet in COLUMN_FACETS:
            if not misses or misses == [facet]:
                counts[facet][row[facet]] = counts[facet].get(row[facet], 0) + int(n)
    values = {f: _most_first(c) for f, c in counts.items()}
    return ChangeFacets(total, values)


def evidence_facets(session: Session, query: ChangeQuery) -> dict[str, list[tuple[str, int]]]:
    """The ``source`` and ``lang`` facets (a change counts once under each source and each
    language of its evidence). They read every piece of evidence of the matching changes:
    the costly part of the counts, which the desk loads after the page."""
    unpaged = replace(query, limit=None, cursor=None)
    return {
        "source": _evidence_facet(session, replace(unpaged, source=None), "source"),
        "lang": _evidence_facet(session, replace(unpaged, lang=None), "lang"),
    }


def _evidence_facet(session: Session, query: ChangeQuery, facet: str) -> list[tuple[str, int]]:
    column = SourceRow.name if facet == "source" else ItemRow.lang
    statement = (
        select(column, func.count(ObservationRow.change_id.distinct()))
        .select_from(ObservationRow)
        .join(ItemRow, ObservationRow.item_id == ItemRow.id)
        .join(SourceRow, ItemRow.source_id == SourceRow.id)
        .where(ObservationRow.change_id.is_not(None), column.is_not(None))
    )
    conditions = _conditions(query)
    if conditions:
        statement = statement.where(
            ObservationRow.change_id.in_(select(ChangeRow.id).where(*conditions))
        )
    rows = session.execute(statement.group_by(column)).all()
    return _most_first({str(value): int(n) for value, n in rows})


def _most_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
