"""Items are stored once: by GUID per source, by canonical URL, by content hash."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from monitor.store.db import session_factory, transaction
from monitor.store.items import canonical_url, get_or_create_source, store_items
from monitor.store.models import ItemRow
from monitor.types import Item


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://Example.com/a?utm_source=x&id=1", "http://www.example.com/a?id=1"),
        ("https://example.com/a/#comments", "https://example.com/a"),
        ("https://example.com:443/a?b=2&a=1&fbclid=z", "https://example.com/a?a=1&b=2"),
    ],
    ids=["tracking-and-www", "fragment-slash", "port-order-fbclid"],
)
def test_canonical_url_equivalents(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_canonical_url_keeps_meaningful_query() -> None:
    assert canonical_url("https://e.com/a?id=1") != canonical_url("https://e.com/a?id=2")
    assert canonical_url("mailto:x@y.z") is None


def test_store_items_dedupes_across_passes(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    items = [
        Item(title="A", text="one", url="https://e.com/a?utm_medium=rss", guid="g1"),
        Item(title="B", text="two", url="https://e.com/b", guid="g2"),
        Item(title="A again", text="other", url="https://e.com/a", guid="g3"),  # same URL
        Item(title="  b ", text="TWO", url="https://e.com/b2", guid="g4"),  # same content
    ]
    with transaction(sessions) as s:
        src = get_or_create_source(s, "wire", "feed", "https://e.com/feed")
        assert len(store_items(s, src, items)) == 2
    with transaction(sessions) as s:
        src = get_or_create_source(s, "wire", "feed", "https://e.com/feed")
        assert store_items(s, src, items) == []
        other = get_or_create_source(s, "other", "feed", "https://o.com/feed")
        # GUIDs are per source: g1 elsewhere is a different item when URL and text differ.
        new = store_items(s, other, [Item(title="C", text="three", guid="g1")])
        assert len(new) == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ItemRow)) == 3
