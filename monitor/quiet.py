"""Quiet sources: answering, but publishing nothing new for their ``quiet_after``.

A pure decision over the newest item of each source (``monitor.store.health.newest_items``,
or ``monitor.store.status`` for `monitor status`): the daemon's health alerts
(``monitor.tasks.quiet_sources``) and `monitor status` ask it alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class QuietSource:
    """A source whose newest item is older than its ``quiet_after``."""

    name: str
    newest: datetime  # naive UTC, when its newest item was published
    after: timedelta

    @property
    def state_key(self) -> str:
        return f"quiet:{self.name}"

    @property
    def newest_key(self) -> str:  # one alert per quiet spell: a newer item starts another
        return self.newest.isoformat(timespec="seconds")


def quiet_among(
    watched: Iterable[tuple[str, timedelta | None]],
    newest: Mapping[str, tuple[datetime, datetime]],
    now: datetime,
) -> list[QuietSource]:
    """The sources of ``watched`` (name, quiet_after; None: never quiet), in that order,
    that have gone quiet: watched for their quiet_after with no item newer than that.
    ``newest``: per source name, (its newest item's date, since when it is watched)."""
    found = []
    for name, after in watched:
        if after is None or name not in newest:
            continue
        last, watched_since = newest[name]
        # Quiet means watched that long without news: a new source whose items are all old
        # is a backfill (the quiet first day), not a source that went quiet on us.
        if last <= now - after and watched_since <= now - after:
            found.append(QuietSource(name, last, after))
    return found
