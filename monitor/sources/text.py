"""Small text helpers the kinds share: HTML fragments to plain text, lenient date parsing.

Scraped text is untrusted: we only ever turn it into plain text (never re-emit markup)
and cap its length so one hostile item cannot bloat the database.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

# C0 and C1 control characters but tab/newline/CR, and bidi overrides: a scraped "\x1b[2J",
# "\x1b]0;...\x07" or U+202E must not reach an operator's terminal through `monitor show`,
# `try` or the logs, nor an alert.
from monitor.safetext import strip_controls

__all__ = ["strip_controls"]  # re-exported: the kinds import it from here

MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 200_000

_DROP_BLOCKS = re.compile(
    r"<(script|style|template|noscript)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
# Block-level tags become a space so "<p>a</p><p>b</p>" reads "a b", while inline tags
# vanish so "Qwen<b>3</b>" stays "Qwen3".
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|header|"
    r"footer|pre|hr|dd|dt|dl|figure|figcaption|img)\b[^>]*>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^>]*>")


def clean_text(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Drop control characters, collapse whitespace and cap the length."""
    # split() knows the same whitespace as the regex \s (str.isspace): the same result as
    # re.sub(r"\s+", " ", ...).strip(), for a third of the time
    return " ".join(strip_controls(text).split())[:limit]


def html_to_text(fragment: str | None, limit: int = MAX_TEXT_CHARS) -> str:
    """Plain text of an HTML fragment (feed summaries, JSON bodies); entities decoded.

    A regex pass rather than a full parser: feed entries are small and numerous, and
    feedparser has already sanitised the markup; we only need the words.
    """
    if not fragment:
        return ""
    if "<" in fragment:
        fragment = _DROP_BLOCKS.sub(" ", fragment)
        fragment = _BLOCK_TAG.sub(" ", fragment)
        fragment = _ANY_TAG.sub("", fragment)
    return clean_text(html.unescape(fragment), limit)


_YEARS = re.compile(r"(?<!\d)\d{4}(?!\d)")
_STRPTIME_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%b. %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%Y年%m月%d日",
    "%Y年%m月%d日 %H:%M",
    "%d/%m/%Y",
)


def parse_date(value: str | None) -> datetime | None:
    """A date as websites write it, to aware UTC; None when it cannot be read.

    Tries ISO 8601, RFC 822, feedparser's many formats, then a few human spellings.
    Naive results are taken as UTC.
    """
    if not value:
        return None
    text = clean_text(value, 200)
    if not text:
        return None
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None:
        for fmt in _STRPTIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        moment = _feedparser_date(text)
        # feedparser is lenient to a fault ("2025-13-45" becomes a 2026 date, "2025/05/28"
        # an ordinal day): keep its answer only when the text names that year
        if moment is not None and str(moment.year) not in _YEARS.findall(text):
            moment = None
    return to_utc(moment)


def to_utc(moment: datetime | None) -> datetime | None:
    """Aware UTC; a naive datetime is taken to be UTC already (feeds without zones)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _feedparser_date(text: str) -> datetime | None:
    from feedparser.datetimes import _parse_date

    try:
        parsed = _parse_date(text)
    except Exception:  # third-party date parser on untrusted text: any failure = no date
        return None
    return struct_to_utc(parsed)


def struct_to_utc(parsed: Any) -> datetime | None:
    """feedparser's UTC ``time.struct_time`` to an aware datetime (None if absent/invalid)."""
    if parsed is None:
        return None
    try:
        year, month, day, hour, minute, second = tuple(parsed)[:6]
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def safe_url(value: str | None, base: str | None = None) -> str | None:
    """An absolute http(s) URL (resolved against ``base``), or None.

    Scraped links are untrusted: ``javascript:``/``data:`` links must never reach an alert.
    """
    from urllib.parse import urljoin, urlsplit

    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        absolute = urljoin(base, text) if base else text
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return absolute


_MD_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_LINE_MARKS = re.compile(
    r"^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[*+-][ \t]+|\d+\.[ \t]+)", re.MULTILINE
)
_MD_EMPHASIS = re.compile(r"\*\*|__|`+|~~")


def markdown_to_text(markdown: str | None, limit: int = MAX_TEXT_CHARS) -> str:
    """Plain text of Markdown (GitHub release notes): marks dropped, words kept.

    Single "*" and "_" are left alone: they are as often part of names (snake_case,
    glob patterns) as emphasis.
    """
    if not markdown:
        return ""
    text = _MD_IMAGE_OR_LINK.sub(r"\1", markdown)
    text = _MD_LINE_MARKS.sub("", text)
    text = _MD_EMPHASIS.sub("", text)
    return html_to_text(text, limit)
