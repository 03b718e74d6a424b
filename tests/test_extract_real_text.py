"""Extraction on real text that is not about the tracked companies (issue 10).

Real news is full of brand collisions ("o2", the carrier; "R1", a motorbike): the real
pages of trafilatura's corpus that name no tracked company, and every entry of
feedparser's test feeds, must give no fact at all.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.extract import Extractor, default_watchlist
from monitor.sources import FeedSource, get_kind
from monitor.sources.article import read_article
from monitor.types import Item

URL = "https://x.example/"


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(default_watchlist())


def _names_a_tracked_company(text: str) -> bool:
    """Any alias, product or family name of the watchlist, as a whole word, any case."""
    watchlist = default_watchlist()
    words: list[str] = []
    for company in watchlist.companies.values():
        words += company.all_aliases() + company.products
        for family in company.models + company.chips:
            words += family.names
    pattern = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    return re.search(rf"(?<!\w)(?:{pattern})(?!\w)", text, re.IGNORECASE) is not None


def test_no_fact_on_real_pages_naming_no_tracked_company(
    corpora: Path, extractor: Extractor
) -> None:
    pages = sorted((corpora / "trafilatura-pages").rglob("*.html"))
    assert len(pages) > 150
    checked = 0
    for path in pages:
        try:
            article = read_article(path.read_bytes(), URL)
        except ParseError:
            continue
        item = Item(title=article.title or "", text=article.text)
        if _names_a_tracked_company(f"{item.title}\n{item.text}"):
            continue
        checked += 1
        assert extractor.extract(item) == [], path.name
    assert checked > 100


def test_no_fact_in_feedparser_test_feeds(corpora: Path, extractor: Extractor) -> None:
    feeds = sorted(p for p in (corpora / "feedparser-tests" / "tests").rglob("*") if p.is_file())
    assert len(feeds) > 2000
    kind = get_kind("feed")
    source = FeedSource(name="f", kind="feed", url=URL)
    items = 0
    for path in feeds:
        try:
            parsed = kind.parse(path.read_bytes(), source=source, url=URL)
        except ParseError:
            continue
        for item in parsed:
            items += 1
            assert extractor.extract(item) == [], path.name
    assert items > 500
