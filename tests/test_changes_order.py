"""Order independence: the change log does not depend on the order items are processed in.

Workers process items as their sources come in, so a later "live" report may be
processed before an earlier "planned" one; the log must equal what one pass in published
order writes (monitor.changes.ordered_log, applied by monitor.store.facts.record_item)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from monitor import tasks
from monitor.changes import LogEntry, ordered_log
from monitor.store.baseline import load_baseline
from monitor.store.db import session_factory, transaction
from monitor.store.models import ChangeRow, DeliveryRow, ItemRow
from monitor.types import Fact
from tests.test_pipeline_support import (
    DEFAULT_RULES,
    RuleExtractor,
    item,
    make_app,
    make_config,
    store,
)

T0 = datetime(2026, 1, 1)


def fold(baseline: str | None, reports: list[LogEntry]) -> tuple[LogEntry | None, LogEntry | None]:
    new = live = None
    for report in reports:
        new, live = ordered_log(baseline, new, live, report)
    return new, live


def at(n: int) -> tuple[datetime, str]:
    return (T0 + timedelta(hours=n), f"hash{n}")


@pytest.mark.parametrize("baseline", [None, "planned", "live"])
@pytest.mark.parametrize(
    "statuses",
    [
        ["planned", "live"],
        ["live", "planned"],
        ["planned", "planned", "live", "live"],
        ["live", "planned", "live", "planned"],
        ["planned", "live", "planned", "live"],
    ],
    ids=str,
)
def test_every_processing_order_gives_the_published_order_log(
    baseline: str | None, statuses: list[str]
) -> None:
    reports = [LogEntry(at(n), s) for n, s in enumerate(statuses)]
    expected = fold(baseline, reports)  # published order
    for order in itertools.permutations(reports):
        assert fold(baseline, list(order)) == expected, order


def test_published_order_log_is_what_the_rules_say() -> None:
    planned, live, planned2 = (
        LogEntry(at(1), "planned"),
        LogEntry(at(2), "live"),
        LogEntry(at(3), "planned"),
    )
    assert fold(None, [planned, live, planned2]) == (planned, live)
    assert fold(None, [live, planned2]) == (live, None)  # live first: no "live" change
    assert fold("planned", [planned, live]) == (None, live)
    assert fold("live", [planned, live]) == (None, None)


REPORTS = [
    ("Alibaba plans Mexico region", "2025-03-01T00:00:00"),  # planned
    ("Alibaba opened its Mexico region", "2025-04-01T00:00:00"),  # live
    ("Alibaba plans Saudi region", "2025-03-05T00:00:00"),
    ("Alibaba opened its Saudi region", "2025-03-03T00:00:00"),  # live before planned
    ("DeepSeek plans DeepSeek-R2", "2025-05-01T00:00:00"),
    ("DeepSeek released DeepSeek-R2", "2025-05-02T00:00:00"),
]


def change_log(engine: Engine) -> list[tuple[object, ...]]:
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        rows = session.execute(
            select(
                ChangeRow.entity,
                ChangeRow.kind,
                ChangeRow.value,
                ChangeRow.change,
                ChangeRow.status,
                ChangeRow.published_at,
                ItemRow.url,
            ).join(ItemRow, ItemRow.id == ChangeRow.first_item_id)
        ).all()
        deliveries = session.scalars(select(DeliveryRow.change_id)).all()
        changes = set(session.scalars(select(ChangeRow.id)).all())
    assert set(deliveries) <= changes  # no alert left for a change that went
    return sorted((tuple(r) for r in rows), key=str)


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4, 5], [5, 3, 1, 4, 2, 0], [1, 0, 3, 2, 5, 4]])
@pytest.mark.parametrize("baseline", [False, True])
def test_items_processed_one_by_one_in_any_order_give_the_same_change_log(
    fresh_db: Engine, tmp_path: Path, order: list[int], baseline: bool
) -> None:
    sessions = session_factory(fresh_db)
    if baseline:
        with transaction(sessions) as session:
            load_baseline(session, [Fact("deepseek", "model", "DeepSeek-R2", "planned")])
    app = make_app(fresh_db, make_config(tmp_path), RuleExtractor(DEFAULT_RULES))
    for n in order:  # each arrives and is processed before the next is fetched
        title, published = REPORTS[n]
        store(sessions, [item(title, url=f"https://w.test/{n}", published=published)])
        tasks.process_pending(app, now=T0)
    got = change_log(fresh_db)
    # the reference: everything stored first, then one pass in published order
    assert got == _sequential(tmp_path, baseline)
    assert len(got) == (4 if baseline else 5)


def _sequential(tmp_path: Path, baseline: bool) -> list[tuple[object, ...]]:
    from monitor.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'seq.db'}")
    try:
        upgrade(engine)
        sessions = session_factory(engine)
        if baseline:
            with transaction(sessions) as session:
                load_baseline(session, [Fact("deepseek", "model", "DeepSeek-R2", "planned")])
        app = make_app(engine, make_config(tmp_path), RuleExtractor(DEFAULT_RULES))
        store(
            sessions,
            [item(t, url=f"https://w.test/{n}", published=p) for n, (t, p) in enumerate(REPORTS)],
        )
        tasks.process_pending(app, now=T0)
        return change_log(engine)
    finally:
        engine.dispose()
