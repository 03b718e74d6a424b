"""The ``html`` kind: a listing page read with CSS selectors, optionally following each item.

``enrich_from_article`` (called by the fetcher for ``follow: true`` sources, once per new
item) reads the article page: its main text, JSON-LD NewsArticle and OpenGraph metadata.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import field_validator
from pydantic_core import PydanticCustomError

from monitor.errors import ParseError
from monitor.sources.base import SourceConfig, SourceKind, make_item
from monitor.sources.text import MAX_TITLE_CHARS, clean_text, parse_date, safe_url
from monitor.sources.xmlguard import charset_of, refuse_entity_declarations, wide_encoding
from monitor.types import Item

# BeautifulSoup, soupsieve and the article reader are imported where they are used: the
# configuration imports this module for HtmlSource, and a pass that parses no page (every
# source answered 304) must not pay for them.
if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

MAX_ITEMS = 500
_HTML_TAG = re.compile(rb"<[^ +]html", re.IGNORECASE)


class HtmlSource(SourceConfig):
    kind: Literal["html"]
    item: str
    title: str | None = None
    link: str | None = None
    date: str | None = None
    summary: str | None = None
    follow: bool = False

    @field_validator("item", "title", "link", "date", "summary")
    @classmethod
    def _valid_selector(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import soupsieve

        try:
            soupsieve.compile(value)
        except Exception as exc:  # soupsieve raises SelectorSyntaxError and a few others
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise PydanticCustomError(
                "css_selector",
                "bad CSS selector '{value}' ({reason})",
                {"value": value, "reason": first},
            ) from None
        return value


class HtmlKind(SourceKind[HtmlSource]):
    """A web page listing news items, read with CSS selectors.

    Example:
      - name: deepseek-news
        kind: html
        url: https://api-docs.deepseek.com/news/news250120
        item: "article"              # one match per item (required)
        title: "h1, h2"              # default: the item's first heading or link text
        link: "a[href]"              # default: the item's first link (made absolute)
        date: "time"                 # optional; reads datetime=/content= or the text
                                     # (default: a <time datetime=...> in the item)
        summary: "p"                 # optional
        follow: true                 # fetch each new item's page for its full text
    With follow: true the article page's main text, JSON-LD NewsArticle datePublished /
    headline and OpenGraph og:title / og:description / article:published_time are used.
    """

    kind = "html"
    config_model = HtmlSource

    def parse(
        self, body: bytes, *, source: HtmlSource, url: str, content_type: str | None = None
    ) -> list[Item]:
        soup = _soup(body, content_type)
        base = _base_url(soup, url)
        nodes = soup.select(source.item, limit=MAX_ITEMS)
        if not nodes:
            # an empty result usually means the site changed its layout: say so, loudly
            raise ParseError(f"item selector {source.item!r} matched nothing on the page")
        items: list[Item] = []
        seen: set[str] = set()
        for node in nodes:
            item = _node_to_item(node, source, base)
            if item is None:
                continue
            key = item.url or item.title
            if key in seen:  # listings often repeat an item (hero + list)
                continue
            seen.add(key)
            items.append(item)
        return items


def _soup(body: bytes, content_type: str | None) -> BeautifulSoup:
    from bs4 import BeautifulSoup

    if b"<" not in body:
        # (bs4 would also warn that such markup "looks like a URL or file name")
        raise ParseError("not an HTML page (no markup)" if body.strip() else "empty page")
    # An XML document (a feed given as an html source) is read as XML: selectors still
    # work, and bs4 does not warn about parsing XML as HTML. UTF-16/32 without a BOM is
    # recognised too, so the document is read (and checked) as its parser decodes it.
    wide = wide_encoding(body)
    features = "xml" if _looks_like_xml(body, wide) else "lxml"
    if features == "xml":
        # the XML parser would expand them; HTML's does not
        refuse_entity_declarations(body, content_type)
    try:
        return BeautifulSoup(body, features, from_encoding=wide or charset_of(content_type))
    except Exception as exc:  # lxml on untrusted bytes: report, never crash the pass
        raise ParseError(f"unreadable HTML ({type(exc).__name__}: {exc})") from None


def _looks_like_xml(body: bytes, wide: str | None) -> bool:
    head = body[:2048]
    if wide is not None:  # the same test on the decoded start, in ASCII
        head = head.decode(wide, errors="ignore").encode("ascii", errors="ignore")
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<?xml") and _HTML_TAG.search(head) is None


def _base_url(soup: BeautifulSoup, url: str) -> str:
    from bs4 import Tag

    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        resolved = safe_url(str(base.get("href")), url)
        if resolved:
            return resolved
    return url


def _node_to_item(node: Tag, source: HtmlSource, base: str) -> Item | None:
    title_node = _pick(node, source.title, "h1, h2, h3, h4, h5, h6, a[href]")
    link_node = _pick(node, source.link, "a[href]")
    if link_node is None and node.name == "a" and node.get("href"):
        link_node = node  # the item itself is the link
    title = clean_text(title_node.get_text(" "), MAX_TITLE_CHARS) if title_node else ""
    if not title and title_node is None and node.name == "a":
        title = clean_text(node.get_text(" "), MAX_TITLE_CHARS)
    href = link_node.get("href") if link_node is not None else None
    link = safe_url(href if isinstance(href, str) else None, base)
    summary = ""
    if source.summary:
        summary_node = node.select_one(source.summary)
        summary = clean_text(summary_node.get_text(" ")) if summary_node else ""
    published = None
    # without a date selector, a machine-readable <time datetime=...> is still trustworthy
    date_node = node.select_one(source.date or "time[datetime]")
    if date_node is not None:
        published = parse_date(_date_text(date_node))
    if not title:
        return None
    return make_item(source, title=title, text=summary, url=link, guid=link, published=published)


def _pick(node: Tag, selector: str | None, fallback: str) -> Tag | None:
    if selector:
        return node.select_one(selector)
    return node.select_one(fallback)


def _date_text(node: Tag) -> str:
    for attribute in ("datetime", "content", "title", "data-date"):
        value = node.get(attribute)
        if isinstance(value, str) and value.strip():
            return value
    return node.get_text(" ")


def enrich_from_article(item: Item, body: bytes, url: str) -> Item:
    """The item completed from its article page: full main text, date and title if missing.

    Raises ParseError when the page is unusable; the listing's values win over the page's
    metadata only where the page has none.
    """
    from monitor.sources.article import read_article

    article = read_article(body, url)
    changes: dict[str, Any] = {}
    if article.text and len(article.text) > len(item.text):
        changes["text"] = article.text
    if item.published is None and article.published is not None:
        changes["published"] = article.published
    if (not item.title or item.title == item.url) and article.title:
        changes["title"] = article.title
    if article.description and "description" not in item.extra:
        changes["extra"] = {**item.extra, "description": article.description}
    return dataclasses.replace(item, **changes) if changes else item
