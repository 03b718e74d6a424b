"""Reading the change log: ``ChangeQuery``, its pages, counts and facets.

One query object serves every reader (the CLI's ``changes``, ``show`` and ``report``,
the alert sender, and the web desk's pages and API), as Miniflux's EntryQueryBuilder
serves its UI and API::

    query = ChangeQuery(entity="alibaba", dismissed=False, limit=50)
    page = find_changes(session, query)                  # newest first, with evidence
    more = find_changes(session, replace(query, cursor=page.next_cursor))
    total = count_changes(session, query)                # ignores limit and cursor
    kinds = count_changes_by(session, query, "kind")     # {"region": 3, "model": 1}

Pages are keyset pages: the cursor names the last change shown (its sort key), so rows
recorded while someone pages never shift a page or show a change twice. A new filter
is one field on ``ChangeQuery`` and one clause in ``_conditions``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from monitor.errors import QueryError
from monitor.store.db import in_chunks
from monitor.store.models import ChangeRow, ItemRow, ObservationRow, SourceRow

Order = Literal["reported", "id"]
Facet = Literal["entity", "kind", "change", "status", "state", "backfill", "source", "lang"]
MAX_SEARCH_WORDS = 10
MAX_SEARCH_CHARS = 200


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
    state: str = "unread"  # unread / seen / confirmed / dismissed (monitor.store.review)
    state_at: datetime | None = None
    backfill: bool = False  # recorded without an alert (first pass, old item)

    @property
    def sources(self) -> int:
        return len({e.source for e in self.evidence})


@dataclass(frozen=True, kw_only=True)
class ChangeQuery:
    """Which changes, in which order, how many. Every filter left at None matches all.

    Times are naive UTC. ``since``/``until`` bound the date the change log shows and
    sorts by: when the first item reporting it was published (else when it was recorded);
    ``detected_since``/``detected_until`` bound when monitor recorded it. Lower bounds
    are inclusive, upper bounds exclusive.
    """

    entity: str | None = None  # watchlist id, e.g. "alibaba"
    kind: str | None = None  # region | chip | model
    change: str | None = None  # new | live
    status: str | None = None  # planned | live (the fact's status when it changed)
    since: datetime | None = None
    until: datetime | None = None
    detected_since: datetime | None = None
    detected_until: datetime | None = None
    source: str | None = None  # some evidence came from this source (its name)
    lang: str | None = None  # some evidence is in this language (the item's lang)
    dismissed: bool | None = None  # False: hide dismissed changes; True: only those
    state: str | None = None  # unread | seen | confirmed | dismissed
    backfill: bool | None = None  # True: only changes recorded without an alert; False: none
    # Every word must occur (case-insensitively) in the value, entity id or kind, or in
    # the sentence or title of some evidence. Display names live in the watchlist, not
    # here: a caller that searches them maps the names to entity ids itself.
    search: str | None = None
    ids: Sequence[int] | None = None
    order: Order = "reported"  # reported: the log's date, then id; id: record order
    descending: bool = True
    limit: int | None = None
    cursor: str | None = None  # ChangePage.next_cursor of the page before
    evidence: bool = True  # load each change's evidence (one query per 400 changes)

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:
            raise QueryError(f"limit must be 1 or more, not {self.limit}")
        if self.order not in get_args(Order):
            raise QueryError(f"unknown order {self.order!r} (allowed: reported, id)")


@dataclass
class ChangePage:
    changes: list[ChangeView]
    next_cursor: str | None  # None: this was the last page


def find_changes(session: Session, query: ChangeQuery) -> ChangePage:
    """One page of changes (all of them without a limit), with evidence if asked."""
    when = _reported()
    direction = (lambda col: col.desc()) if query.descending else (lambda col: col.asc())
    sort = [ChangeRow.id] if query.order == "id" else [when, ChangeRow.id]
    statement = select(*_VIEW_COLUMNS).where(*_conditions(query))
    if query.cursor is not None:
        statement = statement.where(_after(query, query.cursor))
    statement = statement.order_by(*(direction(col) for col in sort))
    if query.limit is not None:
        statement = statement.limit(query.limit + 1)  # one more: is there a next page?
    rows = list(session.execute(statement).all())
    more = query.limit is not None and len(rows) > query.limit
    rows = rows[: query.limit] if query.limit is not None else rows
    views = [_view(row) for row in rows]
    if query.evidence:
        _attach_evidence(session, views)
    return ChangePage(views, _cursor(query, views[-1]) if more else None)


def iter_changes(session: Session, query: ChangeQuery, page: int = 2000) -> Iterator[ChangeView]:
    """Every change ``query`` matches (its own limit and cursor aside), in its order, read
    ``page`` at a time through the keyset cursor: a reader that writes each change out
    as it comes (``monitor changes --format json``) holds one page in memory, not the log."""
    current = replace(query, limit=page, cursor=None)
    while True:
        found = find_changes(session, current)
        yield from found.changes
        if found.next_cursor is None:
            return
        current = replace(current, cursor=found.next_cursor)


def get_change(session: Session, change_id: int) -> ChangeView | None:
    page = find_changes(session, ChangeQuery(ids=[change_id]))
    return page.changes[0] if page.changes else None


def count_changes(session: Session, query: ChangeQuery) -> int:
    """How many changes match the filters (limit and cursor aside)."""
    statement = select(func.count()).select_from(ChangeRow).where(*_conditions(query))
    return int(session.scalar(statement) or 0)


def count_changes_by(session: Session, query: ChangeQuery, facet: Facet) -> dict[str, int]:
    """Matching changes per value of ``facet``, the facet's own filter left out (so a
    desk can offer the other values next to the chosen one). For ``source`` and ``lang``
    a change counts once under each source (language) of its evidence; evidence without
    a language is not counted under ``lang``."""
    if facet not in get_args(Facet):
        raise QueryError(f"unknown facet {facet!r} (allowed: {', '.join(get_args(Facet))})")
    unfiltered: dict[str, Any] = {facet: None}
    conditions = _conditions(replace(query, **unfiltered))
    column: Any
    if facet in ("source", "lang"):
        column = SourceRow.name if facet == "source" else ItemRow.lang
        statement = (
            select(column, func.count(ChangeRow.id.distinct()))
            .select_from(ChangeRow)
            .join(ObservationRow, ObservationRow.change_id == ChangeRow.id)
            .join(ItemRow, ObservationRow.item_id == ItemRow.id)
            .join(SourceRow, ItemRow.source_id == SourceRow.id)
            .where(*conditions, column.is_not(None))
        )
    else:
        column = getattr(ChangeRow, facet)
        statement = select(column, func.count()).select_from(ChangeRow).where(*conditions)
    rows = session.execute(statement.group_by(column)).all()
    return {_facet_value(value): int(count) for value, count in rows}


def _facet_value(value: Any) -> str:
    """``backfill`` counts as "true"/"false", as a query string would spell it."""
    return str(value).lower() if isinstance(value, bool) else str(value)


# --------------------------------------------------------------------------- SQL


def _reported() -> ColumnElement[datetime]:
    """The log's date: the first reporting item's publication, else the recording."""
    return func.coalesce(ChangeRow.published_at, ChangeRow.at)


def _conditions(query: ChangeQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for name in ("entity", "kind", "change", "status"):
        value = getattr(query, name)
        if value is not None:
            where.append(getattr(ChangeRow, name) == value)
    when = _reported()
    if query.since is not None:
        where.append(when >= query.since)
    if query.until is not None:
        where.append(when < query.until)
    if query.detected_since is not None:
        where.append(ChangeRow.at >= query.detected_since)
    if query.detected_until is not None:
        where.append(ChangeRow.at < query.detected_until)
    if query.source is not None:
        where.append(_evidence_where(SourceRow.name == query.source))
    if query.lang is not None:
        where.append(_evidence_where(ItemRow.lang == query.lang))
    if query.dismissed is not None:
        dismissed = ChangeRow.dismissed_at.is_not(None)
        where.append(dismissed if query.dismissed else ~dismissed)
    if query.state is not None:
        where.append(ChangeRow.state == query.state)
    if query.backfill is not None:
        where.append(ChangeRow.backfill.is_(query.backfill))
    if query.ids is not None:
        where.append(ChangeRow.id.in_(list(query.ids)))
    for word in _words(query.search):
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

        def like(column: Any, pattern: str = pattern) -> ColumnElement[bool]:
            return column.ilike(pattern, escape="\\")

        where.append(
            or_(
                like(ChangeRow.value),
                like(ChangeRow.entity),
                like(ChangeRow.kind),
                # Not _evidence_where's correlated EXISTS: under an OR, PostgreSQL runs that
                # once per change, while it hashes this IN list once (767 -> 272 ms for a
                # search over 50,000 changes, bench/bench_queries.py).
                ChangeRow.id.in_(
                    select(ObservationRow.change_id)
                    .join(ItemRow, ObservationRow.item_id == ItemRow.id)
                    .where(or_(like(ObservationRow.sentence), like(ItemRow.title)))
                ),
            )
        )
    return where


def _words(search: str | None) -> list[str]:
    return (search or "")[:MAX_SEARCH_CHARS].split()[:MAX_SEARCH_WORDS]


def _evidence_where(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Some observation of the change (with its item and source) meets ``condition``."""
    return exists(
        select(ObservationRow.id)
        .join(ItemRow, ObservationRow.item_id == ItemRow.id)
        .join(SourceRow, ItemRow.source_id == SourceRow.id)
        .where(ObservationRow.change_id == ChangeRow.id, condition)
    )


