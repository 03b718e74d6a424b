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


def test_store_many_items_dedupes_across_chunks(fresh_db: Engine) -> None:
    """More keys than one lookup statement takes (KEY_CHUNK), from several sources: every
    key kind is still found, in every chunk, and the rows come back in the order given."""
    from monitor.store.items import KEY_CHUNK, insert_source_items, store_source_items

    sessions = session_factory(fresh_db)
    count = KEY_CHUNK + 50  # per source: two chunks of GUIDs, four of URLs and hashes

    def item(name: str, i: int, *, guid: str = "", url: str = "", text: str = "") -> Item:
        return Item(
            title=f"{name} {i}",
            text=text or f"story {i} of {name}",
            url=url or f"https://e.com/{name}/{i}",
            guid=guid or f"g{i}",
            extra={"n": i} if i % 2 else {},
            lang="en" if i % 3 else "x" * 40,  # too long for a language tag: dropped
        )

    with transaction(sessions) as s:
        src = {n: get_or_create_source(s, n, "feed", f"https://{n}.example/") for n in "abc"}
        pairs = [(src[n], item(n, i)) for n in "abc" for i in range(count)]
        rows = store_source_items(s, pairs)
        assert [(r.source_id, r.guid_key, r.title) for r in rows] == [
            (src[n].id, f"g{i}", f"{n} {i}") for n in "abc" for i in range(count)
        ]
        assert rows[1].extra == {"n": 1} and rows[2].extra is None
        assert rows[1].lang == "en" and rows[0].lang is None
        assert all(src[n].items_count == count for n in "abc")

    def variant(name: str, i: int) -> Item:
        """Item ``i`` of source ``name`` again, the same by one key only (GUID, URL or
        content), so every chunk of every key kind holds keys that must be found."""
        if i % 3 == 0:
            return item(name, i, url=f"https://other.example/{name}/{i}", text=f"new {i}")
        if i % 3 == 1:
            url = f"https://www.e.com/{name}/{i}?utm_source=x"
            return item(name, i, guid=f"v{i}", url=url, text=f"other {i}")
        title, text = f"{name} {i}".upper(), f" story {i}\n of  {name}"
        return Item(title=title, text=text, url=f"https://e.com/v/{name}/{i}", guid=f"v{i}")

    with transaction(sessions) as s:
        src = {n: get_or_create_source(s, n, "feed", f"https://{n}.example/") for n in "abcd"}
        again = [(src[n], variant(n, i)) for n in "abc" for i in range(count)]
        again += [
            (src["d"], item("d", 1, guid="g1", text="new in d")),  # g1 of another source
            (src["a"], item("a", 5000)),
        ]
        assert insert_source_items(s, again) == 2
        assert src["d"].items_count == 1 and src["a"].items_count == count + 1
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(ItemRow)) == 3 * count + 2


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("post-123", None),  # a GUID, not a URL
        ("tag:example.com,2005:entry-1", None),
        ("  https://WWW.Example.com:8080/a/?b=1&utm_source=x&a=2 ", "example.com:8080/a?a=2&b=1"),
        ("http://e.com/a?&", "e.com/a"),  # a query of nothing
        ("https://e.com", "e.com/"),
        ("ftp://e.com/a", None),
    ],
)
def test_canonical_url_keys(url: str, key: str | None) -> None:
    assert canonical_url(url) == key


def test_content_hash_is_stable() -> None:
    """Stored items are found again by this hash: its normalisation must not change
    (whitespace of every kind folded to one space, case folded)."""
    import hashlib
    import re

    from monitor.store.items import content_hash

    item = Item(title=" Qwen\u3000 3\t", text="\x1c Launch\u00a0in\n\nJOHOR  ")
    legacy = re.sub(r"\s+", " ", f"{item.title}\n{item.text}".lower()).strip()
    assert content_hash(item) == hashlib.sha256(legacy.encode("utf-8")).hexdigest()
    assert content_hash(item) == hashlib.sha256(b"qwen 3 launch in johor").hexdigest()
