"""The tasks: what the daemon's jobs, the CLI, (and the web desk and workers) run.

Each task is a plain function of the :class:`~monitor.app.App` and JSON-able arguments
(names, flags, file paths), so any trigger can call it: `monitor once`, `ingest` and
`notify`; the daemon's APScheduler jobs; later a web action or a Procrastinate worker (as
Miniflux's ``RefreshFeed`` serves its worker, CLI, API and UI alike). A task is safe to run
beside another copy of itself because of the database (unique keys, row claims), never
because of an in-process lock.

    refresh_source(app, name, force=False)   fetch one source, store its new items
    refresh_sources(app, names, force_all)   the due sources (or those named), concurrently
    process_pending(app)                     stored items -> facts -> changes -> outbox rows
    check_health(app)                        "source down" / "recovered" alerts into the outbox
    send_digests(app)                        due digest routes -> one digest row per channel
    deliver_due(app)                         the above two, then send the due outbox rows
    deliver_channel(app, channel)            send one channel's due outbox rows (workers)
    ingest(app, paths)                       replay JSONL items through the same path

Every time-dependent task takes ``now`` (naive or aware UTC) so tests drive the clock;
None means the current time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from monitor.changes import is_backfill, merge_item_facts
from monitor.conftypes import format_interval
from monitor.cpupool import MIN_ITEMS, FactsOrError, read_items
from monitor.errors import ConfigError
from monitor.notify import routes
from monitor.notify.digest import queue_due_digests
from monitor.poll import SourceOutcome, run_pass
from monitor.quiet import QuietSource, quiet_among
from monitor.sources.base import quiet_after
from monitor.sources.text import strip_controls
from monitor.store import health, locks, outbox
from monitor.store.db import begin_write, to_naive_utc, transaction, utcnow
from monitor.store.items import (
    insert_source_items,
    pending_item_ids,
)
from monitor.store.models import SourceRow
from monitor.store.pending import claim_items, pending_items
from monitor.store.recorder import (
    BatchItem,
    LoggedChange,
    record_batch,
)
from monitor.store.sources import sync_sources
from monitor.store.state import get_state, set_state
from monitor.types import Fact, Item

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.dbhealth import Outage
    from monitor.notify.sender import SendReport

log = logging.getLogger(__name__)

INGEST_KIND = "ingest"  # the kind of the source rows `monitor ingest` creates


def _now(now: datetime | None) -> datetime:
    return to_naive_utc(now) or utcnow()


# --- fetching ---------------------------------------------------------------------------------


def refresh_source(
    app: App, name: str, force: bool = False, *, now: datetime | None = None
) -> SourceOutcome:
    """Fetch the source ``name`` and store its new items (not processed: see
    :func:`process_pending`).

    Without ``force`` (the daemon's per-source job) a source backing off after failures is
    ``skipped``; with it (`monitor once --source`) it is fetched now. A pending Retry-After
    is honoured either way. ConfigError when the configuration has no such source."""
    (outcome,) = run_pass(
        app.config, app.sessions, app.fetcher, only=[name], scheduled=not force, now=now
    )
    return outcome


def refresh_sources(
    app: App,
    names: Sequence[str] | None = None,
    *,
    force_all: bool = False,
    now: datetime | None = None,
    on_outcome: Callable[[SourceOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[SourceOutcome]:
    """Fetch the due sources (or those in ``names`` now, or with ``force_all`` every enabled
    one), concurrently, and store their new items. One outcome per source, config order;
    ``on_start`` hears how many will be fetched, ``on_outcome`` of each as it finishes.

    Once the pass has stored many new items (a first pass, a news day) the extraction
    workers start, so their extractors are built while the fetching goes on."""
    stored = 0

    def heard(outcome: SourceOutcome) -> None:
        nonlocal stored
        stored += outcome.new_items
        if outcome.new_items and stored >= MIN_ITEMS:
            app.warm_extraction()
        if on_outcome is not None:
            on_outcome(outcome)

    return run_pass(
        app.config,
        app.sessions,
        app.fetcher,
        only=list(names or []) or None,
        force_all=force_all,
        now=now,
        on_outcome=heard,
        on_start=on_start,
    )


# --- processing -------------------------------------------------------------------------------


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


# --- alerts -----------------------------------------------------------------------------------


def check_health(app: App, *, now: datetime | None = None) -> int:
    """Queue a "down" alert for each source failing for ``alerts.source_down_after`` (once),
    and a "recovered" one when it fetches again. Returns the outbox rows queued."""
    moment = _now(now)
    # One process at a time on a server database: three passes at once each queued the
    # same "source down" alert.
    with locks.exclusive(app.engine, "alerts"), transaction(app.sessions) as session:
        return _queue_source_health(session, app, moment)


def _queue_source_health(session: Session, app: App, now: datetime) -> int:
    down = health.sources_newly_down(session, now, app.alerts.source_down_after)
    events = [(s, "down") for s in down] + [(s, "up") for s in health.sources_recovered(session)]
    # (each quiet spell is reported once)
    quiet_now = [
        q
        for q in quiet_sources(session, app, now)
        if get_state(session, q.state_key) != q.newest_key
    ]
    if not events and not quiet_now:
        return 0  # the channels (Apprise) are not even loaded
    targets = routes.health_channels(app.alerts, app.channels)
    made = 0
    for source, state in events:
        payload = _health_payload(source, state)
        for channel in targets:
            outbox.add_delivery(
                session, kind="source", route="health", channel=channel.id, now=now, payload=payload
            )
            made += 1
        health.mark_down_alerted(session, source.id, state == "down")
    for quiet in quiet_now:
        payload = {
            "source": quiet.name,
            "state": "quiet",
            "since": quiet.newest.isoformat(timespec="minutes"),
            "quiet_after": format_interval(quiet.after),
        }
        for channel in targets:
            outbox.add_delivery(
                session, kind="source", route="health", channel=channel.id, now=now, payload=payload
            )
            made += 1
        set_state(session, quiet.state_key, quiet.newest_key, now)
    return made


def queue_database_alert(app: App, outage: Outage, *, now: datetime | None = None) -> int:
    """Queue the health alert on a database outage that has ended (the daemon calls it
    once the database takes writes again). Returns the outbox rows queued."""
    moment = _now(now)
    payload = {
        "since": outage.since.isoformat(timespec="seconds"),
        "until": outage.until.isoformat(timespec="seconds") if outage.until else None,
        "minutes": int(outage.lasted(moment).total_seconds() // 60),
        "error": outage.error[:500],
    }
    with transaction(app.sessions) as session:
        channels = routes.health_channels(app.alerts, app.channels)
        for channel in channels:
            outbox.add_delivery(
                session,
                kind="database",
                route="health",
                channel=channel.id,
                now=moment,
                payload=payload,
            )
    return len(channels)


@dataclass
class PruneReport:
    """What :func:`prune` did (or, dry, would do): item texts emptied, items deleted
    (their dedupe keys kept), keys of items deleted long ago dropped, and the SQLite
    file's size before and after (None elsewhere, or dry)."""

    texts: int
    deleted: int
    bytes_before: int | None = None
    bytes_after: int | None = None
    keys: int = 0


def prune(app: App, *, dry_run: bool = False, now: datetime | None = None) -> PruneReport:
    """Apply ``retention:``: empty the text of fact-less items older than
    ``drop_text_after``, delete those older than ``delete_after`` (keeping their dedupe
    keys, so they are not news again), drop those keys after ``forget_keys_after``, then
    give SQLite's free pages back."""
    from monitor.store.retention import count_prunable, database_bytes, prune_items, reclaim_space

    moment = _now(now)
    policy = app.config.retention
    text_before = moment - policy.drop_text_after
    delete_before = moment - policy.delete_after
    forget = policy.forget_keys_after
    forget_before = moment - forget if forget is not None else None
    if dry_run:
        with transaction(app.sessions) as session:
            counts = count_prunable(session, text_before, delete_before, forget_before)
        return PruneReport(counts.texts, counts.deleted, keys=counts.keys)
    before = database_bytes(app.engine)
    with transaction(app.sessions) as session:
        counts = prune_items(session, text_before, delete_before, moment, forget_before)
    if counts.texts or counts.deleted or counts.keys:
        reclaim_space(app.engine)
    return PruneReport(
        counts.texts, counts.deleted, before, database_bytes(app.engine), keys=counts.keys
    )


def quiet_sources(session: Session, app: App, now: datetime) -> list[QuietSource]:
    """The enabled configured sources that have gone quiet: watched for their quiet_after
    with no item newer than that (a mirror whose scraper broke answers 200 with the same
    old items; a repository goes dormant). See monitor.quiet."""
    if not app.has_config:
        return []
    default = app.alerts.source_quiet_after
    watched = [(s.name, quiet_after(s, default)) for s in app.config.enabled_sources]
    return quiet_among(watched, health.newest_items(session), now)


def _health_payload(source: SourceRow, state: str) -> dict[str, object]:
    since = source.failing_since
    return {
        "source": source.name,
        "state": state,
        "since": since.isoformat(timespec="minutes") if since else None,
        "error": (source.last_error or "")[:500] or None,
        "failures": source.consecutive_failures or 0,
    }


def send_digests(app: App, *, now: datetime | None = None) -> int:
    """For each digest route whose daily time has come, turn its queued rows into one
    digest row per channel. Returns the digests queued."""
    moment = _now(now)
    with locks.exclusive(app.engine, "alerts"), transaction(app.sessions) as session:
        return queue_due_digests(session, app.alerts, moment)


def deliver_due(app: App, *, now: datetime | None = None, wait: float | None = None) -> SendReport:
    """Everything the outbox owes now: rows left in flight by a dead process back to
    pending, :func:`check_health`, :func:`send_digests`, then send the due rows, each
    channel on its own thread (monitor.notify.sender). ``wait``: return after that many
    seconds even if a slow channel is still sending (the daemon's 15 s beat)."""
    from monitor.notify.sender import SendReport

    moment = _now(now)
    with locks.exclusive(app.engine, "alerts"), transaction(app.sessions) as session:
        outbox.reclaim_in_flight(session, moment)
        _queue_source_health(session, app, moment)
        queue_due_digests(session, app.alerts, moment)
        nothing_due = not outbox.due_deliveries(session, moment, limit=1)
    if nothing_due:  # (send_due would find no row either: its report would be empty)
        return SendReport()  # nothing to send: channels (Apprise) and templates stay unloaded
    return _send(app, moment, wait=wait)


def deliver_channel(app: App, channel: str, *, now: datetime | None = None) -> SendReport:
    """Send one channel's due outbox rows, in order (a worker's per-channel job; health
    alerts and digests are queued by their own jobs). Rows left in flight by a dead process
    go back to pending first."""
    moment = _now(now)
    with transaction(app.sessions) as session:
        outbox.reclaim_in_flight(session, moment)
    return _send(app, moment, only=channel)


def _send(
    app: App, moment: datetime, *, wait: float | None = None, only: str | None = None
) -> SendReport:
    """Send the due outbox rows (of channel ``only``, or every channel) with the App's
    channels, templates and busy set."""
    from monitor.notify.sender import send_due

    return send_due(
        app.sessions,
        app.alerts,
        app.channels,
        app.renderer,
        app.names,
        moment,
        busy=app.busy_channels,
        wait=wait,
        only=only,
    )


# --- ingest -----------------------------------------------------------------------------------


@dataclass
class IngestReport:
    """What :func:`ingest` did: items read, stored new and duplicate, what processing made
    of them, and what was sent (None with ``send=False``)."""

    read: int = 0
    new: int = 0
    duplicate: int = 0
    processed: ProcessReport = field(default_factory=ProcessReport)
    sent: SendReport | None = None


def ingest(
    app: App,
    paths: Sequence[str | Path],
    *,
    queue_alerts: bool = True,
    send: bool = True,
    now: datetime | None = None,
) -> IngestReport:
    """Replay JSONL items (FACTS.md item format) through the path fetched items take:
    dedupe, extract, diff, change log, outbox, and (with ``send``) delivery, in
    ``published`` order. One source row of kind ``ingest`` per distinct item ``source``.
    Bad lines are reported on stderr and skipped; a file that is not UTF-8 is a
    ConfigError."""
    items = [it for path in paths for it in read_jsonl_items(Path(path))]
    if len(items) >= MIN_ITEMS:
        app.warm_extraction()  # the workers build their extractors while the items are stored
    new = _store_replayed(app, items)
    report = IngestReport(read=len(items), new=new, duplicate=len(items) - new)
    report.processed = process_pending(app, now=now, queue_alerts=queue_alerts)
    if send:
        report.sent = deliver_due(app, now=now)
    return report


def read_jsonl_items(path: Path) -> list[Item]:
    """Items of a FACTS.md-format JSONL file (bad lines reported on stderr and skipped)."""
    from monitor.extract.corpus import read_items_jsonl

    try:
        return [item for item, _gold, _story in read_items_jsonl(path)]
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason})"]) from None


def _store_replayed(app: App, items: list[Item]) -> int:
    """Store replayed items oldest first, deduplicated like fetched items; the count new."""
    far_future = datetime.max.replace(tzinfo=UTC)
    ordered = sorted(
        # as for fetched items (make_item): no terminal escape sequences in what is stored
        (replace(it, title=strip_controls(it.title), text=strip_controls(it.text)) for it in items),
        key=lambda it: it.published or far_future,
    )
    names = list(dict.fromkeys((it.source or "ingest")[:200] for it in ordered))
    with transaction(app.sessions) as session:
        # one lookup for every source of the replay (a call per name was 2.4 s of 500)
        sources = sync_sources(session, [(n, INGEST_KIND, f"ingest:{n}") for n in names])
        pairs = [(sources[(it.source or "ingest")[:200]], it) for it in ordered]
        return insert_source_items(session, pairs)
