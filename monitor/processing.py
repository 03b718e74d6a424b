"""Processing: stored items -> facts -> changes -> outbox rows, a batch at a time.

`process_pending` is the task the daemon, `monitor once`, `ingest` and the workers run
after storing items (monitor.tasks re-exports it). Items are read for facts on the other
cores when there are many (monitor.cpupool), diffed and written a batch per transaction
(monitor.store.recorder), with one diff runner at a time across processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from monitor.changes import is_backfill, merge_item_facts
from monitor.cpupool import FactsOrError, read_items
from monitor.notify import routes
from monitor.store import locks, outbox
from monitor.store.db import begin_write, to_naive_utc, transaction, utcnow
from monitor.store.items import pending_item_ids
from monitor.store.pending import claim_items, pending_items
from monitor.store.recorder import BatchItem, LoggedChange, record_batch
from monitor.types import Fact, Item

if TYPE_CHECKING:
    from monitor.app import App

log = logging.getLogger(__name__)


def _now(now: datetime | None) -> datetime:
    return to_naive_utc(now) or utcnow()


@dataclass
class ProcessReport:
    """What :func:`process_pending` did: items processed, changes new and live, outbox rows
    queued, items whose extraction failed."""

    items: int = 0
    new: int = 0
    live: int = 0
    deliveries: int = 0
    errors: int = 0
    backfill: int = 0  # changes recorded without an alert (first pass, old item, --no-alerts)

    def add(self, other: ProcessReport) -> None:
        self.backfill += other.backfill
        self.items += other.items
        self.new += other.new
        self.live += other.live
        self.deliveries += other.deliveries
        self.errors += other.errors


PROCESS_BATCH = 200  # items read, extracted and written per transaction


def process_pending(
    app: App,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    queue_alerts: bool = True,
    batch: int = PROCESS_BATCH,
) -> ProcessReport:
    """Extract, diff and record changes (with their outbox rows) for unprocessed items, in
    published order:

        extract -> diff (monitor.changes) -> facts, observations, changes, outbox rows,
        items.processed_at

    ``batch`` items at a time in one transaction: one query reads them, and the batch is
    diffed and written together (monitor.store.recorder: one lookup each of the facts
    they report, those facts' changes and the items' observations, then a few bulk
    writes). The change log is the same as one item at a time (each item sees what the
    items before it recorded). Should the batch's writes fail on a unique key, its items
    are recorded one by one, each in a savepoint of its own, so a bad item costs only
    itself. ``queue_alerts=False`` records the change log without outbox rows (a quiet
    back-fill); so does an item of a source's first pass or older than ``alerts.max_age``
    (``monitor.changes.is_backfill``). Either way its changes are marked ``backfill``. An
    item another process recorded first is skipped (the unique keys refuse the copy).
    """
    report = ProcessReport()
    with transaction(app.sessions) as session:
        pending = pending_item_ids(session, limit)
    if not pending:
        return report  # the extractor is not even built
    read, ahead = _reader(app, len(pending))
    moment = _now(now)
    size = max(1, batch)
    chunks = [pending[start : start + size] for start in range(0, len(pending), size)]
    # One diff runner at a time across every process on a server database: three
    # `monitor once` (or workers) walking the same pending items in parallel deadlocked on
    # facts rows and raced on every unique key. The next runner waits, then finds the
    # items done. (A no-op on SQLite, whose file lock serialises writers anyway.)
    with locks.exclusive(app.engine, "process"):
        following: _Batch | None = _read_batch(app, read, chunks[0])
        for n, chunk in enumerate(chunks):
            this = following or _read_batch(app, read, chunk)
            following = None
            if ahead and n + 1 < len(chunks):
                # the extraction workers read the next batch while this one is written
                following = _read_batch(app, read, chunks[n + 1])
            report.add(_process_batch_retrying(app, this, moment, queue_alerts))
    return report


RETRIES = 5  # a serialisation failure or deadlock runs the batch's transaction again

Reader = Callable[[list[Item]], Callable[[], list[FactsOrError]]]


@dataclass(frozen=True, slots=True)
class _Pending:
    """An unprocessed item as the diff needs it (its row's immutable columns)."""

    id: int
    published: datetime  # published_at, or fetched_at for an undated item
    published_at: datetime | None
    fetched_at: datetime
    content_hash: str
    first_pass: bool


@dataclass
class _Batch:
    """Some items read, and their facts: being read (by the extraction workers, or here
    when asked)."""

    items: list[_Pending]
    reading: Callable[[], list[FactsOrError]]
    _facts: dict[int, FactsOrError] | None = None

    def facts(self) -> dict[int, FactsOrError]:
        if self._facts is None:  # (a batch run again after a deadlock reads only once)
            results = self.reading()
            self._facts = {p.id: r for p, r in zip(self.items, results, strict=True)}
        return self._facts


def _read_batch(app: App, read: Reader, item_ids: Sequence[int]) -> _Batch:
    """The items still unprocessed among ``item_ids``, handed to ``read`` for facts."""
    with transaction(app.sessions) as session:
        rows = pending_items(session, item_ids)  # plain rows: no ORM object per item
    pending = [
        _Pending(
            r.id,
            r.published_at or r.fetched_at,
            r.published_at,
            r.fetched_at,
            r.content_hash,
            r.first_pass,
        )
        for r in rows
    ]
    return _Batch(pending, read([item_of(r) for r in rows]))


def _process_batch_retrying(
    app: App, batch: _Batch, moment: datetime, queue_alerts: bool
) -> ProcessReport:
    for attempt in range(RETRIES):
        try:
            return _process_batch(app, batch, moment, queue_alerts)
        except DBAPIError as exc:
            if not locks.is_retryable(exc) or attempt == RETRIES - 1:
                raise
            first = batch.items[0].id if batch.items else None
            log.info("items %s..: %s, retrying", first, type(exc.orig).__name__)
            time.sleep(0.05 * (attempt + 1))
    return ProcessReport()  # pragma: no cover - the loop returns or raises


def _reader(app: App, count: int) -> tuple[Reader, bool]:
    """How this pass reads items for facts, and whether it reads ahead: on the other
    cores when there are many (monitor.cpupool), which read the next batch while this
    process writes one; else here with the App's extractor, when the batch is written."""
    pool = app.pool_for(count)
    if pool is not None:
        return pool.submit, True
    extractor = app.extractor  # outside the per-item guard: a broken watchlist is no item's fault
    return (lambda items: partial(read_items, extractor, items)), False


def item_of(row: Any) -> Item:
    """A stored item (a row of ``recorder.pending_items``) as the extractor reads it."""
    published = row.published_at.replace(tzinfo=UTC) if row.published_at else None
    return Item(
        title=row.title or "",
        text=row.text or "",
        url=row.url,
        guid=row.guid_key,
        published=published,
        lang=row.lang,
        source=row.source,
        extra=dict(row.extra or {}),
    )


def _process_batch(app: App, batch: _Batch, moment: datetime, queue_alerts: bool) -> ProcessReport:
    """Some items in one transaction: diffed and written together in one savepoint
    (monitor.store.recorder); should that fail, each item in a savepoint of its own."""
    report = ProcessReport()
    with transaction(app.sessions) as session:
        begin_write(session)  # one transaction for the batch, savepoints inside
        # another process may have taken some since they were read
        claimed = claim_items(session, [p.id for p in batch.items])
        items = [p for p in batch.items if p.id in claimed]
        facts = _facts(items, batch.facts(), report)
        entries = [
            BatchItem(
                p.id,
                p.published,
                p.content_hash,
                merge_item_facts(found),
                not queue_alerts or _backfill(app, p),
            )
            for p, found in zip(items, facts, strict=True)
        ]
        try:
            with session.begin_nested():
                done = _record(session, app, entries, moment)
        except IntegrityError as exc:
            # Another process (e.g. `monitor ingest` beside the daemon) recorded some of
            # these facts first: record the items one by one, so only those stay pending.
            first = entries[0].item_id if entries else None
            log.info("items %s..: recording one by one (%s)", first, type(exc.orig).__name__)
            done = []
            for entry in entries:
                try:
                    with session.begin_nested():
                        done += _record(session, app, [entry], moment)
                except IntegrityError:
                    log.info("item %s: already processed elsewhere", entry.item_id)
        for one in done:
            report.add(one)
    return report


def _backfill(app: App, row: _Pending) -> bool:
    return is_backfill(
        first_pass=row.first_pass,
        published=row.published_at,
        fetched=row.fetched_at,
        quiet_first_pass=app.alerts.quiet_first_pass,
        max_age=app.alerts.max_age,
    )


def _facts(
    items: Sequence[_Pending], results: dict[int, FactsOrError], report: ProcessReport
) -> list[list[Fact]]:
    """Each item's facts; an item the extractor could not read is logged and has none."""
    facts: list[list[Fact]] = []
    for row in items:
        result = results[row.id]
        if isinstance(result, str):
            log.error("item %s: extraction failed: %s", row.id, result)
            report.errors += 1
            facts.append([])
        else:
            facts.append(result)
    return facts


def _record(
    session: Session, app: App, entries: Sequence[BatchItem], moment: datetime
) -> list[ProcessReport]:
    """The items' facts, observations, changes and outbox rows (none for a back-fill);
    what each item made."""
    reports = []
    for entry, done in zip(entries, record_batch(session, entries, moment), strict=True):
        report = ProcessReport(items=1)
        for change in done.created:
            if change.folded:
                continue  # a later item of the batch showed published order does not give it
            if entry.backfill:
                report.backfill += 1
            else:
                report.deliveries += _queue_change(session, app, change, moment)
            log.info(
                "change %s %s/%s/%s item=%s",
                change.change,
                change.entity,
                change.kind,
                change.value,
                entry.item_id,
            )
            if change.change == "new":
                report.new += 1
            else:
                report.live += 1
        reports.append(report)
    session.flush()  # the outbox rows, inside the caller's savepoint
    return reports


def _queue_change(session: Session, app: App, change: LoggedChange, now: datetime) -> int:
    assert change.id is not None  # written by record_batch
    targets = routes.plan(app.alerts, app.channels, change.entity, change.kind, change.change)
    for target in targets:
        outbox.add_delivery(
            session,
            kind="change",
            route=target.route.name,
            channel=target.channel.id,
            change_id=change.id,
            now=now,
            state=target.state,
        )
    return len(targets)
