"""Change-log reads at scale: ChangeQuery pages, deep keyset pages, counts, facets, search.

A fresh database (SQLite file by default, or ``--db URL``) is filled with a synthetic log
of ``--changes`` changes (each with one item and one observation, dates spread over a
year, five sources, three languages) by bulk inserts, then each read is timed (median of
``--repeat`` runs, milliseconds)::

    python bench/bench_queries.py [--changes 50000] [--db URL] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session, sessionmaker

from monitor.store.db import make_engine, session_factory, upgrade
from monitor.store.models import ChangeRow, FactRow, ItemRow, ObservationRow, SourceRow
from monitor.store.queries import ChangeQuery, count_changes, count_changes_by, find_changes

START = datetime(2025, 1, 1)
ENTITIES = ("alibaba", "deepseek", "huawei", "tencent", "baidu", "bytedance", "moonshot")
KINDS = ("region", "chip", "model")
LANGS = ("en", "zh", "fr")


def fill(engine: Engine, changes: int, evidence: int = 1) -> None:
    """The synthetic log, written with bulk INSERTs (the write path is not what is timed):
    each change with ``evidence`` items and observations (the first one its first item)."""
    minutes = 365 * 24 * 60
    with engine.begin() as conn:
        conn.execute(
            insert(SourceRow),
            [
                {"id": n + 1, "name": f"source-{n}", "kind": "feed", "url": f"https://s{n}.test/"}
                | {"created_at": START, "consecutive_failures": 0, "items_count": 0}
                for n in range(5)
            ],
        )
        for first in range(0, changes, 5000):
            ids = range(first + 1, min(first + 5000, changes) + 1)
            when = {i: START + timedelta(minutes=(i * 7919) % minutes) for i in ids}
            item_ids = {i: [(i - 1) * evidence + k + 1 for k in range(evidence)] for i in ids}
            conn.execute(
                insert(ItemRow),
                [
                    {
                        "id": n,
                        "source_id": n % 5 + 1,
                        "url": f"https://news.test/{n}",
                        "url_key": f"https://news.test/{n}",
                        "content_hash": f"h{n}",
                        "title": f"Report {n} on {ENTITIES[i % 7]}",
                        "text": f"{ENTITIES[i % 7]} plans Value{i}.",
                        "lang": LANGS[n % 3],
                        "published_at": when[i] + timedelta(minutes=k),
                        "fetched_at": when[i] + timedelta(minutes=k),
                        "processed_at": when[i] + timedelta(minutes=k),
                    }
                    for i in ids
                    for k, n in enumerate(item_ids[i])
                ],
            )
            conn.execute(
                insert(FactRow),
                [
                    {
                        "id": i,
                        "entity": ENTITIES[i % 7],
                        "kind": KINDS[i % 3],
                        "value": f"Value{i}",
                        "value_key": f"value{i}",
                        "status": "planned",
                        "origin": "observed",
                        "first_seen_at": when[i],
                        "last_seen_at": when[i],
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(ChangeRow),
                [
                    {
                        "id": i,
                        "fact_id": i,
                        "change": "new" if i % 10 else "live",
                        "entity": ENTITIES[i % 7],
                        "kind": KINDS[i % 3],
                        "value": f"Value{i}",
                        "status": "planned" if i % 10 else "live",
                        "at": when[i] + timedelta(minutes=5),
                        "published_at": when[i],
                        "first_item_id": item_ids[i][0],
                        "dismissed_at": when[i] if i % 50 == 0 else None,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(ObservationRow),
                [
                    {
                        "fact_id": i,
                        "item_id": n,
                        "change_id": i,
                        "status": "planned",
                        "sentence": f"{ENTITIES[i % 7]} plans Value{i}.",
                        "field": "text",
                        "start": 0,
                        "end": 20,
                        "observed_at": when[i],
                    }
                    for i in ids
                    for n in item_ids[i]
                ],
            )


def timed(run: Callable[[], Any], repeat: int) -> float:
    laps = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        laps.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(laps), 2)


def deep_cursor(sessions: sessionmaker[Session], query: ChangeQuery, pages: int) -> str | None:
    with sessions() as session:
        page = find_changes(session, replace(query, limit=query.limit * pages, evidence=False))
        return page.next_cursor


def measure(sessions: sessionmaker[Session], changes: int, repeat: int) -> dict[str, float]:
    first = ChangeQuery(dismissed=False, limit=50)
    by_id = replace(first, order="id")
    deep = replace(first, cursor=deep_cursor(sessions, first, changes // 100))
    deep_id = replace(by_id, cursor=deep_cursor(sessions, by_id, changes // 100))
    filtered = replace(first, entity="huawei", kind="model", lang="zh")
    searched = replace(first, search="value12")
    results: dict[str, float] = {}
    with sessions() as session:
        cases: dict[str, Callable[[], Any]] = {
            "first page (50, by date, evidence)": lambda: find_changes(session, first),
            "first page (50, by id, evidence)": lambda: find_changes(session, by_id),
            "first page (50, by id, no evidence)": lambda: find_changes(
                session, replace(by_id, evidence=False)
            ),
            "page at the middle (by date)": lambda: find_changes(session, deep),
            "page at the middle (by id)": lambda: find_changes(session, deep_id),
            "entity+kind+lang filtered page": lambda: find_changes(session, filtered),
            "search page ('value12')": lambda: find_changes(session, searched),
            "count (not dismissed)": lambda: count_changes(session, first),
            "facet entity": lambda: count_changes_by(session, first, "entity"),
            "facet source (via evidence)": lambda: count_changes_by(session, first, "source"),
        }
        for name, run in cases.items():
            results[name] = timed(run, repeat)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=50_000)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(args.db or f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            upgrade(engine)
            started = time.perf_counter()
            fill(engine, args.changes)
            with engine.begin() as conn:  # fresh statistics, as autovacuum would gather
                conn.execute(text("ANALYZE"))
            filled = time.perf_counter() - started
            results = measure(session_factory(engine), args.changes, args.repeat)
        finally:
            engine.dispose()
    if args.json:
        print(json.dumps({"changes": args.changes, "ms": results}, indent=2))
        return
    print(f"{args.changes} changes ({engine.url.get_backend_name()}, filled in {filled:.1f} s)")
    for name, ms in results.items():
        print(f"  {name:40} {ms:8.2f} ms")


if __name__ == "__main__":
    main()
