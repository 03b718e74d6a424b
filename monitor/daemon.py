"""The daemon: APScheduler wiring, signals, the single-daemon lock, structured logging.

Each enabled source is its own interval job (its ``every``, with jitter), run on a thread
pool sized by ``defaults.concurrency``; ``max_instances=1`` and ``coalesce=True`` so a slow
source never piles up runs. A failing source's job keeps firing but skips until the
back-off in ``next_due_at`` has passed (and always while a Retry-After is pending). Another
job calls ``monitor.tasks.deliver_due`` every 15 s. Items left unprocessed by a crash
are processed at start-up.

SIGTERM/SIGINT: no new job starts; work in flight gets ``grace`` seconds to finish, then
the remaining requests are cut (their sources are simply polled again next time: each
source's items and validators are committed together or not at all) and the process
exits 0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from monitor import tasks
from monitor.errors import MonitorError, StoreError
from monitor.fetch import safe_url
from monitor.poll import SourceOutcome
from monitor.store.db import transaction, utcnow
from monitor.store.locks import HeldLock, is_server
from monitor.store.sources import next_due_by_name
from monitor.store.state import drop_lock, lock_holder, take_lock, touch_lock

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from monitor.app import App

log = logging.getLogger("monitor.daemon")

DELIVER_EVERY = 15.0  # seconds between outbox runs
HEARTBEAT_EVERY = 30.0  # seconds, for the database-row lock
STALE_AFTER = 120.0  # a database-row lock without a heartbeat for this long is abandoned
LOCK_KEY = "daemon.lock"


class DaemonAlreadyRunning(MonitorError):
    """Another `monitor run` holds this database."""


# --- logging -----------------------------------------------------------------------------


class LogfmtFormatter(logging.Formatter):
    """``2026-11-28T16:00:00Z INFO fetch source=x status=fetched new=3 ms=120``."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        message = record.getMessage().replace("\n", " | ")
        line = f"{stamp} {record.levelname} {message}"
        if record.exc_info and record.levelno >= logging.ERROR:
            # One line per event: the exception's type and message, not a traceback. Only
            # the message's first line (SQLAlchemy appends the SQL and its parameters).
            exc = record.exc_info[1]
            line += f" exc={type(exc).__name__}"
            first = str(exc).strip().split("\n", 1)[0][:300] if exc is not None else ""
            if first:
                line += f" error={json.dumps(first, ensure_ascii=False)}"
        return line


