"""The ``feed`` kind: RSS 0.9x/1.0/2.0 and Atom through feedparser."""

from __future__ import annotations

import io
import xml.sax
from typing import Any, Literal

from monitor.errors import ParseError
from monitor.sources.base import SourceConfig, SourceKind, make_item
from monitor.sources.text import (
    MAX_TITLE_CHARS,
    clean_text,
    html_to_text,
    safe_url,
    struct_to_utc,
)
from monitor.sources.xmlguard import refuse_entity_declarations
from monitor.types import Item

MAX_ENTRIES = 1_000  # a feed with more is either broken or hostile; keep the newest part


class FeedSource(SourceConfig):
    kind: Literal["feed"]


class FeedKind(SourceKind[FeedSource]):
    """An RSS (0.9x, 1.0, 2.0) or Atom feed.

    Minimal form:
      - name: openai-news
        kind: feed
        url: https://openai.com/news/rss.xml
    Optional: every (15m, 2h, 1d; default from `defaults:`), lang (en, fr, zh, zh-Hant),
    enabled, headers, connect_timeout, read_timeout, max_body.

    Each entry becomes an item: its title, link, id (guid), published or updated date and
    its content or summary as plain text. Feeds that declare XML entities (<!ENTITY ...>),
    in whatever encoding, are refused for safety; slightly malformed feeds are read as far
    as they go.
    """

    kind = "feed"
    config_model = FeedSource

    def parse(
        self, body: bytes, *, source: FeedSource, url: str, content_type: str | None = None
    ) -> list[Item]:
        # The parsers are imported here, not at the top: the configuration imports this
        # module for FeedSource, and a pass where every feed answers 304 parses nothing.
        import feedparser

        from monitor.sources.fastfeed import parse_entries

        refuse_entity_declarations(body, content_type)
        fast = parse_entries(body, url, content_type)
        if fast is not None:
            return _items(fast, source)
        headers = {"content-location": url}
        if content_type:
            headers["content-type"] = content_type
        try:
            # A file object, never the bytes themselves: feedparser fetches a bytes/str
            # argument that looks like a URL, and parsing must never touch the network.
            parsed = feedparser.parse(
                io.BytesIO(body),
                response_headers=headers,
                # we keep only plain text (html_to_text), never markup, so feedparser's
                # HTML sanitiser and URI rewriting inside content are wasted work (half
                # the parse time); entry links are still resolved against xml:base
                resolve_relative_uris=False,
                sanitize_html=False,
            )
        except Exception as exc:  # third-party parser on untrusted bytes: never crash a pass
            raise ParseError(f"unreadable feed ({type(exc).__name__}: {exc})") from None
        entries = parsed.get("entries") or []
        if not entries and not parsed.get("version"):
            raise ParseError(f"not an RSS or Atom feed ({_why(parsed, body)})")
        return _items(entries, source)


def _items(entries: list[Any], source: FeedSource) -> list[Item]:
    items = []
    for entry in entries[:MAX_ENTRIES]:
        item = _entry_to_item(entry, source)
        if item is not None:
            items.append(item)
    return items


def _entry_to_item(entry: Any, source: FeedSource) -> Item | None:
    title = html_to_text(_str(entry.get("title")), MAX_TITLE_CHARS)
    contents = entry.get("content") or []
    body_html = ""
    for content in contents:  # the longest content part (Atom may carry several types)
        value = _str(content.get("value") if isinstance(content, dict) else None)
        if len(value) > len(body_html):
            body_html = value
    summary = _str(entry.get("summary"))
    text = html_to_text(body_html if len(body_html) >= len(summary) else summary)
    link = safe_url(_str(entry.get("link")))
    guid = _str(entry.get("id")).strip() or None
    if not title:
        title = text[:120] if text else (link or "")
    if not title:
        return None
    published = struct_to_utc(entry.get("published_parsed")) or struct_to_utc(
        entry.get("updated_parsed")
    )
    return make_item(source, title=title, text=text, url=link, guid=guid, published=published)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _why(parsed: Any, body: bytes) -> str:
    """The XML error with its line when there is one, else how the body starts."""
    reason = parsed.get("bozo_exception")
    if isinstance(reason, xml.sax.SAXParseException):
        return f"line {reason.getLineNumber()}: {clean_text(reason.getMessage(), 200)}"
    start = clean_text(body[:60].decode("utf-8", errors="replace"), 200)
    return f"it starts with {start!r}" if start else "empty body"
