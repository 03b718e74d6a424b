"""Issue 9 item 9: entity declarations are refused on the document as its parser decodes
it, whatever the encoding: UTF-16/32 with or without a BOM (and with leading whitespace),
UTF-7, EBCDIC, or an encoding named only by the Content-Type header."""

from __future__ import annotations

import codecs

import pytest

from monitor.errors import ParseError
from monitor.sources.base import parse_body
from monitor.sources.feed import FeedSource
from monitor.sources.html import HtmlSource
from monitor.sources.xmlguard import wide_encoding

BOMB = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<!DOCTYPE rss [<!ENTITY a "EXPANDED"><!ENTITY b "&a;&a;&a;&a;">]>\n'
    '<rss version="2.0"><channel><title>c</title>'
    "<item><title>&b;</title><link>http://example.com/a</link></item></channel></rss>"
)

FEED = FeedSource(name="f", kind="feed", url="http://example.com/feed")
HTML = HtmlSource(name="h", kind="html", url="http://example.com/", item="item")


def encoded(encoding: str, *, bom: bool = False, lead: str = "") -> bytes:
    text = lead + BOMB.format(encoding=encoding.upper().removesuffix("-LE").removesuffix("-BE"))
    data = text.encode(encoding)
    if bom:
        data = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(
            encoding, b""
        ) + data
    return data


CASES = {
    "utf-16-le, BOM": (encoded("utf-16-le", bom=True), None),
    "utf-16-le, no BOM": (encoded("utf-16-le"), None),
    "utf-16-be, no BOM": (encoded("utf-16-be"), None),
    "utf-16-le, no BOM, leading newline": (encoded("utf-16-le", lead="\n"), None),
    "utf-32-le, no BOM, leading spaces": (encoded("utf-32-le", lead="  "), None),
    "utf-32-be, no BOM, leading newline": (encoded("utf-32-be", lead="\n"), None),
    "utf-16 named only by Content-Type": (
        encoded("utf-16-le", lead="\n"),
        "application/rss+xml; charset=utf-16le",
    ),
    "utf-7": (BOMB.format(encoding="UTF-7").encode("utf-7"), None),
    "ebcdic cp500": (BOMB.format(encoding="cp500").encode("cp500"), None),
    "ebcdic cp037": (BOMB.format(encoding="cp037").encode("cp037"), None),
    "utf-8": (BOMB.format(encoding="utf-8").encode(), None),
}


@pytest.mark.parametrize(("body", "content_type"), CASES.values(), ids=CASES.keys())
def test_feed_refuses_entity_declarations_in_any_encoding(
    body: bytes, content_type: str | None
) -> None:
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_body(FEED, body, content_type=content_type)


@pytest.mark.parametrize(("body", "content_type"), CASES.values(), ids=CASES.keys())
def test_html_kind_refuses_entity_declarations_in_any_encoding(
    body: bytes, content_type: str | None
) -> None:
    # EBCDIC has no ASCII '<': the html kind refuses it before, as not a page at all
    why = "not an HTML page" if body.startswith(b"\x4c\x6f") else "declares XML entities"
    with pytest.raises(ParseError, match=why):
        parse_body(HTML, body, content_type=content_type)


def test_ordinary_wide_documents_still_parse() -> None:
    feed = (
        '\n<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>c</title>'
        "<item><title>Qwen3 ships</title><link>http://example.com/a</link></item>"
        "</channel></rss>"
    )
    for encoding in ("utf-16-le", "utf-16-be"):
        (item,) = parse_body(
            FEED,
            feed.encode(encoding),
            content_type=f"application/rss+xml; charset={encoding}",
        )
        assert item.title == "Qwen3 ships"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<?xml".encode("utf-16-le"), "utf-16-le"),
        ("\n <rss>".encode("utf-16-be"), "utf-16-be"),
        ("<rss>".encode("utf-32-le"), "utf-32-le"),
        ("<rss>".encode("utf-32-be"), "utf-32-be"),
        (codecs.BOM_UTF16_LE + "<rss>".encode("utf-16-le"), "utf-16"),
        (b"<?xml version='1.0'?><rss>", None),
        ("<p>中文 标题</p>".encode(), None),
        (b"", None),
    ],
)
def test_wide_encoding_sniffing(body: bytes, expected: str | None) -> None:
    assert wide_encoding(body) == expected
