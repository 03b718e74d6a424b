"""The items a processing batch reads and then claims.

A batch is read (for the extractor and the diff) in a short transaction of its own,
possibly while the batch before it is written; the write transaction then claims the
items still unprocessed. Plain rows, not ORM objects: a first pass reads thousands.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Table, any_, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from monitor.store.db import in_chunks
from monitor.store.models import ItemRow, SourceRow

ITEMS = cast(Table, ItemRow.__table__)
SOURCES = cast(Table, SourceRow.__table__)


def id_in(session: Session, column: ColumnElement[int], ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN (ids)``; on PostgreSQL ``column = ANY(array)``, one bound parameter:
    the statement's text is then the same for any number of ids, so psycopg converts
    (and prepares) it once, where a long IN list was parsed again at every batch."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(Integer)))
    return column.in_(ids)


def pending_items(session: Session, item_ids: Sequence[int]) -> list[Any]:
    """The items among ``item_ids`` still unprocessed, in that order: what the extractor
    and the diff read of them (with the source's name as ``source``), as plain rows, one
    query per chunk. No lock: :func:`claim_items` takes them when the batch is written."""
    found: dict[int, Any] = {}  # Row objects (typed Any: their columns are named below)
    columns = [ITEMS.c[name] for name in PENDING_COLUMNS]
    for chunk in in_chunks(list(item_ids)):
        query = (
            select(*columns, SOURCES.c.name.label("source"))
            .join(SOURCES, SOURCES.c.id == ITEMS.c.source_id)
            .where(id_in(session, ITEMS.c.id, chunk), ITEMS.c.processed_at.is_(None))
        )
        found.update((row.id, row) for row in session.execute(query))
    return [found[i] for i in item_ids if i in found]


PENDING_COLUMNS = (
    "id",
    "title",
    "text",
    "url",
    "guid_key",
    "published_at",
    "fetched_at",
    "lang",
    "extra",
    "content_hash",
    "first_pass",
)


def claim_items(session: Session, item_ids: Sequence[int]) -> set[int]:
    """Those of ``item_ids`` still unprocessed, locked for the caller's transaction; on a
    server database an item another process holds is skipped (SKIP LOCKED), so processes
    side by side share the pending items instead of each walking all."""
    claimed: set[int] = set()
    for chunk in in_chunks(list(item_ids)):
        query = (
            select(ITEMS.c.id)
            .where(id_in(session, ITEMS.c.id, chunk), ITEMS.c.processed_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        claimed.update(session.scalars(query))
    return claimed
