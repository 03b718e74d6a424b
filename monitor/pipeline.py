"""What happens to stored items after a pass, and to the outbox.

The daemon and `monitor once` call these; `monitor ingest` calls them too, so replayed
items take exactly the path fetched ones do:

    process_pending: unprocessed items, in published order, one transaction per item:
        extract -> diff (monitor.changes) -> facts, observations, changes, outbox rows,
        items.processed_at
    deliver_due: stale in-flight rows back to pending, source down/up alerts, due
        digests, then send due outbox rows (monitor.notify.sender)

Every time-dependent step takes ``now`` (naive or aware UTC) so tests drive the clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.changes import decide
from monitor.errors import ConfigError
from monitor.notify import routes
from monitor.notify.channels import Channel, alerts_of, load_channels
from monitor.notify.config import AlertsConfig
from monitor.notify.digest import queue_due_digests
from monitor.notify.render import Renderer
from monitor.notify.sender import SendReport, send_due
from monitor.sources.text import strip_controls
from monitor.store import health, outbox
from monitor.store.db import to_naive_utc, transaction, utcnow
from monitor.store.facts import known_facts, record_item
from monitor.store.items import (
    get_or_create_source,
    pending_item_ids,
    store_items,
    unprocessed_item,
)
from monitor.store.models import ChangeRow, ItemRow
from monitor.types import Fact, Item

if TYPE_CHECKING:
    from monitor.config import Config

log = logging.getLogger(__name__)


class FactExtractor(Protocol):
    def extract(self, item: Item) -> list[Fact]: ...


@dataclass
class Runtime:
    """What the pipeline builds once per config: extractor, channels, renderer."""

    alerts: AlertsConfig
    watchlist: Any
    channels: list[Channel]
    renderer: Renderer
    extractor: FactExtractor | None = None


_RUNTIMES: dict[int, tuple[Any, Runtime]] = {}


def runtime(config: Config) -> Runtime:
    """Built once per config object (channels parsed, templates loaded)."""
    cached = _RUNTIMES.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    alerts = alerts_of(config)  # relative paths resolved against sources.yaml's folder
    rt = Runtime(
        alerts=alerts,
        watchlist=getattr(config, "watchlist", None),
        channels=load_channels(alerts),
        renderer=Renderer(alerts.templates_path),
    )
    if len(_RUNTIMES) > 8:
        _RUNTIMES.clear()
    _RUNTIMES[id(config)] = (config, rt)  # holding config keeps its id from being reused
    return rt


def _now(now: datetime | None) -> datetime:
    return to_naive_utc(now) or utcnow()


def _extractor(rt: Runtime) -> FactExtractor:
    if rt.extractor is None:
        from monitor.extract import Extractor

        rt.extractor = Extractor(rt.watchlist)
    return rt.extractor


def item_of(row: ItemRow) -> Item:
    published = row.published_at.replace(tzinfo=UTC) if row.published_at else None
    return Item(
        title=row.title or "",
        text=row.text or "",
        url=row.url,
        guid=row.guid_key,
        published=published,
        lang=row.lang,
        source=row.source.name if row.source else None,
        extra=dict(row.extra or {}),
    )


@dataclass
class ProcessReport:
    items: int = 0
    new: int = 0
    live: int = 0
    deliveries: int = 0
    errors: int = 0


def process_items(
    sessions: sessionmaker[Session],
    config: Config,
    *,
    now: datetime | None = None,
    extractor: FactExtractor | None = None,
    limit: int | None = None,
    queue_alerts: bool = True,
) -> ProcessReport:
    """process_pending with the counts (items, changes new/live, outbox rows).

    ``queue_alerts=False`` records the change log without outbox rows (a quiet back-fill).
    """
    rt = runtime(config)
    extractor = extractor or _extractor(rt)
    report = ProcessReport()
    with transaction(sessions) as session:
        pending = pending_item_ids(session, limit)
    for item_id in pending:
        try:
            one = _process_one(sessions, rt, extractor, item_id, _now(now), queue_alerts)
        except IntegrityError:
            # Another process (e.g. `monitor ingest` beside the daemon) recorded this item
            # first; the unique keys refused the copy and the transaction rolled back.
            log.info("item %s: already processed elsewhere", item_id)
            continue
        report.items += one.items
        report.new += one.new
        report.live += one.live
        report.deliveries += one.deliveries
        report.errors += one.errors
    return report


def _process_one(
    sessions: sessionmaker[Session],
    rt: Runtime,
    extractor: FactExtractor,
    item_id: int,
    moment: datetime,
    queue_alerts: bool = True,
) -> ProcessReport:
    """One item in one transaction: extract, diff, facts, observations, changes, outbox."""
    report = ProcessReport()
    with transaction(sessions) as session:
        row = unprocessed_item(session, item_id)
        if row is None:
            return report  # another process got there first
        try:
            facts = extractor.extract(item_of(row))
        except Exception as exc:  # one unreadable item must not stall the pipeline
            log.error("item %s: extraction failed: %s: %s", item_id, type(exc).__name__, exc)
            facts = []
            report.errors += 1
        decisions = decide(facts, known_facts(session, [f.key for f in facts]))
        for change in record_item(session, row, decisions, moment):
            if queue_alerts:
                report.deliveries += _queue_change(session, rt, change, moment)
            log.info(
                "change %s %s/%s/%s item=%s",
                change.change,
                change.entity,
                change.kind,
                change.value,
                item_id,
            )
            if change.change == "new":
                report.new += 1
            else:
                report.live += 1
        report.items = 1
    return report


def _queue_change(session: Session, rt: Runtime, change: ChangeRow, now: datetime) -> int:
    targets = routes.plan(rt.alerts, rt.channels, change.entity, change.kind, change.change)
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


def process_pending(
    sessions: sessionmaker[Session],
    config: Config,
    *,
    now: datetime | None = None,
    extractor: FactExtractor | None = None,
) -> int:
    """Extract, diff and record changes (with their outbox rows) for unprocessed items,
    in published order, one transaction per item. Returns the number of items processed."""
    return process_items(sessions, config, now=now, extractor=extractor).items


def queue_source_health(session: Session, rt: Runtime, now: datetime) -> int:
    """A 'down' alert once a source has failed for ``source_down_after``; 'up' on recovery."""
    made = 0
    targets = routes.health_channels(rt.alerts, rt.channels)
    events = [
        (s, "down") for s in health.sources_newly_down(session, now, rt.alerts.source_down_after)
    ]
    events += [(s, "up") for s in health.sources_recovered(session)]
    for source, state in events:
        payload = {
            "source": source.name,
            "state": state,
            "since": source.failing_since.isoformat(timespec="minutes")
            if source.failing_since
            else None,
            "error": (source.last_error or "")[:500] or None,
            "failures": source.consecutive_failures or 0,
        }
        for channel in targets:
            outbox.add_delivery(
                session, kind="source", route="health", channel=channel.id, now=now, payload=payload
            )
            made += 1
        health.mark_down_alerted(session, source.id, state == "down")
    return made


def deliver(
    sessions: sessionmaker[Session],
    config: Config,
    *,
    now: datetime | None = None,
    wait: float | None = None,
) -> SendReport:
    """deliver_due with the full report (sent, retrying, failed). ``wait``: see send_due."""
    rt = runtime(config)
    moment = _now(now)
    with transaction(sessions) as session:
        outbox.reclaim_in_flight(session, moment)
        queue_source_health(session, rt, moment)
        queue_due_digests(session, rt.alerts, moment)
    return send_due(sessions, rt.alerts, rt.channels, rt.renderer, rt.watchlist, moment, wait=wait)


def deliver_due(
    sessions: sessionmaker[Session],
    config: Config,
    *,
    now: datetime | None = None,
    wait: float | None = None,
) -> int:
    """Queue source-health alerts and due digests, then send due outbox rows.
    Returns the number of messages sent (by the channels done within ``wait`` seconds)."""
    return deliver(sessions, config, now=now, wait=wait).sent


def read_jsonl_items(path: Path) -> list[Item]:
    """Items of a FACTS.md-format JSONL file (bad lines reported on stderr and skipped)."""
    from monitor.extract.corpus import read_items_jsonl

    try:
        return [item for item, _gold, _story in read_items_jsonl(path)]
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason})"]) from None


INGEST_KIND = "ingest"


def ingest_items(sessions: sessionmaker[Session], items: list[Item]) -> tuple[int, int]:
    """Store replayed items (one `ingest` source per distinct item source name), oldest
    first, deduplicated like fetched items. Returns (new, duplicate)."""
    far_future = datetime.max.replace(tzinfo=UTC)
    ordered = sorted(
        # as for fetched items (make_item): no terminal escape sequences in what is stored
        (replace(it, title=strip_controls(it.title), text=strip_controls(it.text)) for it in items),
        key=lambda it: it.published or far_future,
    )
    new = 0
    with transaction(sessions) as session:
        sources: dict[str, Any] = {}
        for it in ordered:
            name = (it.source or "ingest")[:200]
            if name not in sources:
                sources[name] = get_or_create_source(session, name, INGEST_KIND, f"ingest:{name}")
            new += len(store_items(session, sources[name], [it]))
    return new, len(items) - new
