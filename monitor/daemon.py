"""The daemon: APScheduler wiring, signals, the database-outage watch.

Each enabled source is its own interval job (its ``every``, with jitter), run on a thread
pool sized by ``defaults.concurrency``; ``max_instances=1`` and ``coalesce=True`` so a slow
source never piles up runs. A job polls its source with ``monitor.poll.poll_scheduled``
(what a pass does for one source) and stores through the daemon's one ``BatchWriter``,
so the sources polled at the same moment commit together. A failing source's job keeps
firing but skips until the back-off in ``next_due_at`` has passed (and always while a
Retry-After is pending). Another job calls ``monitor.tasks.deliver_due`` every 15 s.
Items left unprocessed by a crash are processed at start-up.

SIGTERM/SIGINT: no new job starts; work in flight gets ``grace`` seconds to finish, then
the remaining requests are cut (their sources are simply polled again next time: each
source's items and validators are committed together or not at all) and the process
exits 0.

The single-daemon lock is :mod:`monitor.daemonlock`; the log lines' format is
:mod:`monitor.logs`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.exc import DBAPIError

from monitor import tasks
from monitor.daemonlock import DaemonAlreadyRunning, DaemonLock
from monitor.dbhealth import DatabaseWatch, Outage
from monitor.errors import StoreError
from monitor.fetch import safe_url
from monitor.logs import LogfmtFormatter, log_outcome, setup_logging
from monitor.poll import database_reason, poll_scheduled
from monitor.store.db import transaction, utcnow
from monitor.store.sources import next_due_by_name, source_rows
from monitor.store.writer import BatchWriter

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from monitor.app import App

log = logging.getLogger("monitor.daemon")
T = TypeVar("T")

DELIVER_EVERY = 15.0  # seconds between outbox runs
HEARTBEAT_EVERY = 30.0  # seconds between heartbeats (a write: it also proves the database)
PRUNE_FIRST_AFTER = 300.0  # seconds after start-up before the first retention pass
POOL_IDLE_AFTER = 300.0  # extraction workers unused this long are stopped (~100 MB each)
PROBE_EVERY = 5.0  # seconds between attempts to write while the database is unavailable


__all__ = ["Daemon", "LogfmtFormatter", "setup_logging"]


class Daemon:
    """Schedules every source and the outbox; ``serve()`` blocks until a signal."""

    def __init__(self, app: App, *, grace: float = 5.0):
        self.app = app
        self.config = app.config
        self.sessions = app.sessions
        self.fetcher = app.fetcher
        self.grace = grace
        self.lock = DaemonLock(app.engine, app.sessions)
        self.stopping = threading.Event()
        self._process_lock = threading.Lock()
        self._process_again = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self.database = DatabaseWatch()
        self.skipped_polls = 0  # polls APScheduler skipped since the last minute's line
        self._state_lock = threading.Lock()  # guards the two below
        self._outage_alerts: list[Outage] = []  # ended outages to alert on once writable
        self._database_failed_sources: set[str] = set()  # to poll again at recovery
        self._last_beat = 0.0  # time.monotonic() of the last successful heartbeat
        self.lost_lock = False  # set when another daemon may hold the database now
        self._sources = {s.name: s for s in self.config.enabled_sources}
        # The polls' one writer (made by start()): the sources polled at the same moment
        # commit together, and a poll starts no thread of its own (a one-source pass
        # started two: 4,000 threads a minute with 2,000 sources polled every minute)
        self._writer: BatchWriter | None = None

    # the database's health ---------------------------------------------------------------------
    def database_failed(self, error: str) -> None:
        """A write was refused: one outage, logged when it begins and once a minute."""
        now = utcnow()
        if self.database.failed(error, now):
            outage = self.database.outage
            since = outage.since if outage else now
            log.error(
                "database unavailable since=%s error=%s (retrying every %.0fs; polls go on)",
                since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                json.dumps(error, ensure_ascii=False),
                PROBE_EVERY,
            )
            self.lock.publish(self.database.outage)

    def database_ok(self) -> None:
        """A write went through: end the outage, if any; poll again at once the sources
        whose pass it failed, process what waits, and alert on a long outage."""
        ended = self.database.succeeded(utcnow())
        if ended is None:
            return
        lasted = ended.lasted(utcnow())
        log.info("database available again after=%ds", int(lasted.total_seconds()))
        self.lock.publish(None)
        with self._state_lock:
            retry = sorted(self._database_failed_sources)
            self._database_failed_sources.clear()
            if lasted >= self.config.alerts.database_down_after:
                self._outage_alerts.append(ended)
        scheduler = self.scheduler
        if scheduler is not None and not self.stopping.is_set():
            now = datetime.now(UTC)
            for name in retry:
                with contextlib.suppress(Exception):  # the job may be gone (shutting down)
                    scheduler.modify_job(f"poll:{name}", next_run_time=now)
        self.process_pending()

    # jobs ------------------------------------------------------------------------------------
    def poll_job(self, name: str) -> None:
        if self.stopping.is_set():
            return
        source, writer = self._sources.get(name), self._writer
        if source is None or writer is None:  # pragma: no cover - jobs come after start()
            return
        try:
            outcome = poll_scheduled(self.config, self.sessions, self.fetcher, writer, source)
        except Exception:
            log.exception("poll job failed source=%s", name)
            return
        log_outcome(outcome)  # a database failure too: one line for this source
        if outcome.database_error:
            with self._state_lock:
                self._database_failed_sources.add(name)
            self.database_failed(outcome.error or "database unavailable")
            return
        if outcome.status != "skipped":  # its pass wrote to the database
            self.database_ok()
        if outcome.new_items:
            self.process_pending()

    def process_pending(self) -> None:
        """Run the pipeline over stored-but-unprocessed items, one runner at a time: a job
        arriving while it runs asks for one more round instead of running alongside."""
        self._process_again.set()
        while self._process_again.is_set():
            if not self._process_lock.acquire(blocking=False):
                return  # the runner will see the flag and go round again
            try:
                self._process_again.clear()
                count = tasks.process_pending(self.app).items
                if count:
                    log.info("process items=%d", count)
            except DBAPIError as exc:  # the items wait; recovery runs this again
                self.database_failed(database_reason(exc))
                return
            except Exception:
                log.exception("process_pending failed")
                return
            finally:
                self._process_lock.release()

    def _guarded(self, what: str, job: Callable[[], T]) -> T | None:
        """A service job's result; None when it failed: a database failure is reported to
        the outage watch, anything else logged, and the scheduler keeps running."""
        try:
            return job()
        except DBAPIError as exc:
            self.database_failed(database_reason(exc))
        except Exception:
            log.exception("%s failed", what)
        return None

    def deliver_job(self) -> None:
        def deliver() -> int:
            self._queue_outage_alerts()
            # A stalled channel must not hold back the next pass (and the others).
            return tasks.deliver_due(self.app, wait=DELIVER_EVERY).sent

        sent = self._guarded("deliver_due", deliver)
        if sent:
            log.info("deliver sent=%d", sent)

    def _queue_outage_alerts(self) -> None:
        """The alerts on outages that have ended, written now that the database takes them
        (kept for the next round when it does not)."""
        with self._state_lock:
            waiting = list(self._outage_alerts)
        for outage in waiting:
            tasks.queue_database_alert(self.app, outage)
            with self._state_lock:
                self._outage_alerts.remove(outage)

    def prune_job(self) -> None:
        """``retention:``: fact-less items lose their text, then their rows (keys kept)."""
        report = self._guarded("prune", lambda: tasks.prune(self.app))
        if report is not None and (report.texts or report.deleted or report.keys):
            log.info(
                "prune texts=%d deleted=%d keys=%d bytes_before=%s bytes_after=%s",
                report.texts,
                report.deleted,
                report.keys,
                report.bytes_before,
                report.bytes_after,
            )

    def idle_job(self) -> None:
        """Stop the extraction workers once the burst that started them (the first pass,
        a news day) is over: each holds a built extractor for nothing."""
        self.report_skipped_polls()
        try:
            if self.app.stop_idle_extraction(POOL_IDLE_AFTER):
                log.info("extraction workers stopped idle=%.0fs", POOL_IDLE_AFTER)
        except Exception:
            log.exception("stopping the idle extraction workers failed")

    def poll_skipped(self, event: object) -> None:
        """APScheduler skipped a poll: the source's previous poll was still running at its
        next due time. Counted here and said once a minute (``report_skipped_polls``), not
        once a poll in the library's own format."""
        with self._state_lock:
            self.skipped_polls += 1

    def report_skipped_polls(self) -> None:
        with self._state_lock:
            skipped, self.skipped_polls = self.skipped_polls, 0
        if skipped:
            log.warning(
                "polls skipped=%d why=%s",
                skipped,
                json.dumps(
                    "still running at their next due time: raise defaults.concurrency"
                    " or a source's every"
                ),
            )

    def heartbeat_job(self) -> None:
        """Every few seconds: a heartbeat write every HEARTBEAT_EVERY, or at every call
        while the database is unavailable (the probe that notices its recovery). First,
        whether the lock still keeps other daemons out: a daemon that lost it stops."""
        if not self.lock.still_held():
            if not self.lost_lock:
                log.error("daemon lock lost (taken over or removed); stopping")
            self.lost_lock = True
            self.stopping.set()
            return
        if self.database.outage is None and time.monotonic() - self._last_beat < HEARTBEAT_EVERY:
            return
        try:
            self.lock.heartbeat()
        except DBAPIError as exc:
            self.database_failed(database_reason(exc))
            return
        except Exception:
            log.exception("heartbeat failed")
            return
        self._last_beat = time.monotonic()
        self.database_ok()

    # life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the lock, process leftovers, schedule the jobs (returns immediately)."""
        self.lock.acquire()
        try:
            self._refuse_a_damaged_database()
            self._writer = BatchWriter(self.sessions, prepare=source_rows)
            self._schedule()
        except BaseException:
            if self._writer is not None:
                self._writer.close(timeout=self.grace)
                self._writer = None
            self.lock.release()
            raise

    def _refuse_a_damaged_database(self) -> None:
        """A damaged file (PRAGMA quick_check on SQLite) is one clear line, not a daemon
        that fails at random later and writes more into the damage."""
        from monitor.store.integrity import integrity_problems

        problems = integrity_problems(self.app.engine)
        if problems:
            raise StoreError(
                f"the database is damaged ({problems[0]}); the daemon will not start on it: "
                "run `monitor doctor` and restore a backup"
            )

    def _schedule(self) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        sources = self.config.enabled_sources
        log.info(
            "daemon start pid=%d sources=%d db=%s",
            os.getpid(),
            len(sources),
            safe_url(self.app.engine.url.render_as_string(hide_password=True)),
        )
        self.process_pending()  # a crash may have left stored items unprocessed

        workers = self.config.defaults.concurrency  # validated >= 1
        scheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(workers),
                "service": ThreadPoolExecutor(2),
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        scheduler.add_listener(self.poll_skipped, EVENT_JOB_MAX_INSTANCES)
        next_due = self._next_due_by_name()
        now = datetime.now(UTC)
        for source in sources:
            settings = source.effective(self.config.defaults)
            every = settings.every.total_seconds()
            first = next_due.get(source.name)
            first_run = max(now, first.replace(tzinfo=UTC)) if first else now
            scheduler.add_job(
                self.poll_job,
                IntervalTrigger(seconds=every, jitter=every * settings.jitter, timezone=UTC),
                args=[source.name],
                id=f"poll:{source.name}",
                name=f"poll {source.name}",
                next_run_time=first_run,
            )
        scheduler.add_job(
            self.deliver_job,
            IntervalTrigger(seconds=DELIVER_EVERY, timezone=UTC),
            id="deliver",
            executor="service",
            next_run_time=now + timedelta(seconds=1),
        )
        prune_every = max(self.config.retention.every.total_seconds(), 60.0)
        scheduler.add_job(
            self.prune_job,
            IntervalTrigger(seconds=prune_every, timezone=UTC),
            id="prune",
            executor="service",
            next_run_time=now + timedelta(seconds=min(prune_every, PRUNE_FIRST_AFTER)),
        )
        scheduler.add_job(
            self.idle_job,
            IntervalTrigger(seconds=60, timezone=UTC),
            id="idle",
            executor="service",
        )
        scheduler.add_job(
            self.heartbeat_job,
            IntervalTrigger(seconds=PROBE_EVERY, timezone=UTC),
            id="heartbeat",
            executor="service",
            next_run_time=now,
        )
        scheduler.start()
        self.scheduler = scheduler

    def _next_due_by_name(self) -> dict[str, datetime]:
        with transaction(self.sessions) as session:
            return next_due_by_name(session)

    def stop(self) -> None:
        """Start no new work; give work in flight ``grace`` seconds, then cut it."""
        self.stopping.set()
        scheduler = self.scheduler
        if scheduler is not None:
            scheduler.pause()  # no new job from here on
            waiter = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True})
            waiter.start()
            waiter.join(self.grace)
            if waiter.is_alive():
                log.info("daemon stop cutting in-flight requests after=%.0fs", self.grace)
                self.fetcher.close()
                waiter.join(max(self.grace, 5.0))
            if waiter.is_alive():
                log.warning("daemon stop some jobs did not finish; exiting anyway")
        self.fetcher.close()
        if self._writer is not None:
            self._writer.close(timeout=self.grace)
        self.lock.release()
        log.info("daemon stopped")

    def serve(self) -> None:
        """Start, then block until SIGTERM/SIGINT; returns after a clean stop."""

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            if not self.stopping.is_set():
                log.info("daemon signal=%s stopping", signal.Signals(signum).name)
            self.stopping.set()

        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()  # DaemonAlreadyRunning leaves nothing to stop
            try:
                while not self.stopping.wait(1.0):
                    pass
            finally:
                self.stop()
            if self.lost_lock:
                where = self.lock.lock_path or "the database's lock row"
                raise DaemonAlreadyRunning(
                    f"the daemon lock ({where}) was taken over or removed while this daemon "
                    "ran; it stopped so that only one daemon works on the database"
                )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
