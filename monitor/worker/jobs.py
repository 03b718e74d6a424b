"""What each worker job does, over one process's :class:`~monitor.app.App`.

These call what `monitor run` and `monitor once` call (monitor.poll.poll_source, which a
pass runs for each source; monitor.tasks: processing pending items, delivering a channel,
source health, digests); the Procrastinate tasks in monitor.worker.queue only decide when.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from monitor import tasks
from monitor.logs import log_outcome
from monitor.poll import NOT_DUE, poll_scheduled
from monitor.store.db import transaction, utcnow
from monitor.store.items import pending_item_ids
from monitor.store.outbox import due_deliveries
from monitor.store.sources import due_source_names, source_rows, sync_sources
from monitor.store.writer import BatchWriter

if TYPE_CHECKING:
    from monitor.app import App
    from monitor.sources.base import SourceConfig

log = logging.getLogger("monitor.worker")

DUE_TOLERANCE = timedelta(seconds=1)


@dataclass
class Plan:
    """What a scheduler tick defers: due sources, whether items wait, channels with due
    outbox rows."""

    due_sources: list[str] = field(default_factory=list)
    pending_items: bool = False
    due_channels: list[str] = field(default_factory=list)


class WorkerJobs:
    """The jobs of one worker process (its threads share it: the App is thread-safe)."""

    def __init__(self, app: App, *, stalled_after: float = 30.0) -> None:
        self.app = app
        self.stalled_after = stalled_after
        self._synced = False  # the sources' rows follow the configuration (first plan)
        self._by_name: tuple[object, dict[str, SourceConfig]] | None = None
        self._batch_writer: BatchWriter | None = None
        self._writer_lock = threading.Lock()

    def poll(self, name: str) -> bool:
        """Fetch one source if it is due (a job queued while the same source's previous
        job ran finds it fetched already); store its new items. True when there are some."""
        source = self._enabled().get(name)
        if source is None:
            log.info("poll source=%s skipped=not-configured", name)
            return False
        app = self.app
        outcome = poll_scheduled(
            app.config, app.sessions, app.fetcher, self._writer(), source, due_within=DUE_TOLERANCE
        )
        if outcome.status == "skipped" and outcome.error == NOT_DUE:
            return False  # polled meanwhile by the job queued before this one
        log_outcome(outcome)
        return outcome.new_items > 0

    def _writer(self) -> BatchWriter:
        with self._writer_lock:
            if self._batch_writer is None:
                self._batch_writer = BatchWriter(self.app.sessions, prepare=source_rows)
            return self._batch_writer

    def close(self) -> None:
        """Stop the writer thread (after the last job: the worker has stopped)."""
        with self._writer_lock:
            writer, self._batch_writer = self._batch_writer, None
        if writer is not None:
            writer.close()

    def _enabled(self) -> dict[str, SourceConfig]:
        """The enabled sources by name (a job names one of 10,000: no scan per job)."""
        sources = self.app.config.sources
        if self._by_name is None or self._by_name[0] is not sources:
            self._by_name = (sources, {s.name: s for s in sources if s.enabled})
        return self._by_name[1]

    def process(self) -> list[str]:
        """Process pending items; the channels that now have due outbox rows."""
        report = tasks.process_pending(self.app)
        if report.items:
            log.info("process items=%d new=%d live=%d", report.items, report.new, report.live)
        return self.plan(sources=False).due_channels if report.deliveries else []

    def deliver(self, channel: str) -> int:
        """Send one channel's due rows, in order; the number sent."""
        report = tasks.deliver_channel(self.app, channel)
        if report.sent:
            log.info("deliver channel=%s sent=%d", channel, report.sent)
        return report.sent

    def health(self) -> int:
        return tasks.check_health(self.app)

    def digests(self) -> int:
        return tasks.send_digests(self.app)

    def plan(self, *, sources: bool = True) -> Plan:
        """What is due now."""
        now = utcnow()
        plan = Plan()
        with transaction(self.app.sessions) as session:
            if sources:
                enabled = self.app.config.enabled_sources
                if not self._synced:
                    # rows for new sources, kinds and URLs as configured: once per process
                    # (its configuration does not change), not on every tick
                    sync_sources(session, [(s.name, s.kind, str(s.url)) for s in enabled])
                    self._synced = True
                due = due_source_names(session, now, DUE_TOLERANCE)
                plan.due_sources = [s.name for s in enabled if s.name in due]
            plan.pending_items = bool(pending_item_ids(session, 1))
            plan.due_channels = sorted({ch for _id, ch in due_deliveries(session, now)})
        return plan
