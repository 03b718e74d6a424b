"""Source kinds: one module per kind, each registered under the string users write.

Importing this package registers the built-in kinds (feed, html, json). The fetcher calls
``parse_body(source, body, url=..., content_type=...)`` and, for ``html`` sources with
``follow: true``, ``enrich_from_article(item, body, url)`` on each new item's page.
"""

from monitor.sources import feed, html, json
from monitor.sources.base import (
    Defaults,
    SourceConfig,
    SourceKind,
    SourceSettings,
    get_kind,
    kinds,
    parse_body,
)
from monitor.sources.feed import FeedSource
from monitor.sources.html import HtmlSource, enrich_from_article
from monitor.sources.json import JsonSource

__all__ = [
    "Defaults",
    "FeedSource",
    "HtmlSource",
    "JsonSource",
    "SourceConfig",
    "SourceKind",
    "SourceSettings",
    "enrich_from_article",
    "feed",
    "get_kind",
    "html",
    "json",
    "kinds",
    "parse_body",
]
