"""The fast feed path gives exactly feedparser's items, and declines what it cannot mirror.

The proof runs over every feedparser test file that feedparser reads without a bozo flag
(../shared/corpora/feedparser-tests) and over the project's own feed fixtures: for each
file the fast path accepts, its items must equal feedparser's item for item.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import feedparser
import pytest

from monitor.sources.fastfeed import parse_entries
from monitor.sources.feed import FeedSource, _items

HERE = Path(__file__).parent
SOURCE = FeedSource(name="t", kind="feed", url="http://127.0.0.1/feed.xml")
URL = "http://127.0.0.1/feed.xml"


def feedparser_items(body: bytes, content_type: str | None = None) -> tuple[list[Any], Any]:
    headers = {"content-location": URL}
    if content_type:
        headers["content-type"] = content_type
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, resolve_relative_uris=False, sanitize_html=False
    )
    return _items(parsed.get("entries") or [], SOURCE), parsed


CONTENT_TYPE = "application/xml"  # what a server sends; without one feedparser sets bozo


def compare(body: bytes) -> str:
    """'declined', 'bozo' (feedparser itself had to recover) or 'equal'; AssertionError if
    the fast path accepted the feed and differs."""
    fast = parse_entries(body, URL, CONTENT_TYPE)
    if fast is None:
        return "declined"
    expected, parsed = feedparser_items(body, CONTENT_TYPE)
    if parsed.get("bozo"):
        return "bozo"
    assert _items(fast, SOURCE) == expected
    return "equal"


def corpus_files(corpora: Path) -> list[Path]:
    root = corpora / "feedparser-tests"
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".xml", ".rdf"))


def test_fast_path_equals_feedparser_on_feedparser_test_suite(corpora: Path) -> None:
    files = corpus_files(corpora)
    assert len(files) > 1000
    results: dict[str, int] = {}
    failures = []
    for path in files:
        try:
            outcome = compare(path.read_bytes())
        except AssertionError:
            failures.append(path.name)
            continue
        results[outcome] = results.get(outcome, 0) + 1
    assert not failures, f"fast path differs from feedparser on {len(failures)}: {failures[:20]}"
    # the fast path must actually take a real share of the well-formed files
    assert results.get("equal", 0) > 300, results


@pytest.mark.parametrize("name", ["rss2.xml", "atom.xml", "rss1.rdf"])
def test_fast_path_takes_and_equals_fixture_feeds(name: str) -> None:
    body = (HERE / "fixtures" / "sources" / name).read_bytes()
    assert compare(body) == "equal"


def newsroom_feeds(corpora: Path) -> list[tuple[str, bytes]]:
    """The dev corpora's items as the three feed formats a newsroom publishes, with the
    variations real feeds show: HTML in CDATA and escaped, RFC 822 and ISO dates, GUIDs
    that are and are not permalinks, relative links, summary plus full content."""
    import json
    from datetime import datetime
    from email.utils import format_datetime
    from xml.sax.saxutils import escape, quoteattr

    items = []
    for name in ("dev-en.jsonl", "dev-multi.jsonl"):
        for line in (corpora / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                items.append(json.loads(line))
    feeds = []
    for start in range(0, len(items), 20):
        chunk = items[start : start + 20]
        rss, rdf, atom = [], [], []
        for n, it in enumerate(chunk):
            when = datetime.fromisoformat(it["published"].replace("Z", "+00:00"))
            title, text, url = it["title"], it["text"], it["url"]
            link = url if n % 3 else "/" + url.split("/", 3)[-1]  # some relative links
            guid = (
                f'<guid isPermaLink="false">{escape(it["id"])}</guid>'
                if n % 2
                else f"<guid>{escape(url)}</guid>"
            )
            body = f"<p>{escape(text)}</p><p>Read <a href='{escape(url)}'>more</a></p>"
            rss.append(
                f"<item><title>{escape(title)}</title><link>{escape(link)}</link>{guid}"
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{escape(text[:200])}</description>"
                f"<content:encoded><![CDATA[{body}]]></content:encoded>"
                f"<dc:creator>Desk</dc:creator><category>AI</category></item>"
            )
            rdf.append(
                f"<item rdf:about={quoteattr(url)}><title>{escape(title)}</title>"
                f"<link>{escape(url)}</link><description>{escape(body)}</description>"
                f"<dc:date>{it['published']}</dc:date></item>"
            )
            atom.append(
                f"<entry><title type='html'>{escape(escape(title))}</title>"
                f"<link rel='alternate' href={quoteattr(link)}/><id>urn:x:{escape(it['id'])}</id>"
                f"<updated>{it['published']}</updated><published>{it['published']}</published>"
                f"<author><name>Desk</name></author><summary>{escape(text[:150])}</summary>"
                f"<content type='html'>{escape(body)}</content></entry>"
            )
        feeds.append(
            (
                f"rss-{start}",
                (
                    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
                    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                    'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
                    f"<link>http://127.0.0.1/</link>{''.join(rss)}</channel></rss>"
                ).encode(),
            )
        )
        feeds.append(
            (
                f"rdf-{start}",
                (
                    '<?xml version="1.0"?><rdf:RDF '
                    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                    'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                    '<channel rdf:about="http://127.0.0.1/"><title>t</title></channel>'
                    f"{''.join(rdf)}</rdf:RDF>"
                ).encode(),
            )
        )
        feeds.append(
            (
                f"atom-{start}",
                (
                    '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                    "<title>t</title><id>urn:t</id><updated>2025-01-01T00:00:00Z</updated>"
                    f"{''.join(atom)}</feed>"
                ).encode(),
            )
        )
    return feeds


def test_fast_path_takes_and_equals_dev_newsroom_feeds(corpora: Path) -> None:
    feeds = newsroom_feeds(corpora)
    for name, body in feeds:
        assert compare(body) == "equal", name
        assert len(parse_entries(body, URL, CONTENT_TYPE) or []) > 0, name


def test_fast_path_declines_what_it_does_not_mirror() -> None:
    declined = [
        b"<rss version='2.0'><channel><item><title>a</title><title>b</title></item>"
        b"</channel></rss>",
        b'<rss version="0.91"><channel><item><title>a</title></item></channel></rss>',
        b'<rss version="2.0"><channel><item><title>a</title><source url="http://x/">b</source>'
        b"</item></channel></rss>",
        b'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item>'
        b"<title>caf\xe9</title></item></channel></rss>",
        b'<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><item>'
        b"<title>a</title><media:title>b</media:title></item></channel></rss>",
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="xhtml">'
        b'<div xmlns="http://www.w3.org/1999/xhtml">a</div></title></entry></feed>',
        b'<rss version="2.0"><channel><item><title>a &amp; <b>b</b></title></item></channel></rss>',
        b"<rss version='2.0'><channel><item><title>unclosed</channel></rss>",
    ]
    for body in declined:
        assert parse_entries(body, URL, CONTENT_TYPE) is None, body
    ok = b'<rss version="2.0"><channel><item><title>a</title></item></channel></rss>'
    assert parse_entries(ok, URL, "application/rss+xml; charset=utf-8") is not None
    assert parse_entries(ok, URL, "application/rss+xml; charset=iso-8859-1") is None
