"""Batched processing gives the same change log as one item at a time.

`process_pending` reads, extracts and writes ``batch`` items per transaction with one fact
lookup for the batch and a savepoint per item; each item must still see what the items
before it recorded (a fact reported twice in one batch is new once, a planned fact made
live later in the same batch is a `live` change).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from monitor import tasks
from monitor.app import App, FactExtractor
from monitor.config import Config
from monitor.store.baseline import load_baseline, read_baseline
from monitor.store.db import make_engine, transaction


def change_log(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            "changes": [
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT c.entity, c.kind, c.value, c.change, c.status, i.url "
                        "FROM changes c JOIN items i ON i.id = c.first_item_id ORDER BY c.id"
                    )
                )
            ],
            "facts": [
                tuple(r)
                for r in conn.execute(
                    text("SELECT entity, kind, value_key, status, origin FROM facts ORDER BY id")
                )
            ],
            "observations": sorted(
                tuple(r)
                for r in conn.execute(
                    text(
                        "SELECT f.entity, f.kind, f.value_key, i.url, o.status, o.sentence, "
                        "c.change FROM observations o JOIN facts f ON f.id = o.fact_id "
                        "JOIN items i ON i.id = o.item_id LEFT JOIN changes c "
                        "ON c.id = o.change_id"
                    )
                )
            ),
            "pending": [
                tuple(r)
                for r in conn.execute(text("SELECT id FROM items WHERE processed_at IS NULL"))
            ],
        }


def replay(
    db_url: str, corpora: Path, batch: int, extractor: FactExtractor
) -> tuple[dict[str, list[tuple[object, ...]]], int]:
    engine = make_engine(db_url)
    try:
        with App(config=Config(), engine=engine, extractor=extractor) as app:
            with transaction(app.sessions) as session:
                load_baseline(session, read_baseline(corpora / "baseline.yaml"))
            items = [
                it
                for name in ("dev-en.jsonl", "dev-multi.jsonl")
                for it in tasks.read_jsonl_items(corpora / name)
            ]
            tasks.store_replayed(app, items)
            report = tasks.process_pending(app, queue_alerts=False, batch=batch)
        return change_log(engine), report.items
    finally:
        engine.dispose()


def test_batches_give_the_change_log_of_one_item_at_a_time(
    corpora: Path, db_url: str, second_db_url: str
) -> None:
    extractor = App(config=Config()).extractor  # built once for both replays
    one_by_one, processed_one = replay(db_url, corpora, 1, extractor)
    batched, processed_batched = replay(second_db_url, corpora, 64, extractor)
    assert processed_one == processed_batched == 260
    assert len(one_by_one["changes"]) > 20  # the corpora do make changes, new and live
    assert {c[3] for c in one_by_one["changes"]} == {"new", "live"}
    assert batched == one_by_one
    assert batched["pending"] == []
