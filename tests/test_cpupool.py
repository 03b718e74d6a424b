"""Extraction on the other cores gives exactly the facts and the change log of extraction
in process (real worker processes, started with forkserver)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from monitor import cpupool, tasks
from monitor.app import App
from monitor.config import Config
from monitor.extract import Extractor
from monitor.extract.watchlist import default_watchlist
from monitor.types import Item
from tests.test_process_batch import change_log, replay


def corpus_items(corpora: Path) -> list[Item]:
    return [
        it
        for name in ("dev-en.jsonl", "dev-multi.jsonl")
        for it in tasks.read_jsonl_items(corpora / name)
    ]


def test_pool_reads_the_same_facts_as_the_extractor_in_process(corpora: Path) -> None:
    items = corpus_items(corpora)
    watchlist = default_watchlist()
    extractor = Extractor(watchlist)
    here = [extractor.extract(it) for it in items]
    pool = cpupool.ExtractionPool(watchlist, workers=1)
    try:
        pool.warm()
        there = pool.extract(items)
    finally:
        pool.close()
    assert sum(map(len, here)) > 100
    assert there == here


def test_an_item_the_extractor_cannot_read_costs_only_itself(corpora: Path) -> None:
    items = corpus_items(corpora)[:5]
    broken = replace(items[2], text=12345)  # type: ignore[arg-type]
    pool = cpupool.ExtractionPool(default_watchlist(), workers=1)
    try:
        results = pool.extract([*items[:2], broken, *items[3:]])
    finally:
        pool.close()
    assert isinstance(results[2], str) and "Error" in results[2]
    assert all(isinstance(r, list) for i, r in enumerate(results) if i != 2)


def test_process_pending_through_the_pool_gives_the_same_change_log(
    corpora: Path, db_url: str, second_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractor = App(config=Config()).extractor
    in_process, _ = replay(db_url, corpora, 64, extractor)

    monkeypatch.setattr(cpupool, "MIN_ITEMS", 1)  # the corpora's 260 items go to the pool
    from monitor.store.db import make_engine

    engine = make_engine(second_db_url)
    try:
        with App(config=Config(), engine=engine) as app:
            if app.pool_for(260) is None:
                pytest.skip("a single core: there is no other core to extract on")
            from monitor.store.baseline import load_baseline, read_baseline
            from monitor.store.db import transaction

            with transaction(app.sessions) as session:
                load_baseline(session, read_baseline(corpora / "baseline.yaml"))
            tasks.store_replayed(app, corpus_items(corpora))
            report = tasks.process_pending(app, queue_alerts=False, batch=64)
            assert "extractor" not in app._parts  # read on the other core only
        assert report.items == 260
        assert change_log(engine) == in_process
    finally:
        engine.dispose()


def test_idle_workers_are_stopped_and_start_again(corpora: Path) -> None:
    """The daemon stops workers left idle after a burst (each holds a built extractor,
    ~100 MB: the soak's daemon kept one from its first pass on); the next batch restarts
    them with the same results."""
    items = corpus_items(corpora)[:20]
    with App(config=Config()) as app:
        assert not app.stop_idle_extraction(0)  # never started: nothing to stop
        pool = app.extraction_pool
        if not pool.available:
            pytest.skip("a single core: there is no other core to extract on")
        first = pool.extract(items)
        assert pool._pool is not None
        workers = list(pool._pool._processes.values())  # type: ignore[attr-defined]
        assert workers and all(w.is_alive() for w in workers)
        assert not app.stop_idle_extraction(3600)  # used just now: kept
        assert pool.running
        assert app.stop_idle_extraction(0)
        assert not pool.running
        assert not any(w.is_alive() for w in workers)
        assert pool.extract(items) == first  # started again
        assert pool.running
