"""PostgreSQL databases of this worktree's own for the worker tests, and the loopback
newsroom: the dev corpora's items served as RSS feeds by ``tests/httpserver.py``.

The server is ``$MONITOR_TEST_PG_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/
postgres`` (only used to create and drop databases named ``worker_<pid>_<n>``). Where it
cannot be reached, the tests that need it skip with one reason saying so.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import URL, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tests.httpserver import LocalServer, Reply

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_numbers = itertools.count(1)


def pg_server() -> URL:
    return make_url(os.environ.get("MONITOR_TEST_PG_URL") or DEFAULT_SERVER)


def url_string(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _admin() -> object:
    return create_engine(
        pg_server(),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 3},
    )


def unreachable_reason() -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'monitor[postgres]')"
    engine = _admin()
    try:
        with engine.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        where = pg_server().render_as_string(hide_password=True)
        return f"PostgreSQL at {where} is unreachable: {first}"
    finally:
        engine.dispose()  # type: ignore[attr-defined]
    return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (dropped afterwards) as a --db URL."""
    why = unreachable_reason()
    if why:
        pytest.skip(why)
    name = f"worker_{os.getpid()}_{next(_numbers)}"
    engine = _admin()
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield url_string(pg_server().set(database=name))
    finally:
        with engine.connect() as conn:  # type: ignore[attr-defined]
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        engine.dispose()  # type: ignore[attr-defined]


# --- the loopback newsroom -------------------------------------------------------------------


def corpus_items(corpora: Path) -> list[dict[str, object]]:
    items = []
    for name in ("dev-en.jsonl", "dev-multi.jsonl"):
        for line in (corpora / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                items.append(json.loads(line))
    return items


def rss_feed(items: list[dict[str, object]]) -> bytes:
    entries = []
    for it in items:
        when = datetime.fromisoformat(str(it["published"]).replace("Z", "+00:00"))
        entries.append(
            f"<item><title>{escape(str(it['title']))}</title><link>{escape(str(it['url']))}"
            f"</link><guid>{escape(str(it['url']))}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{escape(str(it['text']))}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<link>http://127.0.0.1/</link><description>d</description>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def serve_newsroom(
    server: LocalServer,
    corpora: Path,
    per_feed: int = 20,
    delay: float = 0.0,
    copies: int = 1,
) -> list[tuple[str, str]]:
    """Serve the corpora's items as feeds of ``per_feed`` items, dealt round-robin so one
    story's reports land in different feeds; returns (source name, URL) pairs. ``copies``
    re-publishes each item that many times (other URL and title: other items, same facts)."""
    items = [
        {**it, "url": f"{it['url']}-{n}", "title": f"{it['title']} ({n})"} if n else it
        for n in range(copies)
        for it in corpus_items(corpora)
    ]
    count = max(1, len(items) // per_feed)
    feeds: list[list[dict[str, object]]] = [[] for _ in range(count)]
    for n, it in enumerate(items):
        feeds[n % count].append(it)
    sources = []
    for n, chunk in enumerate(feeds):
        path = f"/feed-{n:02d}.xml"
        server.route(
            path,
            Reply(
                body=rss_feed(chunk),
                headers={"Content-Type": "application/rss+xml"},
                delay=delay,
            ),
        )
        sources.append((f"feed-{n:02d}", server.url(path)))
    return sources


def sources_yaml(sources: list[tuple[str, str]], extra: str = "") -> str:
    lines = ["sources:"]
    for name, url in sources:
        lines += [f"  - name: {name}", "    kind: feed", f"    url: {url}"]
    return "\n".join(lines) + "\n" + extra
