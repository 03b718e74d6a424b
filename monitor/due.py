"""When a source is due for a poll, why a pass skips it, and when it is due next.

``is_due`` is shared by the pass (:mod:`monitor.poll`) and the worker's poll job
(:mod:`monitor.worker.jobs`); ``skip_reason`` is the pass's decision for one source. Apart
from the pass because this is the schedule's arithmetic only: no fetching, no database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from monitor.store.sources import SourceState

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.sources.base import SourceConfig


def is_due(state: SourceState, now: datetime, *, tolerance: timedelta = timedelta(0)) -> bool:
    """Due when never scheduled or its time has come, and no Retry-After is pending."""
    if state.retry_after_until is not None and state.retry_after_until > now:
        return False
    return state.next_due_at is None or state.next_due_at <= now + tolerance


def skip_reason(
    source: SourceConfig,
    state: SourceState,
    now: datetime,
    config: Config,
    only: Sequence[str] | None,
    force_all: bool,
    scheduled: bool,
) -> str | None:
    if state.retry_after_until is not None and state.retry_after_until > now:
        return f"server asked to wait until {state.retry_after_until:%Y-%m-%d %H:%M:%S} UTC"
    if scheduled:
        if state.consecutive_failures and not is_due(state, now, tolerance=_slack(source, config)):
            return f"backing off until {state.next_due_at:%Y-%m-%d %H:%M:%S} UTC"
        return None
    if only or force_all:
        return None
    if not is_due(state, now):
        return f"not due until {state.next_due_at:%Y-%m-%d %H:%M:%S} UTC"
    return None


def _slack(source: SourceConfig, config: Config) -> timedelta:
    # The scheduler's own jitter may fire a little before next_due_at: that counts as due.
    settings = source.effective(config.defaults)
    return settings.every * settings.jitter + timedelta(seconds=1)


def next_due_after_success(source: SourceConfig, config: Config, now: datetime) -> datetime:
    settings = source.effective(config.defaults)
    spread = random.uniform(-settings.jitter, settings.jitter)
    return now + settings.every * (1 + spread)
