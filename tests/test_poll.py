"""Polling passes end to end: a real loopback HTTP server, a real SQLite file, the real kinds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config, load_config
from monitor.errors import ConfigError
from monitor.fetch import Fetcher
from monitor.poll import run_pass
from monitor.store.db import session_factory
from monitor.store.models import ItemRow, SourceRow
from tests.httpserver import LocalServer, Reply, Request

FIXTURES = Path(__file__).parent / "fixtures_fetch"
T0 = datetime(2026, 11, 28, 12, 0, 0)
RSS = {"Content-Type": "application/rss+xml"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def write_config(tmp_path: Path, sources: str, defaults: str = "") -> Config:
    text = "defaults:\n  jitter: 0\n" + defaults + "sources:\n" + sources
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def sessions(fresh_db: Engine) -> sessionmaker[Session]:
    return session_factory(fresh_db)


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(retry_backoff=0.01, read_timeout=5)
    yield f
    f.close()


def feed_source(name: str, url: str, extra: str = "") -> str:
    return f"  - name: {name}\n    kind: feed\n    url: {url}\n{extra}"


def source_row(sessions: sessionmaker[Session], name: str) -> SourceRow:
    with sessions() as session:
        row = session.scalars(select(SourceRow).where(SourceRow.name == name)).one()
        session.expunge(row)
        return row


def item_titles(sessions: sessionmaker[Session], source: str | None = None) -> list[str]:
    with sessions() as session:
        query = select(ItemRow.title).join(SourceRow)
        if source:
            query = query.where(SourceRow.name == source)
        return sorted(session.scalars(query))


def item_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ItemRow)) or 0


def validating_feed(body: bytes, etag: str, last_modified: str) -> object:
    """A handler answering 304 when the client echoes the validators it was given."""

    def handler(req: Request) -> Reply:
        if (
            req.headers.get("If-None-Match") == etag
            or req.headers.get("If-Modified-Since") == last_modified
        ):
            return Reply(status=304, headers={"ETag": etag})
        return Reply(body=body, headers={**RSS, "ETag": etag, "Last-Modified": last_modified})

    return handler


def test_items_stored_once_and_304_stores_nothing(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    lm = "Tue, 04 Nov 2025 09:30:00 GMT"
    http_server.route("/rss", validating_feed(fixture("rss2.xml"), '"rss-v1"', lm))  # type: ignore[arg-type]
    config = write_config(tmp_path, feed_source("qwen-blog", http_server.url("/rss")))

    first = run_pass(config, sessions, fetcher, now=T0)
    assert [(o.name, o.status, o.new_items) for o in first] == [("qwen-blog", "fetched", 2)]
    assert item_titles(sessions) == ["New region in Mexico", "Qwen3-Max released"]
    row = source_row(sessions, "qwen-blog")
    assert (row.etag, row.last_modified) == ('"rss-v1"', lm)
    assert row.items_count == 2

    second = run_pass(config, sessions, fetcher, force_all=True, now=T0 + timedelta(hours=1))
    assert [(o.status, o.new_items) for o in second] == [("not-modified", 0)]
    sent = http_server.requests[-1].headers
    assert sent["If-None-Match"] == '"rss-v1"' and sent["If-Modified-Since"] == lm
    assert item_count(sessions) == 2
    row = source_row(sessions, "qwen-blog")
    assert row.last_success_at == T0 + timedelta(hours=1) and row.last_status == "not-modified"


def test_repeated_passes_without_validators_store_nothing_twice(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/rss", Reply(body=fixture("rss2.xml"), headers=RSS))
    config = write_config(tmp_path, feed_source("qwen-blog", http_server.url("/rss")))
    outcomes = [
        run_pass(config, sessions, fetcher, force_all=True, now=T0 + timedelta(hours=i))[0]
        for i in range(3)
    ]
    assert [o.new_items for o in outcomes] == [2, 0, 0]
    assert all(o.status == "fetched" for o in outcomes)
    assert item_count(sessions) == 2
    assert http_server.counts["/rss"] == 3


def test_schedule_due_and_not_due(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/rss", Reply(body=fixture("rss2.xml"), headers=RSS))
    config = write_config(
        tmp_path, feed_source("qwen-blog", http_server.url("/rss"), "    every: 30m\n")
    )
    run_pass(config, sessions, fetcher, now=T0)
    assert source_row(sessions, "qwen-blog").next_due_at == T0 + timedelta(minutes=30)
    early = run_pass(config, sessions, fetcher, now=T0 + timedelta(minutes=10))
    assert early[0].status == "skipped" and "not due" in (early[0].error or "")
    assert http_server.counts["/rss"] == 1
    named = run_pass(config, sessions, fetcher, only=["qwen-blog"], now=T0 + timedelta(minutes=10))
    assert named[0].status == "fetched"  # --source ignores the schedule
    due = run_pass(config, sessions, fetcher, now=T0 + timedelta(minutes=41))
    assert due[0].status == "fetched" and http_server.counts["/rss"] == 3


def test_unknown_source_name_is_a_config_error(
    tmp_path: Path, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    config = write_config(tmp_path, feed_source("a", "http://127.0.0.1:1/x"))
    with pytest.raises(ConfigError, match="unknown source 'nope'"):
        run_pass(config, sessions, fetcher, only=["nope"], now=T0)


def test_body_over_cap_fails_only_that_source(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/big", Reply(body=b"<rss>" + b"x" * 20_000 + b"</rss>", headers=RSS))
    http_server.route("/rss", Reply(body=fixture("rss2.xml"), headers=RSS))
    config = write_config(
        tmp_path,
        feed_source("huge", http_server.url("/big"), "    max_body: 16KiB\n")
        + feed_source("fine", http_server.url("/rss"), "    max_body: 16KiB\n"),
    )
    outcomes = {o.name: o for o in run_pass(config, sessions, fetcher, now=T0)}
    assert outcomes["huge"].status == "failed"
    assert outcomes["huge"].describe().startswith("huge: failed: body larger than the 16 KiB cap")
    assert outcomes["fine"].status == "fetched" and outcomes["fine"].new_items == 2
    assert "cap" in (source_row(sessions, "huge").last_error or "")


def test_a_hung_and_a_failing_source_do_not_hold_back_the_others(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session]
) -> None:
    # The hung source cannot answer before the healthy one has been served (and then too
    # late for the read timeout): a pass that waited on it before fetching the others
    # would report the hung source finished first.
    healthy_served = threading.Event()

    def hang(req: Request) -> Reply:
        healthy_served.wait(5)
        return Reply(delay=3.0, body=b"too late")

    def healthy(req: Request) -> Reply:
        healthy_served.set()
        return Reply(body=fixture("atom.xml"), headers={"Content-Type": "application/atom+xml"})

    http_server.route("/hang", hang)
    http_server.route("/500", lambda req: Reply(status=500, delay=0.3))
    http_server.route("/ok", healthy)
    config = write_config(
        tmp_path,
        feed_source("hung", http_server.url("/hang"))
        + feed_source("broken", http_server.url("/500"))
        + feed_source("ok", http_server.url("/ok")),
        defaults="  concurrency: 3\n  per_host: 3\n  read_timeout: 1.5\n  retries: 1\n",
    )
    fetcher = Fetcher.from_defaults(config.defaults, retry_backoff=0.01)
    finished: list[str] = []
    outcomes = {
        o.name: o
        for o in run_pass(
            config, sessions, fetcher, now=T0, on_outcome=lambda o: finished.append(o.name)
        )
    }
    assert outcomes["ok"].status == "fetched" and outcomes["ok"].new_items == 2
    assert finished.index("ok") < finished.index("hung")
    assert finished.index("ok") < finished.index("broken")
    assert outcomes["hung"].status == "failed" and "timed out" in (outcomes["hung"].error or "")
    assert outcomes["broken"].status == "failed" and "HTTP 500" in (outcomes["broken"].error or "")
    assert http_server.counts["/500"] == 2  # one retry
    http_server.route("/hang", Reply(status=404))  # keeps later passes quick
    # Backoff state: failures counted, next try pushed out exponentially.
    broken = source_row(sessions, "broken")
    assert broken.consecutive_failures == 1 and broken.failing_since == T0
    assert broken.next_due_at == T0 + timedelta(minutes=60)  # every (30m) * 2^1
    # Not retried while backing off, retried once due; the streak grows, then clears.
    later = run_pass(config, sessions, fetcher, now=T0 + timedelta(minutes=45))
    assert {o.name: o.status for o in later}["broken"] == "skipped"
    run_pass(config, sessions, fetcher, only=["broken"], now=T0 + timedelta(minutes=61))
    broken = source_row(sessions, "broken")
    assert broken.consecutive_failures == 2 and broken.failing_since == T0
    assert broken.next_due_at == T0 + timedelta(minutes=61 + 120)
    http_server.route("/500", Reply(body=fixture("rss2.xml"), headers=RSS))
    run_pass(config, sessions, fetcher, now=T0 + timedelta(minutes=200))
    broken = source_row(sessions, "broken")
    assert broken.consecutive_failures == 0 and broken.failing_since is None
    assert broken.last_success_at == T0 + timedelta(minutes=200)
    assert broken.last_error and "HTTP 500" in broken.last_error  # kept for `status`
    fetcher.close()


def test_backoff_is_capped(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/500", Reply(status=404))
    config = write_config(
        tmp_path,
        feed_source("broken", http_server.url("/500"), "    every: 1h\n"),
        defaults="  max_backoff: 6h\n",
    )
    now = T0
    for _ in range(5):
        run_pass(config, sessions, fetcher, force_all=True, now=now)
        now += timedelta(minutes=1)
    row = source_row(sessions, "broken")
    assert row.consecutive_failures == 5
    assert row.next_due_at == now - timedelta(minutes=1) + timedelta(hours=6)


def test_retry_after_defers_that_source_only(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/limited", Reply(status=429, headers={"Retry-After": "3600"}))
    http_server.route("/rss", Reply(body=fixture("rss2.xml"), headers=RSS))
    config = write_config(
        tmp_path,
        feed_source("limited", http_server.url("/limited"), "    every: 5m\n")
        + feed_source("neighbour", http_server.url("/rss"), "    every: 5m\n"),
    )
    first = {o.name: o for o in run_pass(config, sessions, fetcher, now=T0)}
    assert first["limited"].status == "failed" and "429" in (first["limited"].error or "")
    row = source_row(sessions, "limited")
    assert row.retry_after_until == T0 + timedelta(hours=1)
    # 10 minutes later: the neighbour on the same host is due and fetched; the limited
    # source is not asked again, even when named explicitly or with --all.
    later = T0 + timedelta(minutes=10)
    for kwargs in ({}, {"force_all": True}, {"only": ["limited", "neighbour"]}):
        outcomes = {o.name: o for o in run_pass(config, sessions, fetcher, now=later, **kwargs)}  # type: ignore[arg-type]
        assert outcomes["limited"].status == "skipped"
        assert "asked to wait" in (outcomes["limited"].error or "")
        later += timedelta(minutes=6)
    assert http_server.counts["/limited"] == 1
    assert http_server.counts["/rss"] == 4
    after = run_pass(config, sessions, fetcher, now=T0 + timedelta(hours=1, seconds=1))
    assert {o.name: o.status for o in after}["limited"] == "failed"
    assert http_server.counts["/limited"] == 2


def test_every_kind_through_a_full_pass(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/rss2", Reply(body=fixture("rss2.xml"), headers=RSS))
    http_server.route(
        "/atom", Reply(body=fixture("atom.xml"), headers={"Content-Type": "application/atom+xml"})
    )
    http_server.route(
        "/rss1", Reply(body=fixture("rss1.xml"), headers={"Content-Type": "application/rdf+xml"})
    )
    html = {"Content-Type": "text/html; charset=utf-8"}
    http_server.route("/news/", Reply(body=fixture("listing.html"), headers=html))
    http_server.route("/news/v3-2.html", Reply(body=fixture("article_v3-2.html"), headers=html))
    http_server.route("/news/r1.html", Reply(body=fixture("article_r1.html"), headers=html))
    js = {"Content-Type": "application/json"}
    http_server.route("/api/models", Reply(body=fixture("hf_models.json"), headers=js))
    http_server.route("/repos/releases", Reply(body=fixture("gh_releases.json"), headers=js))
    config = write_config(
        tmp_path,
        feed_source("rss2", http_server.url("/rss2"))
        + feed_source("atom", http_server.url("/atom"))
        + feed_source("rss1", http_server.url("/rss1"), "    lang: zh\n")
        + f"""  - name: deepseek-news
    kind: html
    url: {http_server.url("/news/")}
    item: li.post
    date: time
    follow: true
  - name: hf-qwen
    kind: json
    preset: huggingface
    url: {http_server.url("/api/models?author=Qwen")}
  - name: gh-deepep
    kind: json
    preset: github-releases
    url: {http_server.url("/repos/releases")}
