"""The outbox sender: delivers due rows, each channel in its own worker, with retries.

Each row goes ``pending -> sending`` (committed) before the Apprise call and ``sent``
after it, so a process killed mid-send re-sends at most that one message: its row stays
``sending`` until the lease (``retry.in_flight_timeout``) runs out, then goes back to
``pending``. A failed send is retried with exponential backoff; after
``retry.max_attempts`` the row is ``failed`` (``monitor notify --retry-failed`` re-queues
it). Channels are served in parallel and a channel that refuses is skipped for the rest
of the pass, so a slow or dead channel delays nobody else. With ``wait`` (the daemon), a
pass returns after that many seconds even if a channel is still sending (a webhook that
drips its answer, an SMTP server that stalls): that channel's worker finishes on its own,
and later passes skip the channel while it is busy, so its messages stay in order and the
other channels' next alerts are not held back behind it.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import NotifyError
from monitor.notify import channels as channel_mod
from monitor.notify.channels import Channel, SendResult
from monitor.notify.config import AlertsConfig
from monitor.store import locks, outbox
from monitor.store.db import transaction
from monitor.store.models import DeliveryRow
from monitor.store.queries import ChangeQuery, find_changes, get_change
from monitor.views import DisplayNames, change_context

if TYPE_CHECKING:  # the templates (Jinja2) are loaded only when a message is rendered
    from monitor.notify.render import Message, Renderer

log = logging.getLogger(__name__)
MAX_PARALLEL_CHANNELS = 8


class BusyChannels:
    """The channels whose worker is still sending, from this pass or an earlier one that
    stopped waiting for it: later passes skip them until it is done, so a channel's
    messages stay in order. One per process (the App holds it), shared by its passes."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, wanted: Iterable[str]) -> tuple[set[str], set[str]]:
        """(the ids of ``wanted`` now claimed for this pass, those busy elsewhere)."""
        with self._lock:
            wanted = set(wanted)
            busy = wanted & self._ids
            self._ids |= wanted - busy
            return wanted - busy, busy

    def release(self, channel_id: str) -> None:
        with self._lock:
            self._ids.discard(channel_id)

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._ids)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped_channels: set[str] = field(default_factory=set)
    busy_channels: set[str] = field(default_factory=set)  # still sending when the pass ended
    # "not accepted by <masked url>: <why>", one per channel that refused in this pass
    refusals: list[str] = field(default_factory=list)


def render_row(
    session: Session,
    row: DeliveryRow,
    channel: Channel,
    renderer: Renderer,
    names: DisplayNames | None,
) -> Message | None:
    """The message of one outbox row for its channel; None when there is nothing left to
    say (e.g. the change was dismissed since)."""
    payload = row.payload or {}
    if row.kind == "change":
        if row.change_id is None:
            return None
        view = get_change(session, row.change_id)
        if view is None or view.dismissed_at is not None:
            return None
        return renderer.render("change", channel.format, change_context(view, names))
    if row.kind == "digest":
        ids = [int(i) for i in payload.get("change_ids", [])]
        views = find_changes(session, ChangeQuery(ids=ids, dismissed=False)).changes
        if not views:
            return None
        views.sort(key=lambda v: (v.published or v.at, v.id))
        context = {
            "changes": [change_context(v, names) for v in views],
            "count": len(views),
            "route": row.route,
        }
        return renderer.render("digest", channel.format, context)
    if row.kind == "source":
        context = {
            "source": payload.get("source", "?"),
            "state": payload.get("state", "down"),
            "since": payload.get("since"),
            "error": payload.get("error"),
            "failures": payload.get("failures", 0),
            "quiet_after": payload.get("quiet_after"),
        }
        return renderer.render("source", channel.format, context)
    if row.kind == "database":
        keys = ("since", "until", "minutes", "error")
        return renderer.render("database", channel.format, {k: payload.get(k) for k in keys})
    raise NotifyError(f"unknown delivery kind {row.kind!r}")


