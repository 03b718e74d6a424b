"""Source fetch state and health: the queries the polling pass and `monitor status` need.

Timestamps are naive UTC like every column (see ``monitor.store.models``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.store.db import IN_CHUNK, in_chunks, utcnow
from monitor.store.items import canonical_url
from monitor.store.models import ItemRow, SeenKeyRow, SourceRow


@dataclass(frozen=True, slots=True)
class SourceState:
    """A detached snapshot of a source's row, safe to hand to a worker thread."""

    id: int
    name: str
    etag: str | None
    last_modified: str | None
    next_due_at: datetime | None
    retry_after_until: datetime | None
    consecutive_failures: int

    @classmethod
    def of(cls, row: SourceRow) -> SourceState:
        return cls(
            id=row.id,
            name=row.name,
            etag=row.etag,
            last_modified=row.last_modified,
            next_due_at=row.next_due_at,
            retry_after_until=row.retry_after_until,
            consecutive_failures=row.consecutive_failures or 0,
        )


def sync_sources(session: Session, sources: Iterable[tuple[str, str, str]]) -> dict[str, SourceRow]:
    """Rows for (name, kind, url) triples, created on first sight; kind and URL follow the
    config (a changed URL forgets the old validators). One query for the lot."""
    wanted = list(sources)
    names = [name for name, _, _ in wanted]
    rows: dict[str, SourceRow] = {}
    for chunk in in_chunks(names):
        for row in session.scalars(select(SourceRow).where(SourceRow.name.in_(chunk))):
            rows[row.name] = row
    missing = [(name, kind, url) for name, kind, url in wanted if name not in rows]
    if missing:
        _insert_new_sources(session, missing)
        for chunk in in_chunks([name for name, _, _ in missing]):
            for row in session.scalars(select(SourceRow).where(SourceRow.name.in_(chunk))):
                rows[row.name] = row
    for name, kind, url in wanted:
        existing = rows[name]
        if existing.kind != kind or existing.url != url:
            if existing.url != url:
                existing.etag = existing.last_modified = None
            existing.kind, existing.url = kind, url
    return rows


def due_source_names(session: Session, now: datetime, tolerance: timedelta) -> set[str]:
    """Names of the sources due by ``now`` + ``tolerance`` with no Retry-After pending
    (``monitor.due.is_due`` as one query over names only: a scheduler tick over 10,000
    sources reads 10,000 short strings, not 10,000 ORM rows)."""
    cutoff = now + tolerance
    query = select(SourceRow.name).where(
        (SourceRow.next_due_at.is_(None)) | (SourceRow.next_due_at <= cutoff),
        (SourceRow.retry_after_until.is_(None)) | (SourceRow.retry_after_until <= now),
    )
    return set(session.scalars(query))


def _insert_new_sources(session: Session, missing: list[tuple[str, str, str]]) -> None:
    """Insert the rows of sources seen for the first time; a row another process inserted
    meanwhile is left as it is (ON CONFLICT DO NOTHING): several `monitor once` or workers
    starting at once on a new config all register the same sources."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    now = utcnow()
    values = [
        {
            "name": name,
            "kind": kind,
            "url": url,
            "created_at": now,
            "consecutive_failures": 0,
            "items_count": 0,
            "down_alerted": False,
        }
        for name, kind, url in missing
    ]
    dialect = session.get_bind().dialect.name
    for chunk in in_chunks(values, IN_CHUNK // 4):  # 7 bound values a row
        if dialect == "postgresql":
            session.execute(pg_insert(SourceRow).values(chunk).on_conflict_do_nothing())
        elif dialect == "sqlite":
            session.execute(sqlite_insert(SourceRow).values(chunk).on_conflict_do_nothing())
        else:  # pragma: no cover - other databases: a race is a unique violation, retried
            session.add_all(SourceRow(**v) for v in chunk)
            session.flush()


def known_urls(session: Session, urls: Iterable[str | None]) -> set[str]:
    """The canonical forms of ``urls`` already stored as items (any source)."""
    keys = sorted({key for url in urls if (key := canonical_url(url))})
    found: set[str] = set()
    for table in (ItemRow, SeenKeyRow):  # stored, or deleted by retention
        for chunk in in_chunks(keys):
            found.update(
                key
                for key in session.scalars(select(table.url_key).where(table.url_key.in_(chunk)))
                if key
            )
    return found


def record_fetched(
    row: SourceRow,
    *,
    now: datetime,
    next_due: datetime,
    status: str,
    etag: str | None,
    last_modified: str | None,
    keep_validators: bool = True,
) -> None:
    """A successful fetch (new content or 304): health reset, next run scheduled.

    Validators are written in the same transaction as the items they describe, so an
    interrupted pass refetches instead of skipping items it never stored.
    """
    row.last_fetch_at = now
    row.last_success_at = now
    row.last_status = status
    row.consecutive_failures = 0
    row.failing_since = None
    row.retry_after_until = None
    row.next_due_at = next_due
    if keep_validators:
        # A 304 may omit the validators; keep what we had then.
        row.etag = etag or (row.etag if status == "not-modified" else None)
        row.last_modified = last_modified or (
            row.last_modified if status == "not-modified" else None
        )
    else:
        row.etag = row.last_modified = None


def record_failure(
    row: SourceRow,
    *,
    now: datetime,
    error: str,
    every: timedelta,
    max_backoff: timedelta,
    retry_after: float | None = None,
) -> None:
    """A failed fetch: the streak grows and the source backs off exponentially (capped);
    a server's Retry-After defers this source (only) until then."""
    failures = (row.consecutive_failures or 0) + 1
    row.last_fetch_at = now
    row.last_status = "failed"
    row.last_error = error[:1000]
    row.last_error_at = now
    row.consecutive_failures = failures
    if row.failing_since is None:
        row.failing_since = now
    backoff = min(every * (2 ** min(failures, 30)), max_backoff)
    if retry_after is not None:
        row.retry_after_until = now + timedelta(seconds=retry_after)
        row.next_due_at = row.retry_after_until
    else:
        row.next_due_at = now + backoff


def all_sources(session: Session) -> dict[str, SourceRow]:
    return {row.name: row for row in session.scalars(select(SourceRow))}


def source_row(session: Session, source_id: int) -> SourceRow | None:
    return session.get(SourceRow, source_id)


def source_rows(session: Session, source_ids: Sequence[int]) -> list[SourceRow]:
    """The rows of ``source_ids``, in one query per chunk: loaded into the session, where
    :func:`source_row` then finds them without a query (while the caller holds the list)."""
    rows: list[SourceRow] = []
    for chunk in in_chunks(sorted(set(source_ids))):
        rows.extend(session.scalars(select(SourceRow).where(SourceRow.id.in_(chunk))))
    return rows


def next_due_by_name(session: Session) -> dict[str, datetime]:
    """Per source name, the moment it may next be fetched: the later of its back-off
    (``next_due_at``) and a server's Retry-After; sources with neither are absent."""
    rows = session.execute(
        select(SourceRow.name, SourceRow.next_due_at, SourceRow.retry_after_until)
    ).all()
    due: dict[str, datetime] = {}
    for name, next_due_at, retry_until in rows:
        moments = [m for m in (next_due_at, retry_until) if m is not None]
        if moments:
            due[name] = max(moments)
    return due
