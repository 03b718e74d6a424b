"""One polling pass: which sources are due, fetch them concurrently, parse, store.

``run_pass`` is a plain function: tests call it directly, ``monitor once`` calls it once and
the daemon calls it per source from its scheduler jobs.

Per source, in a worker thread: fetch (conditional GET) -> parse with the source's kind ->
for ``html`` sources with ``follow: true``, fetch the pages of items not stored yet and
enrich them -> ONE transaction storing the new items together with the source's validators
and health. A failure (network, HTTP status, parse, or a bug in a parser) is recorded on
that source only; the other workers never wait for it.

When a source is due, and why a pass skips it, is :mod:`monitor.due`; following html items
to their article pages is :mod:`monitor.follow`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from monitor.due import is_due, next_due_after_success, skip_reason
from monitor.errors import ConfigError, FetchError, MonitorError, RateLimited
from monitor.fetch import FetchCancelled, Fetcher, FetchResult
from monitor.follow import follow_articles
from monitor.netguard import normal_host
from monitor.safetext import safe_text, safe_url
from monitor.store.db import to_naive_utc, transaction, utcnow
from monitor.store.items import insert_source_items
from monitor.store.models import SourceRow
from monitor.store.sources import (
    SourceState,
    record_failure,
    record_fetched,
    source_row,
    source_rows,
    sync_sources,
)
from monitor.store.writer import BatchWriter
from monitor.types import Item

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.sources.base import SourceConfig, SourceSettings

log = logging.getLogger("monitor.poll")

Status = Literal["fetched", "not-modified", "failed", "skipped"]
NOT_DUE = "not due"  # poll_scheduled's skip reason when asked to poll only a due source


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    name: str
    status: Status
    new_items: int = 0
    error: str | None = None
    elapsed: float = 0.0  # seconds
    # The pass failed because the database refused (locked, read-only, full, gone), not
    # the source: the daemon counts these as one database outage, not as source failures.
    database_error: bool = False

    def describe(self) -> str:
        """The one-line summary `monitor once` prints (its error made terminal-safe: it
        quotes what a server sent)."""
        error = safe_text(self.error or "")
        if self.status == "fetched":
            plural = "" if self.new_items == 1 else "s"
            return f"{self.name}: fetched, {self.new_items} new item{plural}"
        if self.status == "not-modified":
            return f"{self.name}: not modified"
        if self.status == "failed":
            return f"{self.name}: failed: {error}"
        return f"{self.name}: skipped: {error}"


def run_pass(
    config: Config,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    *,
    only: Sequence[str] | None = None,
    force_all: bool = False,
    now: datetime | None = None,
    scheduled: bool = False,
    on_outcome: Callable[[SourceOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[SourceOutcome]:
    """Poll the due sources (or ``only`` those named, or every enabled one with
    ``force_all``) and return one outcome per source considered, in config order.

    ``only`` and ``force_all`` ignore the schedule but never a server's Retry-After (a
    source still inside it is ``skipped``). ``scheduled`` (the daemon's per-source jobs):
    ``only`` sources are fetched when the scheduler fires unless backing off after failures
    or inside Retry-After. Stored items are left for ``process_pending`` (the caller's
    next step). ``on_start`` is told how many sources will be fetched, and ``on_outcome``
    each fetched source's outcome as it finishes (progress on a terminal).
    """
    now = to_naive_utc(now) if now is not None else utcnow()
    selected = _select(config, only)
    try:
        with transaction(sessions) as session:
            rows = sync_sources(session, [(s.name, s.kind, str(s.url)) for s in selected])
            states = {name: SourceState.of(row) for name, row in rows.items()}
    except DBAPIError as exc:  # every source's pass fails alike: one line each, no traceback
        error = database_reason(exc)
        failed = [
            SourceOutcome(s.name, "failed", error=error, database_error=True) for s in selected
        ]
        if on_start:
            on_start(0)
        for outcome in failed:
            if on_outcome:
                on_outcome(outcome)
        return failed

    work: list[tuple[SourceConfig, SourceState]] = []
    skipped: dict[str, SourceOutcome] = {}
    for source in selected:
        state = states[source.name]
        reason = skip_reason(source, state, now, config, only, force_all, scheduled)
        if reason:
            skipped[source.name] = SourceOutcome(source.name, "skipped", error=reason)
        else:
            work.append((source, state))

    outcomes: dict[str, SourceOutcome] = dict(skipped)
    if on_start:
        on_start(len(work))
    if work:
        workers = min(config.defaults.concurrency, len(work))  # validated >= 1
        with (
            # the batch's source rows in one query, not one per write (source_row)
            BatchWriter(sessions, prepare=source_rows) as writer,
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="poll") as pool,
        ):
            try:
                for outcome in _poll_by_host(
                    pool, work, workers, fetcher.per_host, config, writer, fetcher, now
                ):
                    outcomes[outcome.name] = outcome
                    if on_outcome:
                        on_outcome(outcome)
            except KeyboardInterrupt:  # Ctrl-C in `monitor once`: cut the requests in
                fetcher.close()  # flight, or leaving the pool waits for them (the timeouts)
                raise
            # Nothing else may close the fetcher: it is the daemon's, shared by every later
            # pass (closing it on one failed pass left every poll after it "shutting down").
    return [outcomes[s.name] for s in selected if s.name in outcomes]


def poll_scheduled(
    config: Config,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    writer: BatchWriter,
    source: SourceConfig,
    *,
    now: datetime | None = None,
    due_within: timedelta | None = None,
) -> SourceOutcome:
    """One source polled as a scheduler polls it (the daemon's per-source job, a worker's
    poll job): what ``run_pass(only=[name], scheduled=True)`` does, without a pass around
    one source. No lookup over the whole configuration, no pass threads: the writes go to
    the caller's long-lived ``writer``, which commits them with those of the other polls in
    flight. ``due_within``: skip the source unless it is due by then (a worker's job
    queued while the source's previous poll ran finds it polled already)."""
    now = to_naive_utc(now) if now is not None else utcnow()
    try:
        with transaction(sessions) as session:
            row = sync_sources(session, [(source.name, source.kind, str(source.url))])
            state = SourceState.of(row[source.name])
    except DBAPIError as exc:
        error = database_reason(exc)
        return SourceOutcome(source.name, "failed", error=error, database_error=True)
    if due_within is not None and not is_due(state, now, tolerance=due_within):
        return SourceOutcome(source.name, "skipped", error=NOT_DUE)
    reason = skip_reason(source, state, now, config, [source.name], False, True)
    if reason:
        return SourceOutcome(source.name, "skipped", error=reason)
    return poll_source(source, state, config, writer, fetcher, now)


def _poll_by_host(
    pool: ThreadPoolExecutor,
    work: Sequence[tuple[SourceConfig, SourceState]],
    workers: int,
    per_host: int,
    config: Config,
    writer: BatchWriter,
    fetcher: Fetcher,
    now: datetime,
) -> Iterator[SourceOutcome]:
    """Poll ``work`` on ``pool``, yielding each outcome as its source finishes (a slow
    source holds back nobody's report).

    A source is handed to a worker only when its host has a free slot (``per_host``):
    submitted all at once, the sources of one busy or slow host (eleven Google News
    searches, say) would each take a worker only to wait for that host, while sources on
    idle hosts queued behind them.
    """
    pending = deque(work)
    running: dict[Future[SourceOutcome], str] = {}
    busy: Counter[str] = Counter()
    while pending or running:
        while len(running) < workers:
            ready = next((task for task in pending if busy[_host(task[0])] < per_host), None)
            if ready is None:
                break
            pending.remove(ready)
            source, state = ready
            future = pool.submit(poll_source, source, state, config, writer, fetcher, now)
            running[future] = _host(source)
            busy[running[future]] += 1
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            busy[running.pop(future)] -= 1
            yield future.result()


def _host(source: SourceConfig) -> str:
    return normal_host(urlsplit(str(source.url)).hostname or "")


def database_reason(exc: DBAPIError) -> str:
    """One line for a database refusal: ``database unavailable: database is locked``."""
    reason = str(exc.orig if exc.orig is not None else exc).strip().split("\n", 1)[0]
    return f"database unavailable: {safe_text(reason)[:200]}"


def _select(config: Config, only: Sequence[str] | None) -> list[SourceConfig]:
    if not only:
        return config.enabled_sources
    by_name = {s.name: s for s in config.sources}
    unknown = [name for name in only if name not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise ConfigError([f"unknown source {name!r} (configured: {known})" for name in unknown])
    seen: set[str] = set()
    return [by_name[n] for n in only if not (n in seen or seen.add(n))]  # type: ignore[func-returns-value]


def fetch_source(
    fetcher: Fetcher,
    source: SourceConfig,
    settings: SourceSettings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    deadline_at: float | None = None,
) -> FetchResult:
    """GET a source's URL with its effective settings (timeouts, body cap, headers), by
    ``deadline_at`` (``time.monotonic()``; default: the source's ``deadline`` from now)."""
    if deadline_at is None:
        deadline_at = time.monotonic() + settings.deadline.total_seconds()
    return fetcher.get(
        str(source.url),
        source=source.name,
        origin=str(source.url),
        etag=etag,
        last_modified=last_modified,
        timeouts=(settings.connect_timeout, settings.read_timeout),
        max_body=settings.max_body,
        headers=settings.headers,
        deadline_at=deadline_at,
    )


def poll_source(
    source: SourceConfig,
    state: SourceState,
    config: Config,
    writer: BatchWriter,
    fetcher: Fetcher,
    now: datetime,
) -> SourceOutcome:
    """Fetch, parse and store one source; never raises (the failure is its outcome).

    When the database refuses (locked, read-only, full, unreachable) the outcome is
    ``failed`` with ``database_error``: nothing of this pass was stored, its validators
    included, so the next pass fetches the same items again in full (none lost, none
    doubled)."""
    started = time.monotonic()
    try:
        return _poll_source(source, state, config, writer, fetcher, now, started)
    except DBAPIError as exc:
        # A unique key refusing the same items three times is a race, not an outage.
        outage = not isinstance(exc, IntegrityError)
        error = database_reason(exc) if outage else f"could not store items: {exc.orig}"
        return _done(
            SourceOutcome(source.name, "failed", error=error, database_error=outage), started
        )


def _poll_source(
    source: SourceConfig,
    state: SourceState,
    config: Config,
    writer: BatchWriter,
    fetcher: Fetcher,
    now: datetime,
    started: float,
) -> SourceOutcome:
    settings = source.effective(config.defaults)
    # One deadline for the whole poll: the listing, its retries and every followed page.
    deadline_at = started + settings.deadline.total_seconds()
    try:
        result = fetch_source(
            fetcher,
            source,
            settings,
            etag=state.etag,
            last_modified=state.last_modified,
            deadline_at=deadline_at,
        )
        if result.not_modified:
            next_due = next_due_after_success(source, config, now)
            writer.write(
                lambda session: record_fetched(
                    _row(session, state),
                    now=now,
                    next_due=next_due,
                    status="not-modified",
                    etag=result.etag,
                    last_modified=result.last_modified,
                ),
                key=state.id,
            )
            return _done(SourceOutcome(source.name, "not-modified"), started)
        from monitor.sources.base import parse_body

        items = parse_body(
            source, result.body, url=result.final_url, content_type=result.content_type
        )
        complete = True
        if getattr(source, "follow", False):
            items, complete = follow_articles(
                items, source, settings, writer.sessions, fetcher, deadline_at
            )
        new_count = _store(
            writer,
            state,
            items,
            now=now,
            next_due=next_due_after_success(source, config, now),
            etag=result.etag,
            last_modified=result.last_modified,
            keep_validators=complete,
        )
        return _done(SourceOutcome(source.name, "fetched", new_items=new_count), started)
    except FetchCancelled:
        return _done(SourceOutcome(source.name, "skipped", error="shutting down"), started)
    except MonitorError as exc:
        error = _reason(exc, source)
        retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
    except DBAPIError:
        raise  # the database's failure, not the source's (poll_source says so)
    except Exception as exc:  # a parser bug must not take the pass down with it
        log.exception("unexpected error polling source=%s", source.name)
        error = f"unexpected {type(exc).__name__}: {safe_text(str(exc))[:200]}"
        retry_after = None
    writer.write(
        lambda session: record_failure(
            _row(session, state),
            now=now,
            error=error,
            every=settings.every,
            max_backoff=settings.max_backoff,
            retry_after=retry_after,
        ),
        key=state.id,
    )
    return _done(SourceOutcome(source.name, "failed", error=error), started)


STORE_ATTEMPTS = 3


def _store(
    writer: BatchWriter,
    state: SourceState,
    items: list[Item],
    *,
    now: datetime,
    next_due: datetime,
    etag: str | None,
    last_modified: str | None,
    keep_validators: bool,
) -> int:
    """Store one source's new items and its fetch state together (one savepoint of the
    writer's transaction); returns how many items were new."""

    def store(session: Session) -> int:
        row = _row(session, state)
        # never fetched successfully before: a new source, or a new database
        first_pass = row.last_success_at is None
        new_count = insert_source_items(
            session, [(row, item) for item in items], first_pass=first_pass
        )
        record_fetched(
            row,
            now=now,
            next_due=next_due,
            status="fetched",
            etag=etag,
            last_modified=last_modified,
            # Items left for the next pass: a 304 then would hide them, so forget
            # the validators and refetch the listing in full.
            keep_validators=keep_validators,
        )
        return new_count

    for attempt in range(STORE_ATTEMPTS):
        try:
            return writer.write(store, key=state.id)
        except IntegrityError:
            # Another process stored one of these items between our check and our insert:
            # the savepoint rolled back whole; the next attempt sees it as a duplicate.
            if attempt == STORE_ATTEMPTS - 1:
                raise
    return 0


def _row(session: Session, state: SourceState) -> SourceRow:
    row = source_row(session, state.id)
    if row is None:  # deleted behind our back (another process re-created the DB)
        raise MonitorError(f"source {state.name!r} vanished from the database")
    return row


def _done(outcome: SourceOutcome, started: float) -> SourceOutcome:
    return replace(outcome, elapsed=time.monotonic() - started)


def _reason(exc: MonitorError, source: SourceConfig) -> str:
    """The error without the source name (the outcome line starts with it)."""
    if isinstance(exc, FetchError) or exc.source == source.name:
        return exc.message if not exc.url else f"{exc.message} ({safe_url(exc.url)})"
    return safe_text(str(exc))


def summarize(outcomes: Sequence[SourceOutcome]) -> dict[str, Any]:
    """Counts per status and new items (for logs and the benchmark)."""
    counts: dict[str, Any] = {"fetched": 0, "not-modified": 0, "failed": 0, "skipped": 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    counts["new_items"] = sum(o.new_items for o in outcomes)
    return counts