def send_due(
    sessions: sessionmaker[Session],
    alerts: AlertsConfig,
    channels: Sequence[Channel],
    renderer: Renderer,
    names: DisplayNames | None,
    now: datetime,
    *,
    busy: BusyChannels,
    limit: int = 500,
    wait: float | None = None,
    only: str | None = None,
) -> SendReport:
    """Send due rows: each channel in its own worker thread, its rows in order, stopping at
    its first refusal; so a slow or dead channel holds back no other channel. ``wait``:
    return after that many seconds at most, leaving slow channels' workers to finish on
    their own (None: wait for every channel); ``busy`` remembers them for the next pass.
    ``only``: that channel's rows alone (a worker's per-channel job). On a server database,
    one process at a time sends to a channel (an advisory lock per channel), so its
    messages keep their order."""
    by_id = {ch.id: ch for ch in channels}
    with transaction(sessions) as session:
        due = outbox.due_deliveries(session, now, limit)
    if only is not None:
        due = [(row_id, channel_id) for row_id, channel_id in due if channel_id == only]
    report = SendReport()
    per_channel: dict[str, list[int]] = defaultdict(list)
    orphans: list[int] = []
    for row_id, channel_id in due:
        (per_channel[channel_id] if channel_id in by_id else orphans).append(row_id)
    if orphans:
        with transaction(sessions) as session:
            report.failed += outbox.fail_deliveries(
                session, orphans, "its channel is no longer configured"
            )
    claimed, report.busy_channels = busy.claim(per_channel)
    jobs = [(by_id[cid], ids) for cid, ids in per_channel.items() if cid in claimed]
    if not jobs:
        return report

    def work(channel: Channel, ids: list[int]) -> SendReport:
        try:
            with locks.exclusive(sessions.kw["bind"], f"deliver:{channel.id}", wait=False) as mine:
                if not mine:  # another process is sending to it: it sends these too
                    return SendReport(busy_channels={channel.id})
                return _send_channel(sessions, alerts, channel, ids, renderer, names, now)
        except Exception:  # a pass that stopped waiting would never see it otherwise
            log.exception("sending to %s failed", channel.masked)
            raise
        finally:
            busy.release(channel.id)

    pool = ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_CHANNELS, len(jobs)))
    futures = {pool.submit(work, ch, ids): ch.id for ch, ids in jobs}
    done, not_done = wait_futures(futures, timeout=wait)
    pool.shutdown(wait=False)  # workers still sending finish by themselves
    report.busy_channels |= {futures[f] for f in not_done}
    for future in done:
        part = future.result()
        report.sent += part.sent
        report.retrying += part.retrying
        report.failed += part.failed
        report.skipped_channels |= part.skipped_channels
        report.refusals += part.refusals
        report.busy_channels |= part.busy_channels
    return report


def _send_channel(
    sessions: sessionmaker[Session],
    alerts: AlertsConfig,
    channel: Channel,
    row_ids: list[int],
    renderer: Renderer,
    names: DisplayNames | None,
    now: datetime,
) -> SendReport:
    report = SendReport()
    retry = alerts.retry
    for row_id in row_ids:
        with transaction(sessions) as session:
            row = outbox.pending_delivery(session, row_id)
            if row is None:
                continue
            try:
                message = render_row(session, row, channel, renderer, names)
            except NotifyError as exc:
                outbox.fail_deliveries(session, [row_id], str(exc))
                report.failed += 1
                log.error("delivery %s: %s", row_id, exc)
                continue
            if message is None:
                outbox.cancel_delivery(session, row_id, "nothing to send (dismissed)")
                continue
            if not outbox.claim_delivery(session, row_id, now, retry.in_flight_timeout):
                continue
        result = channel_mod.send(channel, message.title, message.body, message.format)
        ok = result.ok
        with transaction(sessions) as session:
            state = outbox.finish_delivery(
                session,
                row_id,
                ok=ok,
                now=now,
                error=None if ok else result.describe(channel),
                max_attempts=retry.max_attempts,
                backoff=retry.backoff,
                max_backoff=retry.max_backoff,
            )
        if ok:
            report.sent += 1
            continue
        # The channel refused: leave its other rows for a later pass.
        report.skipped_channels.add(channel.id)
        report.refusals.append(result.describe(channel))
        if state == "failed":
            report.failed += 1
            log.warning("delivery %s failed for good: %s", row_id, result.describe(channel))
        else:
            report.retrying += 1
            log.info("delivery %s %s; will retry", row_id, result.describe(channel))
        break
    return report


def send_test(
    channels: Sequence[Channel], renderer: Renderer, now: datetime
) -> list[tuple[Channel, SendResult]]:
    """A test message straight to every channel (not through the outbox)."""
    results = []
    for channel in channels:
        message = renderer.render("test", channel.format, {"at": now})
        results.append((channel, channel_mod.send(channel, message.title, message.body, "text")))
    return results
