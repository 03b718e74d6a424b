"""Issue 9 items 2, 3 and 5: two real servers on two loopback origins (127.0.0.1 and
127.0.0.2) with redirects and links between them, and servers that hang or trickle.

127.0.0.1 plays the operator's configured source; 127.0.0.2 plays "an internal address a
third party points us at". Both are loopback, so every link or redirect to the second
must be refused unless the operator allows that host.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.config import Config, load_config
from monitor.errors import AddressRefused
from monitor.fetch import Fetcher
from monitor.netguard import internal_kind
from monitor.poll import run_pass
from monitor.store.db import session_factory
from monitor.store.models import ItemRow
from tests.httpserver import LocalServer, Reply, Request

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}
ARTICLE = (
    b"<html><head><title>T</title></head><body><article>"
    + b"<p>" + b"The article's own full text, long enough to be the main text. " * 6 + b"</p>"
    + b"</article></body></html>"
)  # fmt: skip


def rss(*links: str) -> bytes:
    items = "".join(
        f"<item><title>Item {i}</title><link>{link}</link><guid>g{i}</guid></item>"
        for i, link in enumerate(links)
    )
    channel = f"<channel><title>c</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.fixture
def inside() -> Iterator[LocalServer]:
    """A second origin on another loopback address: what SSRF would reach."""
    server = LocalServer("127.0.0.2")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(retry_backoff=0.01, read_timeout=5)
    yield f
    f.close()


@pytest.fixture
def sessions(fresh_db: Engine) -> sessionmaker[Session]:
    return session_factory(fresh_db)


def write_config(tmp_path: Path, sources: str, defaults: str = "") -> Config:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "defaults:\n  jitter: 0\n  retries: 0\n" + defaults + "sources:\n" + sources,
        encoding="utf-8",
    )
    return load_config(path)


def redirect(to: str) -> Reply:
    return Reply(status=302, headers={"Location": to})


# --- item 2: no server-side request forgery -----------------------------------------------


def _ipv6_loopback_mapped_works() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            probe.connect(("::ffff:127.0.0.1", 9))
    except ConnectionRefusedError:
        return True  # routable, nothing listening: fine
    except OSError:
        return False
    return True


SPELLINGS = [
    "127.0.0.2",
    "2130706434",  # 127.0.0.2 as one decimal number
    "0177.0.0.2",  # octal
    "0x7f000002",  # hex
    "localhost",  # 127.0.0.1 by name: another origin than the configured 127.0.0.1:port
    "[::ffff:127.0.0.2]",  # IPv4-mapped IPv6
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_redirect_to_an_internal_address_is_refused_whatever_its_spelling(
    http_server: LocalServer, inside: LocalServer, fetcher: Fetcher, spelling: str
) -> None:
    if spelling.startswith("[") and not _ipv6_loopback_mapped_works():
        pytest.skip("no IPv4-mapped IPv6 on this machine")
    port = http_server.port if spelling == "localhost" else inside.port
    inside.route("/admin", Reply(body=b"secret"))
    http_server.route("/admin", Reply(body=b"secret"))
    http_server.route("/feed", redirect(f"http://{spelling}:{port}/admin"))
    with pytest.raises(AddressRefused) as info:
        fetcher.get(http_server.url("/feed"), source="s")
    assert "loopback" in info.value.message and "allow_private_hosts" in info.value.message
    assert inside.hits("/admin") == [] and http_server.hits("/admin") == []


def test_redirects_within_the_configured_origin_still_work(
    http_server: LocalServer, fetcher: Fetcher
) -> None:
    http_server.route("/old", redirect("/new"))
    http_server.route("/new", Reply(body=b"ok"))
    result = fetcher.get(http_server.url("/old"), source="s")
    assert result.body == b"ok" and result.final_url == http_server.url("/new")


def test_the_operator_can_allow_an_internal_host(
    http_server: LocalServer, inside: LocalServer
) -> None:
    inside.route("/feed", Reply(body=b"inside"))
    http_server.route("/feed", redirect(inside.url("/feed")))
    allowing = Fetcher(retry_backoff=0.01, allow_private_hosts=["127.0.0.2"])
    try:
        assert allowing.get(http_server.url("/feed")).body == b"inside"
    finally:
        allowing.close()


def test_a_kept_alive_connection_is_checked_for_each_request(
    http_server: LocalServer, inside: LocalServer, fetcher: Fetcher
) -> None:
    inside.route("/feed", Reply(body=b"inside, configured"))
    inside.route("/admin", Reply(body=b"secret"))
    http_server.route("/feed", redirect(inside.url("/admin")))
    # A source configured on 127.0.0.2 leaves a kept-alive connection to it in the pool...
    assert fetcher.get(inside.url("/feed"), source="inner").body == b"inside, configured"
    # ... which another source's redirect must not ride into.
    with pytest.raises(AddressRefused):
        fetcher.get(http_server.url("/feed"), source="outer")
    assert inside.hits("/admin") == []


def test_redirects_of_every_kind_are_checked(
    tmp_path: Path,
    http_server: LocalServer,
    inside: LocalServer,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
) -> None:
    inside.route("/data", Reply(body=b"[]", headers={"Content-Type": "application/json"}))
    http_server.route("/api", redirect(inside.url("/data")))
    http_server.route("/feed", Reply(body=rss("http://example.com/a"), headers=RSS))
    config = write_config(
        tmp_path,
        f"  - name: api\n    kind: json\n    preset: github-releases\n"
        f"    url: {http_server.url('/api')}\n"
        f"  - name: news\n    kind: feed\n    url: {http_server.url('/feed')}\n",
    )
    outcomes = {o.name: o for o in run_pass(config, sessions, fetcher, now=None)}
    assert outcomes["api"].status == "failed"
    assert "refused" in (outcomes["api"].error or "")
    assert outcomes["news"].status == "fetched"  # the pass goes on
    assert inside.hits("/data") == []


def test_a_followed_link_to_an_internal_address_costs_one_line_for_that_item(
    tmp_path: Path,
    http_server: LocalServer,
    inside: LocalServer,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    inside.route("/metadata", Reply(body=ARTICLE, headers=HTML))
    http_server.route("/a1", Reply(body=ARTICLE, headers=HTML))
    http_server.route(
        "/news",
        Reply(
            body=(
                f'<html><body><ul><li class="post"><a href="{inside.url("/metadata")}">Inside</a>'
                f'</li><li class="post"><a href="/a1">Own</a></li></ul></body></html>'
            ).encode(),
            headers=HTML,
        ),
    )
    config = write_config(
        tmp_path,
        f"  - name: news\n    kind: html\n    url: {http_server.url('/news')}\n"
        "    item: li.post\n    follow: true\n",
    )
    with caplog.at_level(logging.WARNING, logger="monitor.poll"):
        (outcome,) = run_pass(config, sessions, fetcher)
    assert outcome.status == "fetched" and outcome.new_items == 2
    assert inside.hits("/metadata") == []
    assert len(http_server.hits("/a1")) == 1  # the source's own origin is followed
    refused = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "127.0.0.2" in refused[0].getMessage()
    with sessions() as session:
        texts = {
            title: text for title, text in session.execute(select(ItemRow.title, ItemRow.text))
        }
    assert "full text" not in texts["Inside"]  # nothing the internal address said is kept
    assert "full text" in texts["Own"]


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "reserved"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
    ],
)
def test_internal_address_kinds(address: str, kind: str | None) -> None:
    assert internal_kind(address) == kind


# --- item 3: every request keeps the source's deadlines ---------------------------------


def test_article_fetches_use_the_sources_read_timeout(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    http_server.route("/a1", Reply(body=ARTICLE, headers=HTML, delay=4))
    http_server.route(
        "/news",
        Reply(body=b'<ul><li class="post"><a href="/a1">One</a></li></ul>', headers=HTML),
    )
    config = write_config(
        tmp_path,
        f"  - name: news\n    kind: html\n    url: {http_server.url('/news')}\n"
        "    item: li.post\n    follow: true\n    read_timeout: 0.5\n",
    )
    started = time.monotonic()
    (outcome,) = run_pass(config, sessions, fetcher)
    assert time.monotonic() - started < 3  # the fetcher's own read timeout is 5 s
    assert outcome.status == "fetched" and outcome.new_items == 1


def test_one_deadline_covers_the_listing_and_its_follows(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    for n in range(4):
        http_server.route(f"/a{n}", Reply(body=ARTICLE, headers=HTML, delay=1.2))
    links = "".join(f'<li class="post"><a href="/a{n}">Story {n}</a></li>' for n in range(4))
    http_server.route("/news", Reply(body=f"<ul>{links}</ul>".encode(), headers=HTML))
    config = write_config(
        tmp_path,
        f"  - name: news\n    kind: html\n    url: {http_server.url('/news')}\n"
        "    item: li.post\n    follow: true\n    deadline: 2s\n",
    )
    started = time.monotonic()
    (outcome,) = run_pass(config, sessions, fetcher)
    took = time.monotonic() - started
    assert took < 3.5, took  # 4 pages of 1.2 s each would take 4.8 s
    assert outcome.status == "fetched"
    # what the deadline cut is not stored half-read: it waits for the next pass
    assert 1 <= outcome.new_items < 4


def test_a_trickling_listing_fails_at_the_sources_deadline(
    tmp_path: Path, http_server: LocalServer, sessions: sessionmaker[Session], fetcher: Fetcher
) -> None:
    # One byte every 0.1 s: the read timeout never fires; only an overall deadline helps.
    http_server.route("/feed", Reply(body=rss("http://example.com/a") * 3, headers=RSS, drip=0.1))
    config = write_config(
        tmp_path,
        f"  - name: slow\n    kind: feed\n    url: {http_server.url('/feed')}\n    deadline: 2s\n",
    )
    started = time.monotonic()
    (outcome,) = run_pass(config, sessions, fetcher)
    assert time.monotonic() - started < 4
    assert outcome.status == "failed" and "within 2 s" in (outcome.error or "")


def test_a_slow_host_never_holds_another_hosts_slot(
    http_server: LocalServer, inside: LocalServer
) -> None:
    # per_host=1: a redirect from 127.0.0.1 to a slow 127.0.0.2 must not keep 127.0.0.1's
    # only slot while 127.0.0.2 drags on.
    inside.route("/slow", Reply(body=b"x" * 30, drip=0.1))
    http_server.route("/to-slow", redirect(inside.url("/slow")))
    http_server.route("/fast", Reply(body=b"fast"))
    fetcher = Fetcher(per_host=1, retries=0, allow_private_hosts=["127.0.0.2"])
    try:
        slow = threading.Thread(target=fetcher.get, args=(http_server.url("/to-slow"),))
        slow.start()
        deadline = time.monotonic() + 5
        while not inside.hits("/slow") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert inside.hits("/slow"), "the redirect never reached the slow host"
        started = time.monotonic()
        assert fetcher.get(http_server.url("/fast")).body == b"fast"
        assert time.monotonic() - started < 1.0  # not the ~3 s the slow host takes
        slow.join(10)
    finally:
        fetcher.close()


def test_sources_waiting_for_a_busy_host_do_not_take_the_workers(
    tmp_path: Path, http_server: LocalServer, inside: LocalServer, sessions: sessionmaker[Session]
) -> None:
    # Four sources on a slow host listed first, two on a quick one; 2 workers, per_host 1.
    # Handed out in config order, the second slow source would sit on the other worker
    # waiting for the slow host, and the quick sources would wait ~4 s behind them.
    sources = ""
    for n in range(4):
        inside.route(f"/slow{n}", Reply(body=rss(f"http://example.com/s{n}"), headers=RSS, delay=1))
        sources += f"  - name: slow{n}\n    kind: feed\n    url: {inside.url(f'/slow{n}')}\n"
    for n in range(2):
        http_server.route(f"/quick{n}", Reply(body=rss(f"http://example.com/q{n}"), headers=RSS))
        sources += f"  - name: quick{n}\n    kind: feed\n    url: {http_server.url(f'/quick{n}')}\n"
    config = write_config(tmp_path, sources, defaults="  concurrency: 2\n  per_host: 1\n")
    fetcher = Fetcher.from_defaults(config.defaults)
    finished: dict[str, float] = {}
    started = time.monotonic()
    try:
        outcomes = run_pass(
            config,
            sessions,
            fetcher,
            on_outcome=lambda o: finished.setdefault(o.name, time.monotonic() - started),
        )
    finally:
        fetcher.close()
    assert all(o.status == "fetched" for o in outcomes)
    assert finished["quick0"] < 0.9 and finished["quick1"] < 0.9, finished
    assert inside.max_active == 1  # per_host still holds


# --- item 5: secrets stay with their origin ----------------------------------------------


def test_a_redirect_to_another_origin_carries_none_of_the_sources_secrets(
    tmp_path: Path,
    http_server: LocalServer,
    inside: LocalServer,
    sessions: sessionmaker[Session],
) -> None:
    seen: list[Request] = []

    def landing(req: Request) -> Reply:
        seen.append(req)
        return Reply(body=rss("http://example.com/a"), headers=RSS)

    inside.route("/feed", landing)
    http_server.route("/start", redirect("/moved"))  # same origin first: headers stay
    http_server.route("/moved", redirect(inside.url("/feed")))
    config = write_config(
        tmp_path,
        f"  - name: api\n    kind: feed\n    url: {http_server.url('/start')}\n"
        "    headers:\n      X-Api-Key: k-s3cret\n      Authorization: Bearer t-s3cret\n"
        "      Cookie: session=c-s3cret\n",
        defaults="  allow_private_hosts: [127.0.0.2]\n",
    )
    fetcher = Fetcher.from_defaults(config.defaults, retry_backoff=0.01)
    try:
        (outcome,) = run_pass(config, sessions, fetcher)
    finally:
        fetcher.close()
    assert outcome.status == "fetched"
    moved = http_server.hits("/moved")[0].headers
    assert moved.get("X-Api-Key") == "k-s3cret"  # a same-origin hop keeps them
    assert moved.get("Authorization") == "Bearer t-s3cret"
    (landed,) = seen
    lowered = {k.lower(): v for k, v in landed.headers.items()}
    assert "x-api-key" not in lowered and "authorization" not in lowered
    assert "cookie" not in lowered
    assert "s3cret" not in repr(landed.headers)


def test_credentials_in_a_sources_url_never_reach_errors_logs_or_the_database(
    tmp_path: Path,
    http_server: LocalServer,
    sessions: sessionmaker[Session],
    fetcher: Fetcher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http_server.route("/feed", Reply(status=404, body=b"no"))
    url = http_server.url("/feed").replace("http://", "http://bob:pw-s3cret@")
    config = write_config(
        tmp_path,
        f"  - name: keyed\n    kind: feed\n    url: {url}?api_key=k-s3cret&token=t-s3cret&q=ai\n",
    )
    with caplog.at_level(logging.DEBUG):
        (outcome,) = run_pass(config, sessions, fetcher)
    assert outcome.status == "failed"
    shown = outcome.describe()
    assert "s3cret" not in shown and "api_key=***" in shown and "q=ai" in shown
    assert "s3cret" not in caplog.text
    from monitor.store.models import SourceRow

    with sessions() as session:
        (error,) = session.scalars(select(SourceRow.last_error)).all()
    assert error and "s3cret" not in error and "token=***" in error


def test_check_config_shows_and_checks_allow_private_hosts(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    def check(defaults: str) -> tuple[int, str, str]:
        path = tmp_path / "sources.yaml"
        path.write_text(
            f"defaults:\n{defaults}sources:\n"
            "  - name: a\n    kind: feed\n    url: https://example.com/feed\n",
            encoding="utf-8",
        )
        result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = check("  allow_private_hosts: [intranet.example.com, 10.0.0.5]\n")
    assert code == 0 and "intranet.example.com, 10.0.0.5" in out
    code, _, err = check("  allow_private_hosts: ['http://intranet/']\n  deadline: 0s\n")
    assert code == 2
    assert "bad host 'http://intranet/'" in err and "too short (minimum: 1s)" in err
