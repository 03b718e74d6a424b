"""What happens to stored items after a pass, and to the outbox (owned by the alerts issue).

The daemon and `monitor once` call these; `monitor ingest` calls them too, so replayed
items take exactly the path fetched ones do.

Placeholder until the change-log/alerts issue lands: both functions do nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from monitor.config import Config


def process_pending(
    sessions: sessionmaker[Session], config: Config, *, now: datetime | None = None
) -> int:
    """Extract, diff and record changes (with their outbox rows) for unprocessed items,
    in published order, one transaction per item. Returns the number of items processed."""
    return 0


def deliver_due(
    sessions: sessionmaker[Session], config: Config, *, now: datetime | None = None
) -> int:
    """Queue source-health alerts and due digests, then send due outbox rows.
    Returns the number of messages sent."""
    return 0
