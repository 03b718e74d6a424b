"""Alert scoring (FACTS.md "Scoring", alerting part) by replaying corpora with `monitor ingest`.

A fresh SQLite database is initialised with the baseline (`monitor init --baseline`), the
corpora are replayed (`monitor ingest --no-send`, the same path fetched items take), and the
change log is compared with the expected alerts: the gold facts whose triple is not in the
baseline, once each at its first item, plus each planned -> live upgrade once.

    python bench/bench_alerts.py [--corpora ../shared/corpora] [--json]

Prints precision, recall, duplicates, on-time share (alert raised at the expected item),
the syndication effect (items and stories that attached to an existing change), and timing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPORA = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "corpora"
DEV_FILES = ("dev-en.jsonl", "dev-multi.jsonl")
RANK = {"planned": 0, "live": 1}

Triple = tuple[str, str, str]


def value_key(value: str) -> str:
    # FACTS.md's key, written out here so the scorer does not lean on the code it scores.
    return "".join(ch for ch in value.lower() if ch.isalnum() or ch == ".")


def read_corpus(paths: list[Path]) -> list[dict[str, Any]]:
    """Items of every file, in `published` order (stable: file order breaks ties)."""
    items = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            items.extend(json.loads(line) for line in handle if line.strip())
    return sorted(items, key=lambda it: it.get("published") or "9999")


def expected_alerts(items: list[dict[str, Any]], baseline: Path) -> dict[tuple[Triple, str], str]:
    """(triple, new|live) -> id of the item that should raise it."""
    known: dict[Triple, str] = {}
    for fact in yaml.safe_load(baseline.read_text(encoding="utf-8"))["facts"]:
        known[(fact["entity"], fact["kind"], value_key(str(fact["value"])))] = fact["status"]
    expected: dict[tuple[Triple, str], str] = {}
    for item in items:
        merged: dict[Triple, str] = {}
        for fact in item.get("facts", []):
            triple = (fact["entity"], fact["kind"], value_key(fact["value"]))
            status = fact.get("status", "live")
            if RANK[status] >= RANK[merged.get(triple, "planned")]:
                merged[triple] = status
        for triple, status in merged.items():
            if triple not in known:
                expected[(triple, "new")] = item["id"]
                known[triple] = status
            elif known[triple] == "planned" and status == "live":
                expected[(triple, "live")] = item["id"]
                known[triple] = "live"
    return expected


@dataclass
class AlertScore:
    expected: int
    alerts: int
    matched: int
    precision: float
    recall: float
    duplicates: int
    on_time: int  # matched alerts raised by the very item that should raise them
    items: int
    attached_items: int  # items whose reports only added evidence to an existing change
    attached_stories: int  # stories with at least one such item
    stories_alerted_once: int  # stories whose first item raised a change
    per_item_alerts: int  # what alerting once per item (no attaching) would have sent
    ingest_seconds: float
    false_positives: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)


def actual_alerts(db_url: str) -> list[dict[str, Any]]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.id, c.entity, c.kind, c.value, c.change, f.value_key, "
                "json_extract(i.extra, '$.id') AS item_id "
                "FROM changes c JOIN facts f ON f.id = c.fact_id "
                "LEFT JOIN items i ON i.id = c.first_item_id"
            )
        ).mappings()
        result = [dict(r) for r in rows]
    engine.dispose()
    return result


def syndication(db_url: str) -> tuple[int, int, int, int]:
    """(items attached to an existing change, their stories, stories alerted on, alerts a
    per-item alerter would have sent: one per item reporting a changed fact)."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        per_item = conn.execute(
            text("SELECT count(*) FROM observations WHERE change_id IS NOT NULL")
        ).scalar_one()
        attached = conn.execute(
            text(
                "SELECT DISTINCT o.item_id, json_extract(i.extra, '$.story') FROM observations o "
                "JOIN changes c ON c.id = o.change_id JOIN items i ON i.id = o.item_id "
                "WHERE o.item_id != c.first_item_id"
            )
        ).all()
        alerted = conn.execute(
            text(
                "SELECT DISTINCT json_extract(i.extra, '$.story') FROM changes c "
                "JOIN items i ON i.id = c.first_item_id"
            )
        ).all()
    engine.dispose()
    stories = {story for _, story in attached if story}
    return (
        len({item for item, _ in attached}),
        len(stories),
        len({s for (s,) in alerted if s}),
        int(per_item),
    )


