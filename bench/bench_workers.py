"""Distributed-mode benchmark: `monitor worker` processes on PostgreSQL vs `monitor once` on
SQLite, over feed sources on 127.0.0.1 .. 127.0.0.100.

    .venv/bin/python bench/bench_workers.py --sources 500          # what docs/performance.md shows
    .venv/bin/python bench/bench_workers.py                         # 10,000 sources (long)

The feeds (20 items each, 100 ms latency, ETag + 304) are served by a child process that
counts, per host, the requests in flight at once (server-side: what a host saw, whatever
the clients believe). For 1, 2 and 4 worker processes on one PostgreSQL database
(``--db``, default the local server; a database ``worker_bench`` is made and dropped):

- first pass: from starting the workers until every source was fetched and every item
  processed (extract, diff, change log); a no-change pass: every source made due again,
  until every one was fetched again (304s);
- wall time, requests/s, items processed/s, the most requests any host had in flight at
  once (``per_host`` is a limit across all workers), duplicates (items stored twice,
  changes twice) which must be 0.

The same for `monitor once --all` on SQLite (one process; a first pass and a second one).
Nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socket import AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fetch import feed_xml  # noqa: E402 (the same feeds as the fetch benchmark)

MONITOR = [sys.executable, "-m", "monitor"]


# --- server process: feeds on many loopback hosts, concurrency counted per host -------------


def serve(hosts: int, sources: int, items: int, delay: float) -> None:
    feeds = {f"/feed/{i}.xml": feed_xml(i, items) for i in range(sources)}
    lock = threading.Lock()
    active: dict[str, int] = {}
    peak: dict[str, int] = {}
    served = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            host = self.server.server_address[0]
            with lock:
                active[host] = active.get(host, 0) + 1
                peak[host] = max(peak.get(host, 0), active[host])
                served[0] += 1
            try:
                self._answer()
            finally:
                with lock:
                    active[host] -= 1

        def _answer(self) -> None:
            body = feeds.get(self.path)
            time.sleep(delay)
            etag = f'"v1-{self.path}"'
            if body is None or self.headers.get("If-None-Match") == etag:
                self.send_response(404 if body is None else 304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

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
    for line in sys.stdin:  # "stats" prints and resets the counters; EOF ends
        if line.strip() == "stats":
            with lock:
                print(json.dumps({"requests": served[0], "peak": max(peak.values(), default=0)}))
                served[0] = 0
                peak.clear()
            sys.stdout.flush()


class Feeds:
    def __init__(self, hosts: int, sources: int, items: int, delay: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(hosts), str(sources), str(items), str(delay)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.hosts = hosts

    def url(self, index: int) -> str:
        return f"http://127.0.0.{index % self.hosts + 1}:{self.port}/feed/{index}.xml"

    def stats(self) -> dict[str, int]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


# --- runs ------------------------------------------------------------------------------------


def write_config(path: Path, feeds: Feeds, sources: int, per_host: int) -> None:
    lines = ["defaults:", "  every: 1h", f"  per_host: {per_host}", "  retries: 0", "sources:"]
    for i in range(sources):
        lines += [f"  - name: s{i}", "    kind: feed", f"    url: {feeds.url(i)}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def counts(db: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db, poolclass=NullPool)
    queries = {
        "items": "SELECT count(*) FROM items",
        "processed": "SELECT count(*) FROM items WHERE processed_at IS NOT NULL",
        "fetched": "SELECT count(*) FROM sources WHERE last_fetch_at IS NOT NULL",
        "duplicate_items": "SELECT count(*) - count(DISTINCT url_key) FROM items",
        "duplicate_changes": "SELECT count(*) - count(DISTINCT fact_id || change) FROM changes",
        "changes": "SELECT count(*) FROM changes",
    }
    try:
        with engine.connect() as conn:
            return {k: int(conn.execute(text(q)).scalar() or 0) for k, q in queries.items()}
    finally:
        engine.dispose()


def refetched(db: str, since: datetime) -> int:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM sources WHERE last_fetch_at >= :t")
            return int(conn.execute(query, {"t": since}).scalar() or 0)
    finally:
        engine.dispose()


def make_all_due(db: str) -> datetime:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(db, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            since = datetime.now(UTC).replace(tzinfo=None)
            conn.execute(text("UPDATE sources SET next_due_at = NULL"))
    finally:
        engine.dispose()
    return since


def wait(check: Any, timeout: float) -> None:
    ends = time.monotonic() + timeout
    while not check():
        if time.monotonic() > ends:
            raise SystemExit("timed out")
        time.sleep(0.25)


def row(
    label: str, wall: float, requests: int, items: int, peak: int, dupes: int
) -> dict[str, Any]:
    return {
        "run": label,
        "wall_s": round(wall, 1),
        "requests_per_s": round(requests / wall, 1),
        "items_per_s": round(items / wall, 1) if items else 0,
        "peak_per_host": peak,
        "duplicates": dupes,
    }


def run_workers(
    n: int, feeds: Feeds, config: Path, db: str, sources: int, items: int, concurrency: int
) -> list[dict[str, Any]]:
    subprocess.run(
        [*MONITOR, "--config", str(config), "--db", db, "init"], check=True, capture_output=True
    )
    feeds.stats()
    logs = [open(config.parent / f"worker-{n}-{k}.log", "w") for k in range(n)]  # noqa: SIM115
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                *MONITOR,
                "--config",
                str(config),
                "--db",
                db,
                "worker",
                "--concurrency",
                str(concurrency),
            ],
            stderr=log,
            cwd=config.parent,
        )
        for log in logs
    ]
    try:
        total = sources * items
        wait(lambda: (c := counts(db))["processed"] == total and c["fetched"] == sources, 3600)
        first = time.perf_counter() - started
        stats, c = feeds.stats(), counts(db)
        out = [row(f"{n} worker(s), first pass", first, stats["requests"], total, stats["peak"],
                   c["duplicate_items"] + c["duplicate_changes"])]  # fmt: skip
        since = make_all_due(db)
        started = time.perf_counter()
        wait(lambda: refetched(db, since) == sources, 3600)
        second = time.perf_counter() - started
        stats, c = feeds.stats(), counts(db)
        out.append(row(f"{n} worker(s), no-change pass", second, stats["requests"], 0,
                       stats["peak"], c["duplicate_items"] + c["duplicate_changes"]))  # fmt: skip
        return out
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(120)
        for log in logs:
            log.close()


def run_sqlite(
    feeds: Feeds, config: Path, workdir: Path, sources: int, items: int
) -> list[dict[str, Any]]:
    db = f"sqlite:///{workdir / 'once.db'}"
    subprocess.run(
        [*MONITOR, "--config", str(config), "--db", db, "init"], check=True, capture_output=True
    )
    feeds.stats()
    out = []
    for label in ("first pass", "no-change pass"):
        started = time.perf_counter()
        subprocess.run([*MONITOR, "--config", str(config), "--db", db, "once", "--all"],
                       check=True, capture_output=True, cwd=workdir)  # fmt: skip
        wall = time.perf_counter() - started
        stats, c = feeds.stats(), counts(db)
        done = sources * items if label == "first pass" else 0
        out.append(row(f"once --all on SQLite, {label}", wall, stats["requests"], done,
                       stats["peak"], c["duplicate_items"] + c["duplicate_changes"]))  # fmt: skip
    return out


def pg_database(server: str, name: str, create: bool) -> str:
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            if create:
                conn.execute(text(f"CREATE DATABASE {name}"))
    finally:
        admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=32, help="jobs at once per worker")
    parser.add_argument(
        "--db",
        default=os.environ.get("MONITOR_TEST_PG_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="PostgreSQL server (only used to create and drop worker_bench)",
    )
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        hosts, sources, items, delay = args.serve
        serve(int(hosts), int(sources), int(items), float(delay))
        return
    feeds = Feeds(args.hosts, args.sources, args.items, args.delay)
    results: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
            workdir = Path(tmp)
            config = workdir / "sources.yaml"
            write_config(config, feeds, args.sources, args.per_host)
            for n in args.workers:
                db = pg_database(args.db, "worker_bench", create=True)
                try:
                    results += run_workers(
                        n, feeds, config, db, args.sources, args.items, args.concurrency
                    )
                finally:
                    pg_database(args.db, "worker_bench", create=False)
                print(json.dumps(results[-2:]), flush=True)
            results += run_sqlite(feeds, config, workdir, args.sources, args.items)
    finally:
        feeds.close()
    print(f"\n{args.sources} sources x {args.items} items on {args.hosts} hosts, "
          f"{args.delay * 1000:.0f} ms latency, per_host {args.per_host}\n")  # fmt: skip
    print(
        "| run | wall s | requests/s | items processed/s | peak in flight per host | duplicates |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['run']} | {r['wall_s']} | {r['requests_per_s']} | {r['items_per_s']} | "
              f"{r['peak_per_host']} | {r['duplicates']} |")  # fmt: skip


if __name__ == "__main__":
    main()
