"""Fetch benchmark: 500 feed sources on 50 loopback hosts, monitor's pass vs a naive loop.

    .venv/bin/python bench/bench_fetch.py              # full run (about 3 minutes)
    .venv/bin/python bench/bench_fetch.py --naive-sample 100   # naive loop on 100 sources, scaled

The feeds (20 items each) are served by a separate process (so serving never shares the
client's GIL) on 127.0.0.1 .. 127.0.0.50, the same port on each, every response delayed
100 ms like a real server. Each feed has an ETag and a Last-Modified and answers 304 to a
matching conditional GET.

Measured, in one run:
- naive: `requests.get` then `feedparser.parse`, one source after another, twice (a naive
  loop has no conditional GET, so its second pass costs what its first did);
- monitor: `monitor.poll.run_pass` (fetch, parse, dedupe, store in SQLite) in a child
  process, a first pass where every item is new, then a second where nothing changed
  (304s); peak RSS of that child. Extraction/alerts (``process_pending``) are left out:
  they are measured by their own benchmarks.
Nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket
from typing import Any

from monitor.sources.base import Defaults

ROOT = Path(__file__).resolve().parent.parent
COMPANIES = ["Alibaba Cloud", "Huawei Cloud", "Tencent Cloud", "NVIDIA", "DeepSeek", "OpenAI"]


def feed_xml(
    index: int, items: int, newest: int | None = None, published: float = 0.0, step: float = 60.0
) -> bytes:
    """RSS 2.0 with ``items`` distinct entries (distinct titles, links, GUIDs and text).

    ``newest``: the number of the newest entry, for a source that publishes (entries
    ``newest - items + 1 .. newest``, the newest dated ``published``, each older one
    ``step`` seconds before); None: entries ``0 .. items - 1`` with fixed dates.
    """
    first = 0 if newest is None else newest - items + 1
    entries = []
    for j in range(first, first + items):
        company = COMPANIES[(index + j) % len(COMPANIES)]
        fixed = 1_760_000_000 + index * 100 + j
        stamp = fixed if newest is None else published - (newest - j) * step
        entries.append(
            f"""<item><title>{company} update {index}-{j}: new service in region {j}</title>
