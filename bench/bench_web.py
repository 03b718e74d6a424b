"""The web desk under a realistic log: 20,000 changes and 60,000 pieces of evidence in SQLite.

The bench writes the rows straight into a fresh, migrated database (the pipeline would
take an hour to make that many), starts `monitor serve` as its own process on 127.0.0.1,
and times what an analyst does, over real HTTP:

- the change log's first page (`/`: a page of 50 with its counts per filter value) and
  the source and language counts the page loads after it (`/facets`);
- a filtered page and a searched page;
- `/feed.atom` (50 entries) and `/api/changes?limit=100`;
- the server's resident memory after a warm-up and after 1,000 more requests.

    python bench/bench_web.py [--changes 20000] [--requests 1000] [--json]

Targets (issue 8): page < 200 ms, filtered or searched < 300 ms, feed < 100 ms, RSS flat.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import insert

from monitor.store.db import make_engine, upgrade
from monitor.store.models import ChangeRow, FactRow, ItemRow, ObservationRow, SourceRow

ROOT = Path(__file__).resolve().parent.parent
ENTITIES = [
    "alibaba",
    "huawei",
    "tencent",
    "baidu",
    "bytedance",
    "deepseek",
    "openai",
    "anthropic",
    "nvidia",
    "google",
    "microsoft",
    "aws",
    "oracle",
    "moonshot",
]
COUNTRIES = [
    "MX",
    "BR",
    "SA",
    "AE",
    "DE",
    "FR",
    "JP",
    "KR",
    "SG",
    "MY",
    "TH",
    "ID",
    "IN",
    "GB",
    "US",
    "CA",
    "AU",
    "TR",
    "EG",
    "MA",
    "KE",
    "ZA",
    "CL",
    "PE",
    "IT",
    "ES",
]
LANGS = ["en", "en", "en", "zh", "fr", "de", "ja", "es"]
WORDS = [
    "cloud",
    "region",
    "data",
    "centre",
    "opens",
    "plans",
    "launch",
    "model",
    "chip",
    "accelerator",
    "cluster",
    "availability",
    "zone",
    "expansion",
    "investment",
    "capacity",
    "customers",
    "sovereign",
    "inference",
    "training",
    "gigawatt",
    "partnership",
    "government",
    "announced",
    "confirmed",
]
TARGETS = {"page": 200.0, "filtered": 300.0, "searched": 300.0, "feed": 100.0}
# "searched, common" matches most of the log: a word in 3 of 4 changes (no target)


def make_log(url: str, changes: int, evidence_per_change: int = 3, seed: int = 8) -> None:
    """``changes`` changes (a fifth of them `live` upgrades), each with its evidence."""
    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    start = datetime(2025, 1, 1)
    live_every = 5
    facts_needed = changes - changes // live_every
    with engine.begin() as conn:
        conn.execute(
            insert(SourceRow),
            [
                {"id": i + 1, "name": f"Outlet {i:02d}", "kind": "feed",
                 "url": f"https://outlet{i}.test/feed", "consecutive_failures": i % 7 == 0,
                 "items_count": 0, "created_at": start}
                for i in range(40)
            ],
        )  # fmt: skip
        facts = []
        for i in range(facts_needed):
            kind = ("region", "chip", "model")[i % 3]
            value = f"{rng.choice(COUNTRIES)}" if kind == "region" else f"{kind.title()}-{i}"
            facts.append(
                {"id": i + 1, "entity": ENTITIES[i % len(ENTITIES)], "kind": kind,
                 "value": value, "value_key": f"{value.lower()}-{i}", "status": "planned",
                 "origin": "observed", "first_seen_at": start, "last_seen_at": start}
            )  # fmt: skip
        conn.execute(insert(FactRow), facts)
        change_rows, items, observations = [], [], []
        item_id = 0
        for n in range(changes):
            fact = facts[n % facts_needed] if n >= facts_needed else facts[n]
            change = "live" if n >= facts_needed else "new"
            at = start + timedelta(minutes=7 * n)
            change_rows.append(
                {"id": n + 1, "fact_id": fact["id"], "change": change,
                 "entity": fact["entity"], "kind": fact["kind"], "value": fact["value"],
                 "status": "live" if change == "live" or n % 2 else "planned", "at": at,
                 "published_at": at - timedelta(hours=3), "first_item_id": item_id + 1}
            )  # fmt: skip
            for e in range(evidence_per_change):
                item_id += 1
                words = " ".join(rng.choice(WORDS) for _ in range(12))
                if rng.random() < 0.01:  # a place named in 1% of the evidence: a search
                    words += " in Johor"
                title = f"{fact['entity'].title()} {words[:60]} {fact['value']}"
                items.append(
                    {"id": item_id, "source_id": 1 + (n + e) % 40, "guid_key": f"g{item_id}",
                     "url_key": f"outlet.test/{item_id}", "content_hash": f"{item_id:064d}",
                     "url": f"https://outlet.test/{item_id}", "title": title,
                     "text": words * 4, "lang": LANGS[(n + e) % len(LANGS)],
                     "published_at": at - timedelta(hours=3 - e), "fetched_at": at,
                     "processed_at": at}
                )  # fmt: skip
                observations.append(
                    {"fact_id": fact["id"], "item_id": item_id, "change_id": n + 1,
                     "status": "planned", "sentence": f"{title}. {words}.", "field": "text",
                     "start": 0, "end": 80, "observed_at": at}
                )  # fmt: skip
        for table, rows in ((ItemRow, items), (ChangeRow, change_rows)):
            for chunk in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[chunk : chunk + 5000])
        for chunk in range(0, len(observations), 5000):
            conn.execute(insert(ObservationRow), observations[chunk : chunk + 5000])
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def timed(session: requests.Session, url: str, runs: int) -> dict[str, float]:
    """Median and worst wall time (ms) of ``runs`` GETs after one warm-up."""
    session.get(url, timeout=30).raise_for_status()
    times = []
    for _ in range(runs):
        begin = time.perf_counter()
        answer = session.get(url, timeout=30)
        times.append((time.perf_counter() - begin) * 1000)
        answer.raise_for_status()
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, Any] = {"changes": args.changes, "evidence": args.changes * 3}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        begin = time.perf_counter()
        make_log(url, args.changes)
        results["build_s"] = round(time.perf_counter() - begin, 1)
        port = free_port()
        env = {**os.environ, "MONITOR_DB_URL": url}
        env.pop("MONITOR_WEB_TOKEN", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(Path(tmp) / "none.yaml"),
             "serve", "--port", str(port)],
            env=env, stderr=subprocess.DEVNULL, cwd=tmp,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            http = requests.Session()
            for _ in range(100):
                try:
                    http.get(f"{base}/healthz", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            cases = {
                "page": "/",
                "filtered": "/?entity=huawei&kind=region&status=live",
                "searched": "/?q=johor",
                "searched, common": "/?q=sovereign+gigawatt",
                "older page": "/?cursor="
                + http.get(f"{base}/api/changes?limit=500", timeout=30).json()["next"],
                "page counts": "/facets",
                "feed": "/feed.atom",
                "api": "/api/changes?limit=100",
                "change": "/changes/12345",
            }
            results["timings"] = {
                name: timed(http, base + path, args.runs) for name, path in cases.items()
            }
            process = psutil.Process(server.pid)
            rss_before = process.memory_info().rss
            paths = list(cases.values())
            begin = time.perf_counter()
            for n in range(args.requests):
                http.get(base + paths[n % len(paths)], timeout=30).raise_for_status()
            elapsed = time.perf_counter() - begin
            rss_after = process.memory_info().rss
            results["rss_mb_before"] = round(rss_before / 2**20, 1)
            results["rss_mb_after"] = round(rss_after / 2**20, 1)
            results["rss_growth_mb"] = round((rss_after - rss_before) / 2**20, 1)
            results["requests"] = args.requests
            results["requests_per_s"] = round(args.requests / elapsed, 1)
        finally:
            server.terminate()
            server.wait(10)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"log: {results['changes']:,} changes, {results['evidence']:,} evidence rows "
          f"(built in {results['build_s']} s)")  # fmt: skip
    for name, found in results["timings"].items():
        target = TARGETS.get(name)
        verdict = "" if target is None else ("  ok" if found["median_ms"] < target else "  SLOW")
        goal = f" (target < {target:.0f} ms)" if target else ""
        print(f"{name:>11}: median {found['median_ms']:7.1f} ms, max {found['max_ms']:7.1f} ms"
              f"{goal}{verdict}")  # fmt: skip
    print(f"server RSS: {results['rss_mb_before']} MB -> {results['rss_mb_after']} MB over "
          f"{results['requests']} requests ({results['requests_per_s']} requests/s)")  # fmt: skip


if __name__ == "__main__":
    main()
