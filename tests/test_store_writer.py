"""BatchWriter: many threads' writes in few transactions, each write its own unit."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from monitor.store.db import session_factory, transaction
from monitor.store.sources import all_sources, sync_sources
from monitor.store.writer import BatchWriter


def test_writes_from_many_threads_all_land_in_few_transactions(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    commits = 0
    lock = threading.Lock()

    def count(_session: object) -> None:
        nonlocal commits
        with lock:
            commits += 1

    from sqlalchemy import event

    event.listen(fresh_db, "commit", count)
    names = [f"s{i}" for i in range(200)]
    with BatchWriter(sessions) as writer, ThreadPoolExecutor(32) as pool:
        results = list(
            pool.map(
                lambda n: writer.write(
                    lambda session: sync_sources(session, [(n, "feed", f"http://x/{n}")])[n].name
                ),
                names,
            )
        )
    assert results == names
    with transaction(sessions) as session:
        assert set(all_sources(session)) == set(names)
    assert commits < len(names)  # batched: fewer commits than writes


def test_a_failing_write_costs_only_itself(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)

    def duplicate(session: object) -> None:
        sync_sources(session, [("dup", "feed", "http://x/dup")])  # type: ignore[arg-type]
        raise IntegrityError("INSERT", {}, Exception("refused"))

    with BatchWriter(sessions) as writer:
        with pytest.raises(IntegrityError):
            writer.write(duplicate)
        writer.write(lambda s: sync_sources(s, [("kept", "feed", "http://x/kept")]))
    with transaction(sessions) as session:
        assert set(all_sources(session)) == {"kept"}  # the failed write left nothing
