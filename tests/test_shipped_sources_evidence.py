"""Issue 9 item 12: the shipped sources.yaml, checked against public evidence, and the
two Anthropic news mirrors folded into one item per story by the cross-source dedupe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine, select

from monitor.config import Config, load_config
from monitor.fetch import Fetcher
from monitor.poll import run_pass
from monitor.store.db import session_factory
from monitor.store.models import ItemRow, SourceRow
from tests.httpserver import LocalServer, Reply

SHIPPED = Path(__file__).resolve().parent.parent / "sources.yaml"
RSS = {"Content-Type": "application/rss+xml"}


@pytest.fixture(scope="module")
def shipped() -> Config:
    return load_config(SHIPPED)


def by_name(config: Config) -> dict[str, object]:
    return {source.name: source for source in config.sources}


def test_36kr_is_read_from_www(shipped: Config) -> None:
    url = str(by_name(shipped)["36kr"].url)  # type: ignore[attr-defined]
    assert urlsplit(url).hostname == "www.36kr.com" and url.endswith("/feed")


def test_the_dormant_deepseek_v3_repository_is_polled_daily(shipped: Config) -> None:
    source = by_name(shipped)["github-deepseek-v3"]
    assert source.effective(shipped.defaults).every == timedelta(days=1)  # type: ignore[attr-defined]


def test_two_independent_anthropic_news_mirrors(shipped: Config) -> None:
    mirrors = [s for s in shipped.sources if "anthropic" in s.name and "gnews" not in s.name]
    assert len(mirrors) == 2 and all(s.enabled and s.kind == "feed" for s in mirrors)
    # independent: different maintainers (different repositories), not two paths of one
    owners = {urlsplit(str(s.url)).path.split("/")[1].lower() for s in mirrors}
    assert len(owners) == 2


def test_openai_feed_is_never_followed_and_says_why(shipped: Config) -> None:
    source = by_name(shipped)["openai-news"]
    assert not getattr(source, "follow", False)
    assert not any(
        getattr(s, "follow", False) and "openai.com" in str(s.url) for s in shipped.sources
    )
    text = SHIPPED.read_text(encoding="utf-8")
    block = text[: text.index("- name: openai-news")].rsplit("\n\n", 1)[-1]
    assert "follow" in block and "refuse" in block  # the comment above it says why


def mirror_feed(style: str, stories: list[tuple[str, str]]) -> bytes:
    """A feed shaped like one of the two mirrors: the same www.anthropic.com/news links,
    different channel metadata, GUID styles and item order."""
    items = []
    for slug, title in stories:
        link = f"https://www.anthropic.com/news/{slug}"
        permalink = "true" if style == "taobojlen" else "false"
        category = "" if style == "taobojlen" else "<category>Announcements</category>"
        items.append(
            f"<item><title>{title}</title><link>{link}</link><description>{title}"
            f'</description><guid isPermaLink="{permalink}">{link}</guid>{category}'
            "<pubDate>Tue, 17 Feb 2026 00:00:00 +0000</pubDate></item>"
        )
    if style == "olshansk":
        items.reverse()
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Anthropic News ({style})</title><link>https://www.anthropic.com/news</link>"
        f"<description>mirror</description>{''.join(items)}</channel></rss>"
    ).encode()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(retry_backoff=0.01)
    yield f
    f.close()


def test_cross_source_dedupe_folds_the_two_mirrors(
    tmp_path: Path, http_server: LocalServer, fresh_db: Engine, fetcher: Fetcher
) -> None:
    shared = [("claude-sonnet-4-6", "Introducing Claude Sonnet 4.6")]
    http_server.route(
        "/taobojlen.xml",
        Reply(body=mirror_feed("taobojlen", [*shared, ("mars", "Claude on Mars")]), headers=RSS),
    )
    http_server.route(
        "/olshansk.xml",
        Reply(body=mirror_feed("olshansk", [*shared, ("rwanda-mou", "Rwanda MOU")]), headers=RSS),
    )
    # the shipped two mirror entries, pointed at the local copies
    names = [s.name for s in load_config(SHIPPED).sources if s.name.startswith("anthropic-news")]
    config_path = tmp_path / "sources.yaml"
    config_path.write_text(
        "defaults:\n  jitter: 0\nsources:\n"
        f"  - name: {names[0]}\n    kind: feed\n    url: {http_server.url('/taobojlen.xml')}\n"
        f"  - name: {names[1]}\n    kind: feed\n    url: {http_server.url('/olshansk.xml')}\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    sessions = session_factory(fresh_db)
    outcomes = run_pass(config, sessions, fetcher)
    assert sorted(o.new_items for o in outcomes) == [1, 2]  # the shared story once
    with sessions() as session:
        rows = session.execute(select(ItemRow.url, SourceRow.name).join(SourceRow)).all()
    urls = [url for url, _ in rows]
    assert len(urls) == len(set(urls)) == 3
    assert urls.count("https://www.anthropic.com/news/claude-sonnet-4-6") == 1
