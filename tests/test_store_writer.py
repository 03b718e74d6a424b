"""BatchWriter: many threads' writes in few transactions, each write its own unit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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


def _queued_behind_a_held_write(writer: BatchWriter, writes: list, pool: ThreadPoolExecutor):  # type: ignore[type-arg]
    """Submit ``writes`` (work, key) while the writer is busy with another write, so they
    make one batch; returns their futures. ``pool`` needs a thread for each write and one
    more (a write blocks its thread until committed)."""
    import time

    release = threading.Event()
    first = pool.submit(writer.write, lambda _s: release.wait(10))
    while writer._queue.qsize():  # the writer has taken the holding write
        time.sleep(0.01)
    futures = [pool.submit(writer.write, work, key) for work, key in writes]
    while writer._queue.qsize() < len(writes):
        time.sleep(0.01)
    release.set()
    first.result()
    return futures


def test_a_batch_with_a_failing_write_is_run_again_in_savepoints(fresh_db: Engine) -> None:
    sessions = session_factory(fresh_db)
    runs: list[str] = []

    def add(name: str):  # type: ignore[no-untyped-def]
        def work(session: object) -> str:
            runs.append(name)
            sync_sources(session, [(name, "feed", f"http://x/{name}")])  # type: ignore[arg-type]
            if name == "bad":
                raise IntegrityError("INSERT", {}, Exception("refused"))
            return name

        return work

    names = ["a", "b", "bad", "c"]
    with BatchWriter(sessions) as writer, ThreadPoolExecutor(8) as pool:
        futures = _queued_behind_a_held_write(writer, [(add(n), None) for n in names], pool)
        assert [f.exception() is not None for f in futures] == [False, False, True, False]
        assert [f.result() for f in futures if not f.exception()] == ["a", "b", "c"]
    # first without savepoints up to the failure, then again, each in a savepoint
    assert runs == ["a", "b", "bad", "a", "b", "bad", "c"]
    with transaction(sessions) as session:
        assert set(all_sources(session)) == {"a", "b", "c"}


def test_prepare_loads_the_batch_rows_in_one_query(fresh_db: Engine) -> None:
    from sqlalchemy import event

    from monitor.store.sources import source_row, source_rows

    sessions = session_factory(fresh_db)
    with transaction(sessions) as session:
        ids = [
            r.id
            for r in sync_sources(
                session, [(f"s{i}", "feed", "http://x/") for i in range(30)]
            ).values()
        ]
    selects: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args: object) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(fresh_db, "before_cursor_execute", seen)
    prepared: list[list[int]] = []

    def prepare(session, keys):  # type: ignore[no-untyped-def]
        prepared.append(sorted(keys))
        return source_rows(session, keys)

    def touch(source_id: int):  # type: ignore[no-untyped-def]
        def work(session) -> str:  # type: ignore[no-untyped-def]
            row = source_row(session, source_id)
            assert row is not None
            row.last_status = "fetched"
            return row.name

        return work

    with BatchWriter(sessions, prepare=prepare) as writer, ThreadPoolExecutor(31) as pool:
        futures = _queued_behind_a_held_write(writer, [(touch(i), i) for i in ids], pool)
        assert sorted(f.result() for f in futures) == sorted(f"s{i}" for i in range(30))
    event.remove(fresh_db, "before_cursor_execute", seen)
    assert prepared == [sorted(ids)]  # the held write had no key: no prepare for it
    assert len(selects) == 1  # the batch's rows in one query, none per write
    with transaction(sessions) as session:
        assert {s.last_status for s in source_rows(session, ids)} == {"fetched"}


def test_a_write_refused_at_its_flush_costs_only_itself(fresh_db: Engine) -> None:
    """A write whose own changes fail only when flushed (at the end of its savepoint) gets
    that error; the writer goes on (it once recorded such a write as done and failed)."""
    from monitor.store.models import SourceRow

    sessions = session_factory(fresh_db)
    with transaction(sessions) as session:
        sync_sources(session, [("dup", "feed", "http://x/dup")])

    def duplicate(session: Session) -> str:
        session.add(SourceRow(name="dup", kind="feed", url="http://x/again"))  # flushed later
        return "not stored"

    def keep(name: str) -> Callable[[Session], str]:
        return lambda session: sync_sources(session, [(name, "feed", "http://x/")])[name].name

    pool = ThreadPoolExecutor(8)  # not waited for at the end: a dead writer would hang it
    try:
        with BatchWriter(sessions) as writer:
            writes = [(keep("a"), None), (duplicate, None), (keep("b"), None)]
            futures = _queued_behind_a_held_write(writer, writes, pool)
            assert isinstance(futures[1].exception(timeout=30), IntegrityError)
            assert [f.result(timeout=30) for f in (futures[0], futures[2])] == ["a", "b"]
            assert pool.submit(writer.write, keep("c")).result(timeout=30) == "c"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    with transaction(sessions) as session:
        assert set(all_sources(session)) == {"dup", "a", "b", "c"}
