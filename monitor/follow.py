"""Following an ``html`` source's new items to their article pages (``follow: true``).

Apart from the pass (:mod:`monitor.poll`) because it is a fetch loop of its own: up to
``MAX_FOLLOW`` pages per pass within the source's deadline, each failure one log line and
the listing's own item kept. It logs as ``monitor.poll``, the pass it is part of.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from monitor.errors import MonitorError
from monitor.fetch import FetchCancelled, Fetcher, FetchResult
from monitor.safetext import safe_url
from monitor.store.db import transaction
from monitor.store.sources import known_urls
from monitor.types import Item

if TYPE_CHECKING:
    from monitor.sources.base import SourceConfig, SourceSettings

log = logging.getLogger("monitor.poll")

MAX_FOLLOW = 25  # article pages fetched per html source per pass (the rest wait a pass)


def fetch_article(
    fetcher: Fetcher,
    url: str,
    source: SourceConfig,
    settings: SourceSettings,
    *,
    deadline_at: float,
) -> FetchResult:
    """GET an item's article page with the source's timeouts and body cap, within the
    source's deadline. The source's headers stay with the source's URL, and only the
    source's own origin (or an allowed host) may be at an internal address."""
    return fetcher.get(
        url,
        source=source.name,
        origin=str(source.url),
        timeouts=(settings.connect_timeout, settings.read_timeout),
        max_body=settings.max_body,
        deadline_at=deadline_at,
    )


def follow_articles(
    items: list[Item],
    source: SourceConfig,
    settings: SourceSettings,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    deadline_at: float,
) -> tuple[list[Item], bool]:
    """Enrich the items not stored yet from their article pages. Returns the items to store
    and whether every new item was followed (False: some wait for the next pass).

    A page that cannot be fetched (refused, failed, too slow) costs one log line: the item
    keeps the listing's own title and summary. Items not reached by the source's deadline
    wait for the next pass, and so does everything after a shutdown."""
    from monitor.sources.html import enrich_from_article
    from monitor.store.items import canonical_url

    with transaction(sessions) as session:
        stored = known_urls(session, [item.url for item in items])

    result: list[Item] = []
    followed = 0
    complete = True
    for item in items:
        key = canonical_url(item.url)
        if not item.url or key is None or key in stored:
            result.append(item)
            continue
        if followed >= MAX_FOLLOW or time.monotonic() >= deadline_at:
            complete = False
            continue
        followed += 1
        try:
            page = fetch_article(fetcher, item.url, source, settings, deadline_at=deadline_at)
            result.append(enrich_from_article(item, page.body, page.final_url))
        except FetchCancelled:
            raise
        except MonitorError as exc:
            if time.monotonic() >= deadline_at:  # cut by the deadline: next pass, in full
                complete = False
                continue
            # The listing's own title/summary still make a usable item.
            log.warning(
                "follow failed source=%s url=%s error=%s",
                source.name,
                safe_url(item.url),
                exc.message,
            )
            result.append(item)
        except Exception as exc:
            log.warning(
                "follow failed source=%s url=%s error=%s",
                source.name,
                safe_url(item.url),
                type(exc).__name__,
            )
            result.append(item)
    return result, complete
