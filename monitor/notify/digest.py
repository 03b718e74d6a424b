"""Digest routes: queued deliveries become one message per channel at the route's time.

The state table remembers, per route, the last scheduled time already handled
(``digest:<route>``), so a restart neither repeats nor skips a digest.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from monitor.notify.config import AlertsConfig, RouteConfig
from monitor.store import outbox, state


def last_scheduled(route: RouteConfig, now: datetime) -> datetime:
    """The latest daily ``at`` (in the route's time zone) not after ``now``; naive UTC."""
    zone = route.zone
    instant = now.replace(tzinfo=UTC)
    day = instant.astimezone(zone).date()
    for _ in range(3):  # today, else yesterday (DST gaps: the day before that)
        # Compared as instants (UTC), not as wall-clock times: in the repeated hour of a
        # fall-back night, a wall-clock comparison went back a day (02:10 of the second
        # pass "before" 02:30 of the first).
        moment = datetime.combine(day, route.at_time, tzinfo=zone).astimezone(UTC)
        if moment <= instant:
            return moment.replace(tzinfo=None)
        day -= timedelta(days=1)
    return (instant - timedelta(days=1)).replace(tzinfo=None)


def state_key(route: RouteConfig) -> str:
    return f"digest:{route.name}"


def queue_due_digests(session: Session, alerts: AlertsConfig, now: datetime) -> int:
    """For each digest route whose time has come, turn its queued rows (recorded up to
    that time) into one ``digest`` delivery per channel. Returns the digests queued."""
    made = 0
    for route in alerts.routes:
        if route.mode != "digest":
            continue
        scheduled = last_scheduled(route, now)
        last = state.get_state(session, state_key(route))
        if last is not None and datetime.fromisoformat(last) >= scheduled:
            continue
        by_channel: dict[str, list[int]] = defaultdict(list)
        for channel, change_id in outbox.digest_queued(session, route.name, scheduled, now):
            if change_id is not None:
                by_channel[channel].append(change_id)
        for channel, change_ids in by_channel.items():
            outbox.add_delivery(
                session,
                kind="digest",
                route=route.name,
                channel=channel,
                now=now,
                payload={"change_ids": change_ids, "scheduled": scheduled.isoformat()},
            )
            made += 1
        state.set_state(session, state_key(route), scheduled.isoformat(), now)
    return made
