"""Kept-alive sockets are bounded by hosts, not by sessions x hosts (found by the soak,
bench/bench_soak.py: the daemon held ~200 sockets for 20 hosts with per_host 2).

Real servers on 127.0.0.1 .. 127.0.0.6; the sockets are counted in /proc/net/tcp.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.fetch import Fetcher
from tests.httpserver import LocalServer, Reply

HOSTS = 6
PER_HOST = 2

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="counts sockets in /proc/net/tcp (Linux)"
)


@pytest.fixture
def servers() -> Iterator[list[LocalServer]]:
    started = [LocalServer(f"127.0.0.{h}") for h in range(1, HOSTS + 1)]
    for server in started:
        server.route("/feed", Reply(body=b"<rss/>", delay=0.01))
    yield started
    for server in started:
        server.close()


def client_sockets(servers: list[LocalServer]) -> int:
    """Established TCP connections from this machine to the servers (the client ends)."""
    wanted = set()
    for server in servers:
        a, b, c, d = (int(part) for part in server.host.split("."))
        wanted.add(f"{d:02X}{c:02X}{b:02X}{a:02X}:{server.port:04X}")
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[2] in wanted and fields[3] == "01":  # rem_address, st ESTABLISHED
            count += 1
    return count


def test_idle_sockets_are_bounded_by_hosts_not_by_sessions(servers: list[LocalServer]) -> None:
    fetcher = Fetcher(per_host=PER_HOST, retry_backoff=0.01)
    urls = [server.url("/feed") for server in servers]
    failures: list[BaseException] = []

    def poll(offset: int) -> None:
        try:
            for _ in range(4):  # every thread visits every host, each from its own start
                for url in urls[offset:] + urls[:offset]:
                    assert fetcher.get(url).body == b"<rss/>"
        except BaseException as exc:
            failures.append(exc)

    # as many requests in flight as the hosts allow: as many sessions
    threads = [threading.Thread(target=poll, args=(k % HOSTS,)) for k in range(HOSTS * PER_HOST)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not failures, failures
        assert sum(len(server.hits("/feed")) for server in servers) == len(threads) * 4 * HOSTS
        # kept alive for reuse: at most per_host per host (it was up to one per session
        # and host, 12 x 6 here)
        assert 0 < client_sockets(servers) <= HOSTS * PER_HOST
    finally:
        fetcher.close()
