"""The stored path: `monitor ingest` of 20,000 items, on SQLite and on PostgreSQL.

    .venv/bin/python bench/bench_ingest.py                     # SQLite, and PostgreSQL if reachable
    .venv/bin/python bench/bench_ingest.py --items 5000 --pg-url postgresql+psycopg://postgres@127.0.0.1/postgres

The items are the dev corpora's (../shared/corpora/dev-*.jsonl) repeated with distinct ids,
URLs and titles, so every one is new and a realistic share carries facts (the copies of a
story report facts already known, as a news day does). Each run is `monitor ingest
--no-send` as a user runs it, a new process on a new database after `monitor init`; the
wall time covers parse, dedupe, store, extract, diff and the change log. The extractor's
build is part of it (it is part of what a user waits for).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "corpora"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def make_items(count: int, out: Path) -> None:
    base = [
        json.loads(line)
        for name in ("dev-en.jsonl", "dev-multi.jsonl")
        for line in (CORPORA / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with out.open("w", encoding="utf-8") as handle:
        for n in range(count):
            item = dict(base[n % len(base)])
            copy = n // len(base)
            item["id"] = f"{item['id']}-{copy}"
            item["url"] = f"{item['url']}?copy={copy}"
            item["title"] = f"{item['title']} ({copy})"
            item["source"] = f"{item['source']} {copy % 50}"
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")


def pg_database(server_url: str, name: str) -> str | None:
    """A new empty database on the server, or None when it cannot be reached."""
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)
    except Exception as exc:  # no server, no driver: the PostgreSQL row is left out
        print(f"PostgreSQL not measured: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return None


def run(db_url: str, items: Path, work: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MB) of one ingest's main
    process. Its extraction workers (children of the forkserver, which nobody waits for)
    and the database server are not counted."""
    monitor = str(Path(sys.executable).with_name("monitor"))
    config = work / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    env = {**os.environ, "MONITOR_NOTIFY_URLS": ""}
    base = [monitor, "--config", str(config), "--db", db_url]
    subprocess.run([*base, "init"], check=True, env=env, capture_output=True)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*base, "ingest", "--no-send", str(items)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(proc.stderr.read().decode() if proc.stderr else "ingest failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--pg-url", default=os.environ.get("MONITOR_TEST_PG_URL", DEFAULT_PG))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        items = work / "items.jsonl"
        make_items(args.items, items)
        targets = [("SQLite", f"sqlite:///{work / 'monitor.db'}")]
        pg = pg_database(args.pg_url, "monitor_bench_ingest")
        if pg:
            targets.append(("PostgreSQL", pg))
        print(f"`monitor ingest --no-send` of {args.items} items, {os.cpu_count()} CPUs")
        print()
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        print()
        print("| database | wall | items/s | CPU (main process) | peak RSS | load after |")
        print("|---|---:|---:|---:|---:|---:|")
        for label, url in targets:
            wall, cpu, rss = run(url, items, work)
            print(
                f"| {label} | {wall:.1f} s | {args.items / wall:.0f} | {cpu:.1f} s "
                f"| {rss:.0f} MB | {os.getloadavg()[0]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