<link>https://news{index % 50}.example/{index}/{j}</link><guid>src{index}-item{j}</guid>
<pubDate>{formatdate(stamp, usegmt=True)}</pubDate>
<description>{company} announced update {index}-{j}, with details about availability,
pricing and the regions concerned. Item {j} of source {index}.</description></item>"""
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Source {index}</title><link>https://news{index % 50}.example/</link>"
        f"<description>bench</description>{''.join(entries)}</channel></rss>"
    ).encode()


# --- server process --------------------------------------------------------------------------


class Feeds:
    """What the bench server answers for ``/feed/<i>.xml``, and who asked when.

    ``publishing`` (a fraction) of the sources, spread evenly over the indexes, publish a
    new entry every ``publish_every`` seconds, each at its own phase within that period
    (so the new entries arrive spread over the minute, not all at once); the others never
    change. Each version of a feed has its own ETag and Last-Modified, and a conditional
    GET naming the current one is answered 304.
    """

    def __init__(self, sources: int, items: int, publishing: float, publish_every: float):
        self.items = items
        self.publish_every = publish_every
        self.started = time.time()
        self.static = {i: feed_xml(i, items) for i in range(sources)}
        # evenly spread: source i publishes when (i + 1) * fraction passes a whole number
        self.publishes = {
            i for i in range(sources) if int((i + 1) * publishing) > int(i * publishing)
        }
        self._latest: dict[int, tuple[int, bytes]] = {}
        self._lock = threading.Lock()
        self.polls: dict[int, list[float]] = {}  # source index -> request times
        self.statuses: dict[int, int] = {}

    def _phase(self, index: int) -> float:
        return (index * 7919 % 1000) / 1000 * self.publish_every

    def version(self, index: int, now: float) -> int:
        """0 for a source that never changes; else how many entries it has published."""
        if index not in self.publishes:
            return 0
        return int((now - self.started + self._phase(index)) // self.publish_every)

    def current(self, index: int, now: float) -> tuple[bytes, str, str]:
        """The feed's body, ETag and Last-Modified now."""
        version = self.version(index, now)
        if index not in self.publishes:
            return self.static[index], f'"v0-{index}"', formatdate(1_760_000_000, usegmt=True)
        since = self.started - self._phase(index) + version * self.publish_every
        with self._lock:
            cached = self._latest.get(index)
        if cached is None or cached[0] != version:
            body = feed_xml(index, self.items, version + self.items - 1, since, self.publish_every)
            cached = (version, body)
            with self._lock:
                self._latest[index] = cached
        return cached[1], f'"v{version}-{index}"', formatdate(since, usegmt=True)

    def record(self, index: int, status: int, now: float) -> None:
        with self._lock:
            self.polls.setdefault(index, []).append(now)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def stats(self, since: float) -> dict[str, Any]:
        """Requests since ``since`` (distinct sources, by status so far) and, over the
        whole run, the longest a source waited between two requests (or since its last)."""
        now = time.time()
        with self._lock:
            polls = {i: [*times, now] for i, times in self.polls.items()}
            statuses = dict(self.statuses)
        waits = [b - a for times in polls.values() for a, b in itertools.pairwise(times[:-1])]
        gaps = sorted([*waits, *(now - times[-2] for times in polls.values())])
        return {
            "gaps": len(waits),
            "gap_p50": gaps[len(gaps) // 2] if gaps else 0.0,
            "gap_p99": gaps[len(gaps) * 99 // 100] if gaps else 0.0,
            "gaps_over_72s": sum(1 for wait in waits if wait > 72),
            "polled_since": sum(1 for times in polls.values() if times[-2] >= since),
            "requests_since": sum(1 for times in polls.values() for t in times[:-1] if t >= since),
            "statuses": statuses,
            "max_gap": max(gaps, default=0.0),
            "sources_polled": len(polls),
        }


def serve(
    hosts: int,
    sources: int,
    items: int,
    delay: float,
    publishing: float = 0.0,
    publish_every: float = 60.0,
) -> None:
    """Serve the feeds on 127.0.0.1 .. 127.0.0.<hosts>, one port; print the port, then
    run until stdin closes. ``/stats?since=<epoch>`` answers :meth:`Feeds.stats` as JSON."""
    feeds = Feeds(sources, items, publishing, publish_every)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path.startswith("/stats"):
                since = float(self.path.partition("since=")[2] or 0)
                self._answer(200, {}, json.dumps(feeds.stats(since)).encode())
                return
            time.sleep(delay)
            name = self.path.removeprefix("/feed/").removesuffix(".xml")
            if not name.isdigit() or int(name) not in feeds.static:
                self._answer(404, {})
                return
            index, now = int(name), time.time()
            body, etag, last_modified = feeds.current(index, now)
            validators = {"ETag": etag, "Last-Modified": last_modified}
            if self.headers.get("If-None-Match") == etag or (
                "If-None-Match" not in self.headers
                and self.headers.get("If-Modified-Since") == last_modified
            ):
                feeds.record(index, 304, now)
                self._answer(304, validators)
                return
            feeds.record(index, 200, now)
            self._answer(200, {"Content-Type": "application/rss+xml", **validators}, body)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 256

    probe = socket(AF_INET, SOCK_STREAM)
    probe.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    servers = [Server((f"127.0.0.{h}", port), Handler) for h in range(1, hosts + 1)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(port, flush=True)
    sys.stdin.read()  # until the parent closes our stdin


def source_url(port: int, index: int, hosts: int) -> str:
    return f"http://127.0.0.{index % hosts + 1}:{port}/feed/{index}.xml"


# --- monitor side (a child process, for its own peak RSS) -----------------------------------


def monitor_worker(config_path: str, db_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from monitor.config import load_config
    from monitor.fetch import Fetcher
    from monitor.poll import run_pass, summarize
    from monitor.store.db import make_engine, session_factory, upgrade

    config = load_config(Path(config_path))
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    fetcher = Fetcher.from_defaults(config.defaults)
    results = []
    for label in ("first", "second"):
        started = time.perf_counter()
        outcomes = run_pass(config, sessions, fetcher, force_all=True)
        wall = time.perf_counter() - started
        results.append({"pass": label, "wall": wall, **summarize(outcomes)})
    fetcher.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"passes": results, "peak_rss_mb": peak_kib / 1024}))


def write_sources(
    path: Path,
    urls: list[str],
    concurrency: int,
    per_host: int,
    every: str | None = None,
    sections: list[str] | None = None,
) -> None:
    """A sources.yaml of one feed source per URL (no retries: a bench counts failures).
    ``every``: ``defaults.every``; ``sections``: more top-level YAML lines (``retention:``...)."""
    lines = [
        "defaults:",
        f"  concurrency: {concurrency}",
        f"  per_host: {per_host}",
        "  retries: 0",
        *([f"  every: {every}"] if every else []),
        *(sections or []),
        "sources:",
    ]
    for i, url in enumerate(urls):
        lines += [f"  - name: s{i}", "    kind: feed", f"    url: {url}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_monitor(urls: list[str], concurrency: int, per_host: int, workdir: Path) -> dict[str, Any]:
    config = workdir / f"sources-{concurrency}.yaml"
    write_sources(config, urls, concurrency, per_host)
    db = workdir / f"monitor-{concurrency}.db"
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", str(config), f"sqlite:///{db}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"monitor worker failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def run_naive(urls: list[str]) -> float:
    import feedparser
    import requests

    started = time.perf_counter()
    for url in urls:
        response = requests.get(url, timeout=30)
        feedparser.parse(response.content)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[Defaults().concurrency, 64],
        help="monitor worker counts [default: the shipped default and 64]",
    )
    parser.add_argument(
        "--naive-sample", type=int, default=0, help="time the naive loop on N sources, scaled"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--publishing", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--publish-every", type=float, default=60.0, help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.hosts, args.sources, args.items, args.delay, args.publishing, args.publish_every)
        return
    if args.worker:
        monitor_worker(*args.worker)
        return

    server = subprocess.Popen(
        [
            sys.executable, __file__, "--serve", "--hosts", str(args.hosts),
            "--sources", str(args.sources), "--items", str(args.items),
            "--delay", str(args.delay),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        urls = [source_url(port, i, args.hosts) for i in range(args.sources)]
        monitor_runs = {}
        with tempfile.TemporaryDirectory() as tmp:
            for concurrency in args.concurrency:
                monitor_runs[concurrency] = run_monitor(urls, concurrency, args.per_host, Path(tmp))
        sample = urls[: args.naive_sample] if args.naive_sample else urls
        naive = [run_naive(sample) * len(urls) / len(sample) for _ in range(2)]
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)

    n = args.sources
    print(
        f"{n} feed sources x {args.items} items on {args.hosts} loopback hosts, "
        f"{args.delay * 1000:.0f} ms latency, per_host={args.per_host}, "
        f"{os.cpu_count()} CPUs"
        + (
            f" (naive loop timed on {args.naive_sample} sources, scaled)"
            if args.naive_sample
            else ""
        )
    )
    print()
    header = "| pass | naive loop | naive req/s |"
    rule = "|---|---:|---:|"
    for c in args.concurrency:
        header += f" monitor (concurrency {c}) | req/s | speed-up |"
        rule += "---:|---:|---:|"
    print(header)
    print(rule)
    for index, label in enumerate(["first (all new)", "second (nothing changed, 304)"]):
        line = f"| {label} | {naive[index]:.1f} s | {n / naive[index]:.0f} |"
        for c in args.concurrency:
            stats = monitor_runs[c]["passes"][index]
            wall = stats["wall"]
            line += f" {wall:.2f} s | {n / wall:.0f} | {naive[index] / wall:.1f}x |"
        print(line)
    print()
    for c in args.concurrency:
        run = monitor_runs[c]
        first, second = run["passes"]
        print(
            f"monitor concurrency {c}: peak RSS {run['peak_rss_mb']:.0f} MB; "
            f"first pass fetched={first['fetched']} failed={first['failed']} "
            f"new items={first['new_items']}; second pass not-modified={second['not-modified']} "
            f"failed={second['failed']}"
        )


if __name__ == "__main__":
    main()