def setup_logging(level: int = logging.INFO, stream: IO[str] | None = None) -> None:
    """One logfmt line per event on stderr for the ``monitor`` loggers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger("monitor")
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False
    # APScheduler's own chatter ("Running job ...") is noise at INFO.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def log_outcome(outcome: SourceOutcome) -> None:
    ms = int(outcome.elapsed * 1000)
    if outcome.status == "failed":
        log.warning(
            "fetch source=%s status=failed ms=%d error=%s",
            outcome.name,
            ms,
            json.dumps(outcome.error or ""),
        )
    elif outcome.status == "skipped":
        log.debug("fetch source=%s status=skipped why=%s", outcome.name, json.dumps(outcome.error))
    else:
        log.info(
            "fetch source=%s status=%s new=%d ms=%d",
            outcome.name,
            outcome.status,
            outcome.new_items,
            ms,
        )


# --- the single-daemon lock ------------------------------------------------------------------


class DaemonLock:
    """Only one daemon per database.

    SQLite: an OS lock (``fcntl.flock``) on ``<database>.lock`` next to the file, holding the
    pid; the OS drops it when the process dies, so a crash never leaves a stale lock.
    Other databases: a row in the ``state`` table with pid, host and a heartbeat; a row
    whose heartbeat is older than 2 minutes is taken over.
    """

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]):
        self.engine = engine
        self.sessions = sessions
        self._file: IO[str] | None = None
        self._row_held = False
        self._held: HeldLock | None = None
        self.lock_path: Path | None = None
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            self.lock_path = (
                Path(url.database)
                .expanduser()
                .resolve()
                .with_name(Path(url.database).name + ".lock")
            )

    def acquire(self) -> None:
        if self.lock_path is not None:
            self._acquire_file(self.lock_path)
        else:
            self._acquire_row()

    def _acquire_file(self, path: Path) -> None:
        import fcntl

        try:
            # 0600 like the database: it names the daemon's pid, nothing for other users
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            handle = open(descriptor, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        except OSError as exc:  # a read-only folder, a directory in the way ...
            raise StoreError(f"cannot open the daemon lock file {path}: {exc.strerror}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DaemonAlreadyRunning(
                f"another monitor daemon (pid {holder}) is already running on this database "
                f"(lock file {path})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def _identity(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "host": socket.gethostname()}

    def _acquire_row(self) -> None:
        stale_after = timedelta(seconds=STALE_AFTER)
        if is_server(self.engine):
            # PostgreSQL: the advisory lock is the lock; the row only says who holds it.
            # A dead holder's connection is gone, so is its lock: take the row over at once.
            held = HeldLock(self.engine, LOCK_KEY)
            if not held.try_acquire():
                with transaction(self.sessions) as session:
                    holder = lock_holder(session, LOCK_KEY)
                raise DaemonAlreadyRunning(
                    f"another monitor daemon (pid {holder.get('pid')} on "
                    f"{holder.get('host')}) is already running on this database"
                )
            self._held = held
            stale_after = timedelta(0)
        with transaction(self.sessions) as session:
            taken = take_lock(session, LOCK_KEY, self._identity(), utcnow(), stale_after)
        if taken is not None:
            holder, heartbeat = taken
            raise DaemonAlreadyRunning(
                f"another monitor daemon (pid {holder.get('pid')} on "
                f"{holder.get('host')}) is already running on this database "
                f"(heartbeat {heartbeat:%H:%M:%S} UTC)"
            )
        self._row_held = True

    def heartbeat(self) -> None:
        if not self._row_held:
            return
        with transaction(self.sessions) as session:
            touch_lock(session, LOCK_KEY, utcnow())

    def release(self) -> None:
        if self._file is not None:
            import fcntl

            with contextlib.suppress(OSError):
                self._file.seek(0)
                self._file.truncate()
                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._row_held:
            with contextlib.suppress(Exception), transaction(self.sessions) as session:
                drop_lock(session, LOCK_KEY, {"pid": os.getpid()})
            self._row_held = False
        if self._held is not None:
            self._held.release()
            self._held = None


# --- the daemon ------------------------------------------------------------------------------


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

    # jobs ------------------------------------------------------------------------------------
    def poll_job(self, name: str) -> None:
        if self.stopping.is_set():
            return
        try:
            outcome = tasks.refresh_source(self.app, name)
        except Exception:
            log.exception("poll job failed source=%s", name)
            return
        log_outcome(outcome)
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
            except Exception:
                log.exception("process_pending failed")
                return
            finally:
                self._process_lock.release()

    def deliver_job(self) -> None:
        try:
            # A stalled channel must not hold back the next pass (and the others).
            sent = tasks.deliver_due(self.app, wait=DELIVER_EVERY).sent
        except Exception:
            log.exception("deliver_due failed")
            return
        if sent:
            log.info("deliver sent=%d", sent)

    def heartbeat_job(self) -> None:
        try:
            self.lock.heartbeat()
        except Exception:
            log.exception("heartbeat failed")

    # life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the lock, process leftovers, schedule the jobs (returns immediately)."""
        self.lock.acquire()
        try:
            self._schedule()
        except BaseException:
            self.lock.release()
            raise

    def _schedule(self) -> None:
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
        if self.lock.lock_path is None:
            scheduler.add_job(
                self.heartbeat_job,
                IntervalTrigger(seconds=HEARTBEAT_EVERY, timezone=UTC),
                id="heartbeat",
                executor="service",
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
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