# --------------------------------------------------------------------------- cursors
# A cursor is the sort key of the last change shown, with the order it belongs to, as
# URL-safe base64 of JSON: opaque to callers, checked when read back.


def _cursor(query: ChangeQuery, last: ChangeView) -> str:
    key: list[Any] = [last.id]
    if query.order == "reported":
        key.insert(0, (last.published or last.at).isoformat())
    raw = json.dumps([query.order, query.descending, key], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _after(query: ChangeQuery, cursor: str) -> ColumnElement[bool]:
    """The changes that come after the cursor's change in the query's order."""
    bad = QueryError(f"bad cursor {cursor[:40]!r} (take next_cursor from the page before)")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        order, descending, key = json.loads(base64.urlsafe_b64decode(padded))
        if (order, descending) != (query.order, query.descending):
            raise bad
        if order == "id":
            (last_id,) = key
            last_when = None
        else:
            moment, last_id = key
            last_when = datetime.fromisoformat(moment)
        if not isinstance(last_id, int) or isinstance(last_id, bool):
            raise bad
    except (ValueError, TypeError, binascii.Error):
        raise bad from None
    later = (lambda a, b: a < b) if query.descending else (lambda a, b: a > b)
    if last_when is None:
        return later(ChangeRow.id, last_id)
    when = _reported()
    return or_(
        later(when, last_when),
        and_(when == last_when, later(ChangeRow.id, last_id)),
    )


# --------------------------------------------------------------------------- views


# The columns a ChangeView is made of, read as plain rows: building ORM objects for every
# change of a long log (and every item of its evidence) cost more than the query.
_VIEW_COLUMNS = (
    ChangeRow.id,
    ChangeRow.fact_id,
    ChangeRow.entity,
    ChangeRow.kind,
    ChangeRow.value,
    ChangeRow.status,
    ChangeRow.change,
    ChangeRow.at,
    ChangeRow.published_at,
    ChangeRow.dismissed_at,
    ChangeRow.dismiss_reason,
    ChangeRow.state,
    ChangeRow.state_at,
    ChangeRow.backfill,
)


def _view(row: Any) -> ChangeView:
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
        state=row.state,
        state_at=row.state_at,
        backfill=bool(row.backfill),
    )


def _attach_evidence(session: Session, views: list[ChangeView]) -> None:
    """Each view's evidence, oldest first: one query per chunk of changes, not per change."""
    by_id = {v.id: v for v in views}
    for chunk in in_chunks(list(by_id)):
        rows = session.execute(
            select(
                ObservationRow.change_id,
                ItemRow.url,
                ItemRow.title,
                SourceRow.name,
                ObservationRow.sentence,
                ItemRow.published_at,
                ItemRow.lang,
                ObservationRow.status,
            )
            .join(ItemRow, ObservationRow.item_id == ItemRow.id)
            .join(SourceRow, ItemRow.source_id == SourceRow.id)
            .where(ObservationRow.change_id.in_(chunk))
            .order_by(func.coalesce(ItemRow.published_at, ItemRow.fetched_at), ItemRow.id)
        ).all()
        for change_id, url, title, source, sentence, published, lang, status in rows:
            assert change_id is not None  # selected by change_id IN (...)
            by_id[change_id].evidence.append(
                EvidenceView(url, title, source, sentence, published, lang, status)
            )
