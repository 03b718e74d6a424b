"""The feed kind on RSS 2.0, Atom and RSS 1.0 fixtures, hostile XML, and feedparser's
own test corpus (every file must give items or a ParseError, never anything else)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.sources import FeedSource, get_kind, parse_body
from monitor.types import Item
from tests.httpserver import LocalServer, Reply

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def source(lang: str | None = "en") -> FeedSource:
    return FeedSource(name="news", kind="feed", url="https://news.example.com/feed", lang=lang)


def parse(name: str | bytes, lang: str | None = "en") -> list[Item]:
    body = (FIXTURES / name).read_bytes() if isinstance(name, str) else name
    feed = source(lang)
    return get_kind("feed").parse(body, source=feed, url=feed.url, content_type=None)


def test_rss2_items() -> None:
    first, second, untitled = parse("rss2.xml")
    assert first == Item(
        title="Example Cloud opens a region in Riyadh",
        text="The Riyadh region is live today. Two zones.",
        url="https://news.example.com/2025/riyadh-region",
        guid="ec-2025-0042",
        published=datetime(2025, 3, 4, 1, 30, tzinfo=UTC),  # 09:30 +08:00
        lang="en",
        source="news",
    )
    # content:encoded wins over the shorter description; the script is gone
    assert second.title == "Chips & models: a busy quarter"
    assert second.text == "The longer body names the X100 accelerator."
    assert "alert" not in second.text
    assert second.guid is None
    # no title: titled by its text; a javascript: link is never kept
    assert untitled.title.startswith("An item with no title")
    assert untitled.url is None


def test_atom_items_resolve_relative_links_and_fall_back_to_updated() -> None:
    newer, older = parse("atom.xml", lang=None)
    assert newer.url == "https://github.com/example-ai/Model-V3/releases/tag/v1.1"
    assert newer.guid == "tag:github.com,2008:Repository/1/v1.1"
    assert newer.published == datetime(2025, 3, 24, 8, 0, tzinfo=UTC)  # updated, +02:00
    assert newer.text == "We release Model-V3-0324 with better reasoning."
    assert newer.lang is None
    assert older.title == "v1.0 initial"  # type="html" title as text
    assert older.published == datetime(2024, 12, 26, tzinfo=UTC)  # published beats updated


def test_rss1_items_with_dublin_core_dates() -> None:
    first, second = parse("rss1.rdf", lang="zh")
    assert first.title == "示例云在新加坡开服"
    assert first.text == "示例云宣布新加坡地域正式上线。"
    assert first.published == datetime(2025, 2, 10, 0, 0, tzinfo=UTC)
    assert first.lang == "zh"
    assert second.published == datetime(2025, 2, 11, tzinfo=UTC)


def test_parse_body_dispatches_on_the_source_kind() -> None:
    items = parse_body(source(), (FIXTURES / "rss1.rdf").read_bytes())
    assert [item.source for item in items] == ["news", "news"]


def test_entity_declarations_are_refused() -> None:
    with pytest.raises(ParseError, match="ENTITY"):
        parse("entities.xml")


def test_entity_declarations_are_refused_in_utf16_too() -> None:
    body = (FIXTURES / "entities.xml").read_text(encoding="utf-8")
    encoded = body.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>')
    with pytest.raises(ParseError, match="ENTITY"):
        parse(encoded.encode("utf-16"))


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body><p>Not a feed</p></body></html>", b"\x00\xff\xfe garbage", b"{}"],
    ids=["empty", "html", "binary", "json"],
)
def test_non_feeds_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match="not an RSS or Atom feed"):
        parse(body)


def test_a_body_that_is_a_url_is_never_fetched(http_server: LocalServer) -> None:
    # feedparser fetches a str/bytes argument that looks like a URL; parsing must not.
    http_server.route("/feed.xml", Reply(body=(FIXTURES / "rss2.xml").read_bytes()))
    with pytest.raises(ParseError):
        parse(http_server.url("/feed.xml").encode())
    assert http_server.requests == []


def test_feedparser_corpus_gives_items_or_parse_error(corpora: Path) -> None:
    root = corpora / "feedparser-tests" / "tests"
    files = sorted(path for path in root.rglob("*") if path.is_file())
    assert len(files) > 2000
    feed = source(lang=None)
    kind = get_kind("feed")
    parsed = failed = with_items = 0
    for path in files:
        try:
            items = kind.parse(path.read_bytes(), source=feed, url=feed.url)
        except ParseError:
            failed += 1
            continue
        parsed += 1
        with_items += bool(items)
        for item in items:
            assert item.title and item.source == "news", path
            assert item.published is None or item.published.tzinfo is UTC, path
            assert item.url is None or item.url.lower().startswith(("http://", "https://")), path
    # the corpus is mostly valid feeds: nearly all must parse, and hundreds carry entries
    assert failed < 0.02 * len(files), failed
    assert with_items > 500, with_items
