"""Soak: the real daemon polling 2,000 feeds every minute for 10 minutes, half of them publishing.

    .venv/bin/python bench/bench_soak.py                          # the full run (about 11 minutes)
    .venv/bin/python bench/bench_soak.py --minutes 2 --sources 500   # a smoke run

The feeds of bench_fetch.py are served by a separate process on 127.0.0.1 .. 127.0.0.20:
``--publishing`` of them (half) publish a new entry every minute, each at its own moment
of the minute; the others never change. Every feed has an ETag and a Last-Modified, so an
unchanged one answers 304. ``monitor run`` runs as a subprocess on a new SQLite file,
every source ``every: 1m``, with ``retention:`` in minutes (items that carry no fact lose
their text after 1 minute and their rows after 2; the daemon prunes every minute).

Each minute, recorded: the daemon's RSS, open file descriptors (/proc/PID/fd), threads
(/proc/PID/status), CPU seconds used in that minute, the database's size (file + WAL), the
items / seen_keys / changes rows, how many sources the server saw polled in that minute
and the load average. At the end: the longest wait of any source between two polls, and
every WARNING/ERROR line of the daemon's log. Nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fetch import source_url, write_sources

ROOT = Path(__file__).resolve().parent.parent
FETCH_BENCH = Path(__file__).resolve().parent / "bench_fetch.py"


@dataclass
class Sample:
    minute: int
    rss_mb: float
    tree_mb: float  # the daemon and its children (the extraction workers, their forkserver)
    fds: int
    threads: int
    cpu_s: float  # the daemon's user + system CPU seconds in this minute
    db_mb: float  # the database file plus its WAL
    wal_mb: float
    items: int
    texts: int  # items whose text is not (yet) emptied
    seen_keys: int
    changes: int
    polled: int  # distinct sources the server saw requested in this minute
    requests: int
    load1: float


def proc_status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(child) for child in task.read_text().split()]
        if parent != pid:
            found.append(parent)
    return found


def rss_mb(pid: int) -> float:
    try:
        return int(proc_status(pid)["VmRSS"].split()[0]) / 1024
    except (OSError, KeyError):  # gone, or a zombie
        return 0.0


def cpu_seconds(pid: int) -> float:
    # fields after the command name (which may hold spaces): utime is 14th, stime 15th
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def file_mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def counts(db: Path) -> tuple[int, int, int, int]:
    """Rows of items, items with text, seen_keys, changes (a read-only connection, closed
    at once so that it never holds back a checkpoint)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM items WHERE text != ''),"
            " (SELECT count(*) FROM seen_keys), (SELECT count(*) FROM changes)"
        ).fetchone()
    finally:
        conn.close()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def server_stats(port: int, since: float) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats?since={since}", timeout=30) as r:
        return dict(json.loads(r.read()))


def sample(minute: int, pid: int, db: Path, port: int, since: float, cpu_before: float) -> Sample:
    status = proc_status(pid)
    items, texts, seen, changes = counts(db)
    wal = db.with_name(db.name + "-wal")
    stats = server_stats(port, since)
    return Sample(
        minute=minute,
        rss_mb=int(status["VmRSS"].split()[0]) / 1024,
        tree_mb=int(status["VmRSS"].split()[0]) / 1024 + sum(map(rss_mb, descendants(pid))),
        fds=len(os.listdir(f"/proc/{pid}/fd")),
        threads=int(status["Threads"]),
        cpu_s=cpu_seconds(pid) - cpu_before,
        db_mb=file_mb(db) + file_mb(wal),
        wal_mb=file_mb(wal),
        items=items,
        texts=texts,
        seen_keys=seen,
        changes=changes,
        polled=int(stats["polled_since"]),
        requests=int(stats["requests_since"]),
        load1=os.getloadavg()[0],
    )


def folded(text: str) -> str:
    """``text`` with its words holding digits (names, times, counts) as ``#``."""
    return " ".join(w if not any(c.isdigit() for c in w) else "#" for w in text.split())[:160]


def log_problems(log: Path) -> Counter[str]:
    """WARNING/ERROR lines of the daemon's log, counted by their text after the level
    (source names and numbers folded, so one cause is one row)."""
    found: Counter[str] = Counter()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in ("WARNING", "ERROR", "CRITICAL"):
            found[f"{parts[1]} {folded(parts[2])}"] += 1
        elif len(parts) < 2 or not parts[0][:4].isdigit():  # not logfmt: another library's
            found[f"OTHER {folded(line)}"] += 1
    return found