""",
    )
    outcomes = {o.name: o for o in run_pass(config, sessions, fetcher, now=T0)}
    assert {n: (o.status, o.new_items) for n, o in outcomes.items()} == {
        "rss2": ("fetched", 2),
        "atom": ("fetched", 2),
        "rss1": ("fetched", 1),
        "deepseek-news": ("fetched", 2),
        "hf-qwen": ("fetched", 2),
        "gh-deepep": ("fetched", 1),  # the draft is skipped
    }
    assert item_titles(sessions, "atom") == ["DeepSeek-V3.1", "DeepSeek-V3.2"]
    assert item_titles(sessions, "rss1") == ["华为云利雅得区域开服"]
    assert item_titles(sessions, "hf-qwen") == [
        "Qwen/Qwen3-Next-80B-A3B-Instruct",
        "Qwen/Qwen3-VL-235B-A22B-Instruct",
    ]
    with sessions() as session:
        articles = {
            row.url.rsplit("/", 1)[-1]: row
            for row in session.scalars(
                select(ItemRow).join(SourceRow).where(SourceRow.name == "deepseek-news")
            )
            if row.url
        }
    # follow: true fetched each article page and took its main text.
    assert "sparse attention" in articles["v3-2.html"].text
    assert "hallucinations" in articles["r1.html"].text
    assert http_server.counts["/news/v3-2.html"] == 1
    # A second pass does not follow articles already stored.
    again = run_pass(config, sessions, fetcher, only=["deepseek-news"], now=T0)
    assert again[0].new_items == 0
    assert http_server.counts["/news/v3-2.html"] == 1 and http_server.counts["/news/"] == 2


def test_a_parse_error_fails_the_source_with_a_reason(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/notjson", Reply(body=b"<html>oops</html>"))
    config = write_config(
        tmp_path,
        f"""  - name: api
    kind: json
    preset: huggingface
    url: {http_server.url("/notjson")}
