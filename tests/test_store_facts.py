"""known_facts / fact_rows: the known triples, looked up in batches, not one query each."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event

from monitor.changes import Key, KnownFact
from monitor.store.baseline import load_baseline
from monitor.store.db import IN_CHUNK, session_factory, transaction
from monitor.store.facts import add_fact, known_facts
from monitor.types import Fact
from tests.statements import statements_on

T0 = datetime(2025, 3, 10, 12, 0)


def _facts(count: int) -> list[Fact]:
    return [Fact("alibaba", "model", f"Qwen-{n}", "planned") for n in range(count)]


def test_known_facts_finds_every_known_triple_and_only_those(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    stored = _facts(IN_CHUNK)  # more triples than one IN list holds
    with transaction(sessions) as session:
        load_baseline(session, stored)
        dismissed = add_fact(session, Fact("deepseek", "model", "R2", "live"), "observed", T0)
        dismissed.dismissed_at = T0
    unknown: list[Key] = [("alibaba", "model", "qwen-unknown"), ("huawei", "chip", "qwen-0")]
    asked = [f.key for f in stored] + unknown + [("deepseek", "model", "r2")]
    with sessions() as session:
        known = known_facts(session, asked + asked[:5])  # repeats are fine
    assert set(known) == {f.key for f in stored} | {("deepseek", "model", "r2")}
    assert known[("deepseek", "model", "r2")] == KnownFact(
        dismissed.id, "live", "observed", dismissed=True
    )
    first = known[stored[0].key]
    assert (first.status, first.origin, first.dismissed) == ("planned", "baseline", False)
    assert len({k.fact_id for k in known.values()}) == len(known)


def test_known_facts_runs_one_query_per_chunk_not_one_per_triple(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    triples = 2 * IN_CHUNK
    with transaction(sessions) as session:
        load_baseline(session, _facts(triples))
    keys = [f.key for f in _facts(triples)]
    with sessions() as session, statements_on(fresh_db, "SELECT") as seen:
        known = known_facts(session, keys)
    assert len(known) == triples
    chunk = IN_CHUNK // 3  # three bound values per triple
    assert len(seen) == -(-triples // chunk)
    with sessions() as session, statements_on(fresh_db, "SELECT") as seen:
        assert known_facts(session, []) == {}
    assert seen == []


def test_load_baseline_adds_a_triple_listed_twice_once(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    twice = [
        Fact("alibaba", "region", "MX", "planned"),
        Fact("alibaba", "region", "mx", "live"),  # same triple (the value key is folded)
    ]
    with transaction(sessions) as session:
        assert load_baseline(session, twice) == (1, 1)
    with transaction(sessions) as session:
        assert load_baseline(session, twice) == (0, 0)
        known = known_facts(session, [twice[0].key])
    assert known[twice[0].key].status == "live"


@pytest.mark.sqlite_only("EXPLAIN QUERY PLAN is SQLite's")
def test_the_batched_lookup_uses_the_triple_index(fresh_db: Engine) -> None:
    """SQLite scans the whole facts table for a row-value IN; the lookup must not."""
    sessions = session_factory(fresh_db)
    facts = [*_facts(50), Fact("huawei", "chip", "Ascend 910C", "live")]
    with transaction(sessions) as session:
        load_baseline(session, facts)
    ran: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        ran.append((statement, parameters))

    event.listen(fresh_db, "before_cursor_execute", record)
    try:
        with sessions() as session:
            assert len(known_facts(session, [f.key for f in facts])) == len(facts)
    finally:
        event.remove(fresh_db, "before_cursor_execute", record)
    ((statement, parameters),) = [r for r in ran if r[0].lstrip().upper().startswith("SELECT")]
    with fresh_db.connect() as conn:
        plan = [
            row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        ]
    assert not any(step.startswith("SCAN facts") for step in plan), plan
    assert any("USING INDEX" in step for step in plan), plan
