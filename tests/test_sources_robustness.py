"""Every kind, and article reading, on hostile or mangled input: items or ParseError,
never another exception (a sample of the corpora, cut in half or behind random bytes)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from monitor.errors import ParseError
from monitor.sources import FeedSource, HtmlSource, JsonSource, get_kind
from monitor.sources.article import read_article

URL = "https://x.example/"
HTML = HtmlSource(name="h", kind="html", url=URL, item="a, item, entry, p", date="time")
JSON = JsonSource(name="j", kind="json", url=URL, fields={"title": "title", "url": "link"})
FEED = FeedSource(name="f", kind="feed", url=URL)

PARSERS: dict[str, Callable[[bytes], object]] = {
    "feed": lambda body: get_kind("feed").parse(body, source=FEED, url=URL),
    "html": lambda body: get_kind("html").parse(body, source=HTML, url=URL),
    "json": lambda body: get_kind("json").parse(body, source=JSON, url=URL),
    "article": lambda body: read_article(body, URL),
}


def mangled(body: bytes, rng: random.Random) -> list[bytes]:
    noise = bytes(rng.randrange(256) for _ in range(64))
    return [body, body[: len(body) // 2], noise + body[:2000], body[:3000] + noise]


def test_parsers_never_raise_anything_but_parse_error(corpora: Path) -> None:
    rng = random.Random(20251128)
    feeds = sorted(p for p in (corpora / "feedparser-tests" / "tests").rglob("*") if p.is_file())
    pages = sorted((corpora / "trafilatura-pages").rglob("*.html"))
    sample = feeds[::25] + pages[::20]
    assert len(sample) > 80
    outcomes: dict[str, int] = {"ok": 0, "parse-error": 0}
    for path in sample:
        for body in mangled(path.read_bytes()[:60_000], rng):
            for name, parse in PARSERS.items():
                try:
                    parse(body)
                except ParseError:
                    outcomes["parse-error"] += 1
                except Exception as exc:  # the assertion this test exists for
                    raise AssertionError(f"{name} on {path.name}: {exc!r}") from exc
                else:
                    outcomes["ok"] += 1
    assert outcomes["ok"] > 0 and outcomes["parse-error"] > 0