""",
    )
    [outcome] = run_pass(config, sessions, fetcher, now=T0)
    assert outcome.status == "failed" and "not JSON" in (outcome.error or "")
    assert "\n" not in outcome.describe()


def test_malformed_feed_corpus_goes_through_one_pass(
    corpora: Path, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    """Every ill-formed and odd-encoding feed of the feedparser corpus, served over HTTP as
    one source each, in a single pass: each ends fetched or failed, none crashes it."""
    root = corpora / "feedparser-tests" / "tests"
    files = sorted(
        [
            *root.glob("illformed/**/*.xml"),
            *root.glob("encoding/*.xml"),
            *root.glob("entities/*.xml"),
            *root.glob("json/*"),
        ]
    )
    assert len(files) > 350
    server = LocalServer()
    try:
        lines = []
        for i, path in enumerate(files):
            route = f"/f{i}"
            server.route(route, Reply(body=path.read_bytes(), headers={"Content-Type": "text/xml"}))
            lines.append(feed_source(f"f{i}", server.url(route)))
        config = write_config(
            tmp_path, "".join(lines), defaults="  concurrency: 16\n  per_host: 16\n  retries: 0\n"
        )
        fetcher = Fetcher.from_defaults(config.defaults)
        outcomes = run_pass(config, sessions, fetcher, now=T0)
        fetcher.close()
    finally:
        server.close()
    assert len(outcomes) == len(files)
    statuses = {o.status for o in outcomes}
    assert statuses <= {"fetched", "failed"}
    unexpected = [o for o in outcomes if o.error and o.error.startswith("unexpected")]
    assert not unexpected, unexpected[:3]
    assert sum(o.status == "fetched" for o in outcomes) > len(files) // 2
    assert item_count(sessions) > 0


def test_validators_are_saved_only_with_the_items(
    tmp_path: Path,
    http_server: LocalServer,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pass interrupted while storing keeps no ETag: the next pass refetches in full."""
    lm = "Tue, 04 Nov 2025 09:30:00 GMT"
    http_server.route("/rss", validating_feed(fixture("rss2.xml"), '"v1"', lm))  # type: ignore[arg-type]
    config = write_config(tmp_path, feed_source("qwen-blog", http_server.url("/rss")))
    import monitor.poll

    def crash(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(monitor.poll, "insert_source_items", crash)
    [outcome] = run_pass(config, sessions, fetcher, now=T0)
    assert outcome.status == "failed" and "disk full" in (outcome.error or "")
    row = source_row(sessions, "qwen-blog")
    assert row.etag is None and row.last_modified is None and item_count(sessions) == 0
    monkeypatch.undo()
    [outcome] = run_pass(config, sessions, fetcher, force_all=True, now=T0)
    assert "If-None-Match" not in http_server.requests[-1].headers
    assert (outcome.status, outcome.new_items) == ("fetched", 2)


def test_follow_leftovers_wait_for_the_next_full_fetch(
    tmp_path: Path,
    http_server: LocalServer,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import monitor.follow

    monkeypatch.setattr(monitor.follow, "MAX_FOLLOW", 1)
    html = {"Content-Type": "text/html; charset=utf-8"}

    def listing(req: Request) -> Reply:
        if req.headers.get("If-None-Match") == '"l1"':
            return Reply(status=304)
        return Reply(body=fixture("listing.html"), headers={**html, "ETag": '"l1"'})

    http_server.route("/news/", listing)
    http_server.route("/news/v3-2.html", Reply(body=fixture("article_v3-2.html"), headers=html))
    http_server.route("/news/r1.html", Reply(body=fixture("article_r1.html"), headers=html))
    config = write_config(
        tmp_path,
        f"  - name: news\n    kind: html\n    url: {http_server.url('/news/')}\n"
        "    item: li.post\n    follow: true\n",
    )
    first = run_pass(config, sessions, fetcher, now=T0)
    assert first[0].new_items == 1
    assert source_row(sessions, "news").etag is None  # one item still to follow
    second = run_pass(config, sessions, fetcher, force_all=True, now=T0)
    assert second[0].new_items == 1
    assert source_row(sessions, "news").etag == '"l1"'
    third = run_pass(config, sessions, fetcher, force_all=True, now=T0)
    assert third[0].status == "not-modified"
    assert http_server.counts["/news/v3-2.html"] == http_server.counts["/news/r1.html"] == 1


def test_scheduled_runs_follow_backoff_not_the_success_schedule(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    """The daemon's jobs: a healthy source runs whenever its job fires; a failing one waits
    for its back-off."""
    http_server.route("/rss", Reply(body=fixture("rss2.xml"), headers=RSS))
    http_server.route("/bad", Reply(status=404))
    config = write_config(
        tmp_path,
        feed_source("ok", http_server.url("/rss"), "    every: 10m\n")
        + feed_source("bad", http_server.url("/bad"), "    every: 10m\n"),
    )
    run_pass(config, sessions, fetcher, now=T0)
    soon = T0 + timedelta(minutes=9, seconds=59)  # the job fired a little early
    outcomes = {
        o.name: o.status
        for o in run_pass(config, sessions, fetcher, only=["ok", "bad"], scheduled=True, now=soon)
    }
    assert outcomes == {"ok": "fetched", "bad": "skipped"}  # bad backs off until T0+20m
    later = T0 + timedelta(minutes=20)
    outcomes = {
        o.name: o.status
        for o in run_pass(config, sessions, fetcher, only=["bad"], scheduled=True, now=later)
    }
    assert outcomes == {"bad": "failed"}


def test_per_host_limit_holds_across_sources(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session]
) -> None:
    for i in range(6):
        http_server.route(f"/f{i}", Reply(body=fixture("rss1.xml"), delay=0.1))
    config = write_config(
        tmp_path,
        "".join(feed_source(f"s{i}", http_server.url(f"/f{i}")) for i in range(6)),
        defaults="  concurrency: 6\n  per_host: 2\n",
    )
    fetcher = Fetcher.from_defaults(config.defaults)
    outcomes = run_pass(config, sessions, fetcher, now=T0)
    fetcher.close()
    assert [o.status for o in outcomes].count("fetched") == 6
    assert http_server.max_active == 2


def test_repeated_passes_reuse_http_sessions(
    tmp_path: Path, sessions: sessionmaker[Session], fetcher: Fetcher, http_server: LocalServer
) -> None:
    """Every pass runs in new worker threads (so does every daemon poll job): sessions, and
    their keep-alive sockets, must be reused, not made anew per thread and kept forever."""
    body = fixture("rss2.xml")
    names = [f"s{n}" for n in range(4)]
    for name in names:
        http_server.route(f"/{name}.xml", Reply(body=body, headers=RSS))
    config = write_config(
        tmp_path, "".join(feed_source(n, http_server.url(f"/{n}.xml")) for n in names)
    )
    for _ in range(10):
        outcomes = run_pass(config, sessions, fetcher, force_all=True)
        assert [o.status for o in outcomes] == ["fetched"] * 4
    assert len(http_server.hits("/s0.xml")) == 10
    assert 1 <= len(fetcher._sessions) <= 4  # at most one per request in flight at once


def test_interrupt_cuts_requests_in_flight(
    tmp_path: Path, sessions: sessionmaker[Session], fetcher: Fetcher, http_server: LocalServer
) -> None:
    """Ctrl-C during `monitor once`: the pass must not sit out a hung server's timeout."""
    release = threading.Event()
    http_server.route("/hung", lambda req: Reply(status=200 if release.wait(30) else 500))
    http_server.route("/ok.xml", Reply(body=fixture("rss2.xml"), headers=RSS))
    config = write_config(
        tmp_path,
        feed_source("hung", http_server.url("/hung"))
        + feed_source("ok", http_server.url("/ok.xml")),
    )

    def interrupt(outcome: object) -> None:
        raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            run_pass(config, sessions, fetcher, force_all=True, on_outcome=interrupt)
        assert fetcher._closed.is_set()  # the hung request was cut, not waited for
        assert item_count(sessions) == 2  # what was fetched is kept
    finally:
        release.set()
