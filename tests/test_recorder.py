"""One batch of items is looked up once and written in a few statements
(monitor.store.recorder), yet each item sees what the items before it in the batch
recorded, and what earlier batches stored.

A wrong prefetch shows here: a fact two items of one batch report new would be two
changes; planned then live in one batch would miss the ``live`` change; a stored change
an earlier report moves back would not split; evidence would attach to the wrong change.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from monitor import tasks
from monitor.store.db import session_factory
from tests.statements import statements_on
from tests.test_pipeline_support import DEFAULT_RULES, RuleExtractor, item, make_app, make_config
from tests.test_pipeline_support import store as store_items
from tests.test_process_batch import change_log

# stored and processed before the batch (the batch's items then meet stored changes)
BEFORE = [
    ("Alibaba plans a Riyadh region.", "2025-03-01T01:00:00", "p0"),
    ("DeepSeek-R2 is live.", "2025-03-01T09:00:00", "l9"),  # a later report, processed first
]
# one batch, in published order
BATCH = [
    ("Alibaba plans a Querétaro region.", "2025-03-01T02:00:00", "b1"),  # MX new planned
    ("More on the Querétaro plan.", "2025-03-01T03:00:00", "b2"),  # evidence of MX new
    ("Alibaba opened its Querétaro region.", "2025-03-01T04:00:00", "b3"),  # MX live
    ("The Querétaro region opened to all.", "2025-03-01T05:00:00", "b4"),  # evidence of MX live
    ("Alibaba opened the Riyadh region.", "2025-03-01T06:00:00", "b5"),  # SA (stored) live
    ("DeepSeek plans R2 for spring.", "2025-03-01T07:00:00", "b6"),  # before l9: R2 splits
    ("Nothing to see here.", "2025-03-01T07:30:00", "b7"),  # no fact
]


def _store(engine: Engine, reports: list[tuple[str, str, str]]) -> None:
    store_items(
        session_factory(engine),
        [item(t, url=f"https://w.test/{name}", published=p) for t, p, name in reports],
    )


def _evidence(engine: Engine) -> dict[str, tuple[object, ...]]:
    """Each item's observation: the fact's value and the change it supports."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.url, f.value, c.change, c.status FROM observations o "
                "JOIN items i ON i.id = o.item_id JOIN facts f ON f.id = o.fact_id "
                "LEFT JOIN changes c ON c.id = o.change_id"
            )
        )
        return {str(url).rsplit("/", 1)[1]: (value, ch, st) for url, value, ch, st in rows}


def _replay(engine: Engine, tmp_path: Path, batch: int) -> tasks.ProcessReport:
    app = make_app(engine, make_config(tmp_path), RuleExtractor(DEFAULT_RULES))
    for report in BEFORE[::-1]:  # l9 first: its change is moved back by b6
        _store(engine, [report])
        tasks.process_pending(app, queue_alerts=False)
    _store(engine, BATCH)
    return tasks.process_pending(app, queue_alerts=False, batch=batch)


def test_one_batch_gives_the_log_of_one_item_at_a_time(
    fresh_db: Engine, second_db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="monitor.processing"):
        report = _replay(fresh_db, tmp_path, batch=200)
    # written as one batch (a wrong lookup would hit a unique key and fall back to one by one)
    assert "one by one" not in caplog.text
    assert (report.items, report.new, report.live) == (len(BATCH), 1, 3)
    log = change_log(fresh_db)
    assert log["changes"] == [  # id order: the stored ones, then the batch's in its order
        ("deepseek", "model", "DeepSeek-R2", "new", "planned", "https://w.test/b6"),
        ("alibaba", "region", "SA", "new", "planned", "https://w.test/p0"),
        ("alibaba", "region", "MX", "new", "planned", "https://w.test/b1"),
        ("alibaba", "region", "MX", "live", "live", "https://w.test/b3"),
        ("alibaba", "region", "SA", "live", "live", "https://w.test/b5"),
        ("deepseek", "model", "DeepSeek-R2", "live", "live", "https://w.test/l9"),
    ]
    assert log["facts"] == [
        ("deepseek", "model", "deepseekr2", "live", "observed"),
        ("alibaba", "region", "sa", "live", "observed"),
        ("alibaba", "region", "mx", "live", "observed"),
    ]
    evidence = _evidence(fresh_db)
    assert evidence["b1"] == evidence["b2"] == ("MX", "new", "planned")  # one change, not two
    assert evidence["b3"] == evidence["b4"] == ("MX", "live", "live")
    assert evidence["b5"] == ("SA", "live", "live")
    assert evidence["b6"] == ("DeepSeek-R2", "new", "planned")
    assert "b7" not in evidence
    assert log["pending"] == []

    from monitor.store.db import make_engine

    one_by_one = make_engine(second_db_url)
    try:
        _replay(one_by_one, tmp_path, batch=1)
        assert change_log(one_by_one) == log
        assert _evidence(one_by_one) == evidence
    finally:
        one_by_one.dispose()


def test_a_batch_runs_the_same_statements_for_10_items_as_for_40(
    fresh_db: Engine, second_db_url: str, tmp_path: Path
) -> None:
    """Lookups and writes per batch, not per item or per fact."""
    from monitor.store.db import make_engine

    counts = []
    for url, n in ((None, 10), (second_db_url, 40)):
        engine = fresh_db if url is None else make_engine(url)
        try:
            reports = [
                (title, f"2025-03-01T{h:02d}:{m:02d}:00", f"n{n}-{h}-{m}")
                for k in range(n)
                for h, m in [divmod(k, 60)]
                for title in [
                    ("Alibaba plans Querétaro.", "Querétaro opened.", "Riyadh and Qwen3.")[k % 3]
                ]
            ]
            # make every report distinct (the content hash dedupes copies)
            reports = [(f"{t} Copy {i}.", p, name) for i, (t, p, name) in enumerate(reports)]
            _store(engine, reports)
            app = make_app(engine, make_config(tmp_path), RuleExtractor(DEFAULT_RULES))
            with statements_on(engine) as seen:
                report = tasks.process_pending(app, queue_alerts=False)
            assert report.items == n
            counts.append(sorted(s.split()[0].upper() for s in seen))
        finally:
            if url is not None:
                engine.dispose()
    assert counts[0] == counts[1]
    assert len(counts[1]) < 30