def table(samples: list[Sample]) -> str:
    rows = [
        "| minute | RSS MB | with workers | fds | threads | CPU s | DB MB (WAL) "
        "| items (with text) | seen_keys | changes | sources polled | load 1m |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in samples:
        rows.append(
            f"| {s.minute} | {s.rss_mb:.0f} | {s.tree_mb:.0f} | {s.fds} | {s.threads} "
            f"| {s.cpu_s:.1f} "
            f"| {s.db_mb:.1f} ({s.wal_mb:.1f}) | {s.items:,} ({s.texts:,}) | {s.seen_keys:,} "
            f"| {s.changes:,} | {s.polled:,} | {s.load1:.1f} |"
        )
    return "\n".join(rows)


def retention_yaml(drop_text_after: str, delete_after: str, forget: str, every: str) -> list[str]:
    return [
        "retention:",
        f"  drop_text_after: {drop_text_after}",
        f"  delete_after: {delete_after}",
        f"  forget_keys_after: {forget}",
        f"  every: {every}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--items", type=int, default=10, help="entries per feed")
    parser.add_argument("--publishing", type=float, default=0.5, help="fraction that publishes")
    parser.add_argument("--delay", type=float, default=0.05, help="server latency, seconds")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--drop-text-after", default="1m")
    parser.add_argument("--delete-after", default="2m")
    parser.add_argument("--forget-keys-after", default="2m")
    parser.add_argument("--prune-every", default="1m")
    parser.add_argument("--keep", type=Path, help="keep the database and log in this folder")
    parser.add_argument("--json", type=Path, help="also write the samples here")
    args = parser.parse_args()

    server = subprocess.Popen(
        [
            sys.executable, str(FETCH_BENCH), "--serve", "--hosts", str(args.hosts),
            "--sources", str(args.sources), "--items", str(args.items),
            "--delay", str(args.delay), "--publishing", str(args.publishing),
            "--publish-every", "60",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    tmp = tempfile.TemporaryDirectory()
    workdir = args.keep or Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    config, db, log = workdir / "sources.yaml", workdir / "monitor.db", workdir / "daemon.log"
    for old in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        old.unlink(missing_ok=True)
    monitor = [sys.executable, "-m", "monitor", "--config", str(config), "--db", f"sqlite:///{db}"]
    samples: list[Sample] = []
    daemon: subprocess.Popen[bytes] | None = None
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        urls = [source_url(port, i, args.hosts) for i in range(args.sources)]
        write_sources(
            config,
            urls,
            args.concurrency,
            args.per_host,
            every="1m",
            sections=retention_yaml(
                args.drop_text_after, args.delete_after, args.forget_keys_after, args.prune_every
            ),
        )
        subprocess.run([*monitor, "init"], cwd=workdir, check=True, capture_output=True)
        with open(log, "wb") as log_file:
            daemon = subprocess.Popen([*monitor, "run"], cwd=workdir, stderr=log_file)
            started = time.time()
            mark, cpu_mark = started, 0.0
            for minute in range(1, args.minutes + 1):
                time.sleep(max(0.0, started + minute * 60 - time.time()))
                if daemon.poll() is not None:
                    raise SystemExit(f"the daemon exited ({daemon.returncode}); see {log}")
                now = time.time()
                samples.append(sample(minute, daemon.pid, db, port, mark, cpu_mark))
                mark, cpu_mark = now, cpu_mark + samples[-1].cpu_s
                print(json.dumps(asdict(samples[-1])), flush=True)
            final = server_stats(port, started)
            daemon.send_signal(signal.SIGTERM)
            exit_code = daemon.wait(timeout=60)
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)

    print()
    print(
        f"{args.sources} feed sources ({args.publishing:.0%} publishing one entry a minute, "
        f"{args.items} entries per feed) on {args.hosts} loopback hosts, {args.delay * 1000:.0f} "
        f"ms latency, every 1m, concurrency {args.concurrency}, per_host {args.per_host}; "
        f"retention drop_text_after {args.drop_text_after}, delete_after {args.delete_after}, "
        f"forget_keys_after {args.forget_keys_after}, every {args.prune_every}; "
        f"{os.cpu_count()} CPUs"
    )
    print()
    print(table(samples))
    print()
    tail = samples[-5:]
    print(
        f"last {len(tail)} minutes: RSS {min(s.rss_mb for s in tail):.0f}..."
        f"{max(s.rss_mb for s in tail):.0f} MB (with workers {min(s.tree_mb for s in tail):.0f}"
        f"...{max(s.tree_mb for s in tail):.0f}), fds {min(s.fds for s in tail)}..."
        f"{max(s.fds for s in tail)}, threads {min(s.threads for s in tail)}..."
        f"{max(s.threads for s in tail)}, DB {min(s.db_mb for s in tail):.1f}..."
        f"{max(s.db_mb for s in tail):.1f} MB"
    )
    print(
        f"server: {final['sources_polled']} of {args.sources} sources polled, "
        f"statuses {final['statuses']}, waits between two polls of a source: median "
        f"{final['gap_p50']:.0f} s, 99th percentile {final['gap_p99']:.0f} s, longest "
        f"{final['max_gap']:.0f} s, {final['gaps_over_72s']} of {final['gaps']} over 72 s "
        "(every 60 s, jitter +/-10%)"
    )
    print(f"daemon exit code after SIGTERM: {exit_code}")
    problems = log_problems(log)
    print(f"daemon log: {sum(problems.values())} warning/error lines")
    for text, n in problems.most_common(20):
        print(f"  {n} x {text}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "samples": [asdict(s) for s in samples],
                    "server": final,
                    "exit_code": exit_code,
                    "log_problems": dict(problems),
                },
                indent=1,
            )
        )
    tmp.cleanup()


if __name__ == "__main__":
    main()