def monitor(*args: str, db_url: str, config: Path, notify_urls: str = "") -> str:
    env = {**os.environ, "MONITOR_DB_URL": db_url, "MONITOR_NOTIFY_URLS": notify_urls}
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(ROOT),
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"monitor {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def run(
    corpora: Path, files: tuple[str, ...] = DEV_FILES, workdir: Path | None = None
) -> AlertScore:
    paths = [corpora / name for name in files]
    baseline = corpora / "baseline.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        base = workdir or Path(tmp)
        db_url = f"sqlite:///{base / 'alerts.db'}"
        config = base / "sources.yaml"
        config.write_text("sources: []\n", encoding="utf-8")  # default watchlist, no channels
        monitor("init", "--baseline", str(baseline), db_url=db_url, config=config)
        started = time.perf_counter()
        monitor("ingest", "--no-send", *map(str, paths), db_url=db_url, config=config)
        seconds = time.perf_counter() - started
        items = read_corpus(paths)
        expected = expected_alerts(items, baseline)
        actual = actual_alerts(db_url)
        attached_items, attached_stories, stories_alerted, per_item = syndication(db_url)
    pairs = Counter(((a["entity"], a["kind"], a["value_key"]), a["change"]) for a in actual)
    duplicates = sum(n - 1 for n in pairs.values())
    matched = [p for p in pairs if p in expected]
    first_item = {
        ((a["entity"], a["kind"], a["value_key"]), a["change"]): a["item_id"] for a in actual
    }
    on_time = sum(1 for p in matched if first_item[p] == expected[p])
    return AlertScore(
        expected=len(expected),
        alerts=len(actual),
        matched=len(matched),
        precision=len(matched) / len(actual) if actual else 1.0,
        recall=len(matched) / len(expected) if expected else 1.0,
        duplicates=duplicates,
        on_time=on_time,
        items=len(items),
        attached_items=attached_items,
        attached_stories=attached_stories,
        stories_alerted_once=stories_alerted,
        per_item_alerts=per_item,
        ingest_seconds=round(seconds, 2),
        false_positives=sorted(f"{'/'.join(t)} {c}" for t, c in pairs if (t, c) not in expected),
        missed=sorted(
            f"{'/'.join(t)} {c} @{expected[(t, c)]}" for t, c in expected if (t, c) not in pairs
        ),
    )


def delivery_throughput(corpora: Path, files: tuple[str, ...] = DEV_FILES) -> dict[str, Any]:
    """Replay with a loopback JSON channel, queue without sending, then time one
    `monitor notify` that sends the whole outbox."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[bytes] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db_url = f"sqlite:///{Path(tmp) / 'alerts.db'}"
            config = Path(tmp) / "sources.yaml"
            # replayed corpora are old news: alert on them anyway (alerts.max_age)
            config.write_text("sources: []\nalerts:\n  max_age: none\n", encoding="utf-8")
            monitor(
                "init", "--baseline", str(corpora / "baseline.yaml"), db_url=db_url, config=config
            )
            paths = [str(corpora / name) for name in files]
            monitor("ingest", "--no-send", *paths, db_url=db_url, config=config, notify_urls=url)
            started = time.perf_counter()
            monitor("notify", db_url=db_url, config=config, notify_urls=url)
            seconds = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
    return {"alerts": len(received), "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    parser.add_argument("--files", nargs="+", default=list(DEV_FILES))
    parser.add_argument("--json", action="store_true", help="print the score as JSON")
    parser.add_argument(
        "--no-delivery", action="store_true", help="skip the outbox throughput measurement"
    )
    args = parser.parse_args()
    score = run(args.corpora, tuple(args.files))
    if args.json:
        print(json.dumps(asdict(score), indent=2))
        return
    print(f"corpora: {', '.join(args.files)} ({score.items} items), baseline.yaml")
    print(f"alerts: {score.alerts} recorded, {score.expected} expected, {score.matched} matched")
    print(
        f"precision {score.precision:.3f}  recall {score.recall:.3f}  duplicates {score.duplicates}"
    )
    print(f"on time (raised by the expected first item): {score.on_time}/{score.matched}")
    print(
        f"syndication: {score.attached_items} items ({score.attached_stories} stories) attached "
        f"to an existing change instead of alerting again; "
        f"{score.stories_alerted_once} stories raised alerts; "
        f"{score.alerts} alerts instead of {score.per_item_alerts} if every item alerted"
    )
    print(f"ingest time: {score.ingest_seconds} s (monitor ingest, subprocess)")
    if not args.no_delivery:
        sent = delivery_throughput(args.corpora, tuple(args.files))
        print(
            f"delivery: {sent['alerts']} alerts to a loopback json:// channel in "
            f"{sent['seconds']} s (one `monitor notify`, subprocess)"
        )
    for line in score.false_positives:
        print(f"  false positive: {line}")
    for line in score.missed:
        print(f"  missed: {line}")


if __name__ == "__main__":
    main()
