"""Retention: emptying and deleting items that reported no fact (``monitor prune``).

An item is prunable once processed and cited by no observation and no change. Deleting
one first copies its dedupe keys into ``seen_keys``, which ``items.store_items`` and
``sources.known_urls`` consult, so the same item fetched again is a duplicate, not news.
Those keys are dropped in turn once not seen for ``forget_keys_after`` (``store_items``
marks a key seen when a listing shows its item again): without that, ``seen_keys`` would
be the one table that grows for as long as the sources publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from monitor.store.models import ChangeRow, ItemRow, ObservationRow, SeenKeyRow


@dataclass(frozen=True, slots=True)
class PruneCounts:
    texts: int  # items whose text was (or would be) emptied
    deleted: int  # items deleted (or to be), their keys kept
    keys: int = 0  # dedupe keys of items deleted long ago, dropped (or to be)


def _factless(fetched_before: datetime) -> ColumnElement[bool]:
    return and_(
        ItemRow.processed_at.is_not(None),
        ItemRow.fetched_at < fetched_before,
        ~exists().where(ObservationRow.item_id == ItemRow.id),
        ~exists().where(ChangeRow.first_item_id == ItemRow.id),
    )


def count_prunable(
    session: Session,
    text_before: datetime,
    delete_before: datetime,
    forget_before: datetime | None = None,
) -> PruneCounts:
    """What :func:`prune_items` would do now."""
    texts = session.scalar(
        select(func.count())
        .select_from(ItemRow)
        .where(_factless(text_before), ItemRow.fetched_at >= delete_before, ItemRow.text != "")
    )
    deleted = session.scalar(
        select(func.count()).select_from(ItemRow).where(_factless(delete_before))
    )
    keys = None
    if forget_before is not None:
        keys = session.scalar(
            select(func.count())
            .select_from(SeenKeyRow)
            .where(SeenKeyRow.deleted_at < forget_before)
        )
    return PruneCounts(texts or 0, deleted or 0, keys or 0)


def prune_items(
    session: Session,
    text_before: datetime,
    delete_before: datetime,
    now: datetime,
    forget_before: datetime | None = None,
) -> PruneCounts:
    """Drop the keys of items deleted (or last seen) before ``forget_before`` (None: keep
    them all),
    delete the fact-less items fetched before ``delete_before`` (keeping their keys), then
    empty the text of those fetched before ``text_before``."""
    keys = 0
    if forget_before is not None:
        keys = _rowcount(
            session.execute(
                delete(SeenKeyRow)
                .where(SeenKeyRow.deleted_at < forget_before)
                .execution_options(synchronize_session=False)
            )
        )
    doomed = select(ItemRow.id).where(_factless(delete_before)).scalar_subquery()
    session.execute(
        insert(SeenKeyRow).from_select(
            ["source_id", "guid_key", "url_key", "content_hash", "deleted_at"],
            select(
                ItemRow.source_id,
                ItemRow.guid_key,
                ItemRow.url_key,
                ItemRow.content_hash,
                literal(now),
            ).where(ItemRow.id.in_(doomed)),
        )
    )
    deleted = _rowcount(
        session.execute(
            delete(ItemRow)
            .where(_factless(delete_before))
            .execution_options(synchronize_session=False)
        )
    )
    texts = _rowcount(
        session.execute(
            update(ItemRow)
            .where(_factless(text_before), ItemRow.text != "")
            .values(text="")
            .execution_options(synchronize_session=False)
        )
    )
    return PruneCounts(texts, deleted, keys)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def database_bytes(engine: Engine) -> int | None:
    """The SQLite file's size in use (page count times page size); None elsewhere."""
    if engine.url.get_backend_name() != "sqlite":
        return None
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
        size = conn.exec_driver_sql("PRAGMA page_size").scalar() or 0
    return int(pages) * int(size)


def reclaim_space(engine: Engine) -> None:
    """Give SQLite's free pages back to the file system. A database made before
    retention existed is switched to incremental auto-vacuum once (a full VACUUM);
    after that, ``PRAGMA incremental_vacuum`` frees pages without rewriting the file.
    Nothing to do on other databases (their own vacuum runs)."""
    if engine.url.get_backend_name() != "sqlite":
        return
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA auto_vacuum").scalar()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if mode != 2:  # 0 none, 1 full, 2 incremental
            cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
            cursor.execute("VACUUM")
        cursor.close()
        # executescript steps the pragma to its end: execute() would free one page only
        # (it frees a page per step, and Python steps a row-less statement once).
        raw.driver_connection.executescript(  # type: ignore[union-attr]
            "PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);"
        )
    finally:
        raw.close()
