"""The tasks: what the daemon's jobs, the CLI, (and the web desk and workers) run.

Each task is a plain function of the :class:`~monitor.app.App` and JSON-able arguments
(names, flags, file paths), so any trigger can call it: `monitor once`, `ingest` and
`notify`; the daemon's APScheduler jobs; later a web action or a Procrastinate worker (as
Miniflux's ``RefreshFeed`` serves its worker, CLI, API and UI alike). A task is safe to run
beside another copy of itself because of the database (unique keys, row claims), never
because of an in-process lock.

    refresh_sources(app, names, force_all)   the due sources (or those named), concurrently
    process_pending(app)                     stored items -> facts -> changes -> outbox rows
    check_health(app)                        "source down" / "recovered" alerts into the outbox
    send_digests(app)                        due digest routes -> one digest row per channel
    deliver_due(app)                         the above two, then send the due outbox rows
    deliver_channel(app, channel)            send one channel's due outbox rows (workers)
    ingest(app, paths)                       replay JSONL items through the same path

A scheduler's poll of one source (the daemon's job, a worker's job) is
``monitor.poll.poll_scheduled``, on the caller's long-lived writer.

Every time-dependent task takes ``now`` (naive or aware UTC) so tests drive the clock;
None means the current time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from monitor.conftypes import format_interval
from monitor.cpupool import MIN_ITEMS
from monitor.errors import ConfigError
from monitor.notify import routes
from monitor.notify.digest import queue_due_digests
from monitor.poll import SourceOutcome, run_pass
from monitor.processing import ProcessReport, process_pending
from monitor.quiet import QuietSource, quiet_among
from monitor.sources.base import quiet_after
from monitor.sources.text import strip_controls
from monitor.store import health, locks, outbox
from monitor.store.db import to_naive_utc, transaction, utcnow
from monitor.store.items import (
    insert_source_items,
)
from monitor.store.models import SourceRow
from monitor.store.sources import sync_sources
from monitor.store.state import get_state, set_state
from monitor.types import Item

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.dbhealth import Outage
    from monitor.notify.sender import SendReport

log = logging.getLogger(__name__)

INGEST_KIND = "ingest"  # the kind of the source rows `monitor ingest` creates


def _now(now: datetime | None) -> datetime:
    return to_naive_utc(now) or utcnow()


# --- fetching ---------------------------------------------------------------------------------


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
    new = store_replayed(app, items)
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


def store_replayed(app: App, items: list[Item]) -> int:
    """Store replayed items oldest first, deduplicated like fetched items, without
    extracting (the first half of ``ingest``; tests process them apart); the count new."""
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
