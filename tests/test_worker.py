"""`monitor worker`: real worker subprocesses on one real PostgreSQL database (loopback),
over the dev newsroom served by tests/httpserver.py, alerting a real HTTP endpoint through
Apprise (json://). Skipped with one reason where PostgreSQL cannot be reached."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Select, create_engine, select, text
from sqlalchemy.pool import NullPool

from monitor.store.models import ChangeRow, ItemRow
from tests.httpserver import LocalServer, Reply, Request
from tests.pgdb import pg_url, serve_newsroom, sources_yaml

__all__ = ["pg_url"]

PERIODS = "SELECT count(*) FROM procrastinate_periodic_defers WHERE task_name = "
CHANGE_LOG = select(
    ChangeRow.entity,
    ChangeRow.kind,
    ChangeRow.value,
    ChangeRow.change,
    ChangeRow.status,
    ChangeRow.published_at,
    ItemRow.url,
).outerjoin(ItemRow, ItemRow.id == ChangeRow.first_item_id)


def monitor(config: Path, db: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", db, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
        env={**os.environ, **(env or {})},
    )


def run_ok(config: Path, db: str, *args: str) -> str:
    proc = monitor(config, db, *args)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def stop(procs: list[Any]) -> list[tuple[int, str]]:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    results = []
    for proc in procs:
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        results.append((proc.returncode, err))
    return results


def empty_queue(pg_url: str, tmp_path: Path) -> Any:
    """`monitor init` on the database with no sources; a queue app that only defers."""
    from monitor.worker.queue import make_queue

    config = tmp_path / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    run_ok(config, pg_url, "init")
    return make_queue(pg_url)


@pytest.fixture
def engine_of() -> Iterator[Callable[[str], Engine]]:
    made: list[Engine] = []

    def make(url: str) -> Engine:
        engine = create_engine(url, poolclass=NullPool)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()


def scalar(engine: Engine, sql: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def rows(engine: Engine, sql: str | Select[Any]) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        query = text(sql) if isinstance(sql, str) else sql
        return [tuple(r) for r in conn.execute(query).all()]


@pytest.fixture
def hook() -> Iterator[LocalServer]:
    """The alert endpoint (its own server: the feeds' server counts requests per host)."""
    server = LocalServer()
    server.route("/hook", Reply(status=200))
    try:
        yield server
    finally:
        server.close()


def test_worker_on_sqlite_refuses_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'm.db'}"
    run_ok(config, db, "init")
    proc = monitor(config, db, "worker")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.strip() == (
        "error: monitor worker needs PostgreSQL (--db postgresql+psycopg://...); "
        "on SQLite use `monitor run`"
    )


def test_three_workers_store_once_match_sequential_sqlite_and_alert_once_in_order(
    pg_url: str,
    tmp_path: Path,
    corpora: Path,
    http_server: LocalServer,
    hook: LocalServer,
    engine_of: Callable[[str], Engine],
) -> None:
    sources = serve_newsroom(http_server, corpora, delay=0.05)
    config = tmp_path / "sources.yaml"
    # every change alerts (the corpus is old news, and this is the sources' first pass)
    extra = "defaults:\n  per_host: 1\nalerts:\n  quiet_first_pass: false\n  max_age: none\n"
    config.write_text(sources_yaml(sources, extra), encoding="utf-8")

    # the reference: one sequential `once --all` on SQLite
    sqlite_url = f"sqlite:///{tmp_path / 'seq.db'}"
    run_ok(config, sqlite_url, "init")
    run_ok(config, sqlite_url, "once", "--all")
    http_server.max_active = 0

    run_ok(config, pg_url, "init")
    env = {"MONITOR_NOTIFY_URLS": hook.url("/hook").replace("http://", "json://")}
    workers = [monitor(config, pg_url, "worker", "--concurrency", "4", env=env) for _ in range(3)]
    pg = engine_of(pg_url)
    try:
        wait_for(
            lambda: (
                scalar(pg, "SELECT count(*) FROM items WHERE processed_at IS NOT NULL") == 260
                and scalar(pg, "SELECT count(*) FROM deliveries WHERE state <> 'sent'") == 0
                and len(hook.requests) == scalar(pg, "SELECT count(*) FROM changes")
            ),
            150,
            "every item processed and every change alerted",
        )
    finally:
        results = stop(workers)
    for code, err in results:  # SIGTERM: the jobs in hand finish, exit 0
        assert code == 0, err
        assert "worker stopped" in err and "Traceback" not in err, err

    # every item stored once; no fact, change or observation twice
    assert scalar(pg, "SELECT count(*) FROM items") == 260
    assert scalar(pg, "SELECT count(DISTINCT url_key) FROM items") == 260
    for table, key in [
        ("facts", "entity, kind, value_key"),
        ("changes", "fact_id, change"),
        ("observations", "fact_id, item_id"),
        ("deliveries", "change_id, channel"),
    ]:
        dupes = (
            f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1) d"
        )
        assert scalar(pg, dupes) == 0, table
    # the change log equals the sequential run's
    seq = engine_of(sqlite_url)
    pg_log, seq_log = sorted(rows(pg, CHANGE_LOG), key=str), sorted(rows(seq, CHANGE_LOG), key=str)
    assert len(pg_log) > 50
    assert pg_log == seq_log
    # every change alerted exactly once, in change order on the channel
    ids = [int(m) for r in hook.requests for m in re.findall(r"Change #(\d+)", _message(r))]
    assert len(ids) == len(hook.requests)
    assert (
        sorted(ids)
        == sorted(set(ids))
        == [r[0] for r in rows(pg, "SELECT id FROM changes ORDER BY id")]
    )
    assert ids == sorted(ids)
    # per_host across the three workers: the feeds' host never saw two requests at once
    assert http_server.max_active == 1


def _message(request: Request) -> str:
    return str(json.loads(request.body).get("message", ""))


def test_a_worker_killed_mid_job_loses_nothing_its_job_runs_again(
    pg_url: str,
    tmp_path: Path,
    corpora: Path,
    http_server: LocalServer,
    engine_of: Callable[[str], Engine],
) -> None:
    sources = serve_newsroom(http_server, corpora)
    slow_name, slow_url = sources[0]
    slow_path = "/" + slow_url.split("/", 3)[3]
    body = http_server.routes[slow_path]
    assert isinstance(body, Reply)
    # the first request hangs long enough to kill its worker; later ones answer at once
    http_server.route(
        slow_path,
        lambda req: Reply(body=body.body, headers=body.headers, delay=30 if req.count == 0 else 0),
    )
    config = tmp_path / "sources.yaml"
    config.write_text(sources_yaml([(slow_name, slow_url)]), encoding="utf-8")
    run_ok(config, pg_url, "init")
    pg = engine_of(pg_url)
    first = monitor(config, pg_url, "worker", "--stalled-after", "2")
    try:
        wait_for(lambda: len(http_server.hits(slow_path)) == 1, 60, "the first fetch to start")
        doing = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing' AND task_name = "
        assert scalar(pg, doing + "'monitor.poll'") == 1
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        assert scalar(pg, "SELECT count(*) FROM items") == 0
        second = monitor(config, pg_url, "worker", "--stalled-after", "2")
        try:
            wait_for(
                lambda: (
                    scalar(pg, "SELECT count(*) FROM items WHERE processed_at IS NOT NULL") == 20
                ),
                90,
                "the killed job to run again and its items to be processed",
            )
        finally:
            ((code, err),) = stop([second])
        assert code == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    # the killed poll job itself was put back and succeeded (not a new one from the tick)
    retried = rows(
        pg,
        "SELECT j.id FROM procrastinate_jobs j JOIN procrastinate_events e ON e.job_id = j.id "
        "WHERE j.task_name = 'monitor.poll' AND j.status = 'succeeded' "
        "AND e.type IN ('retried', 'deferred_for_retry')",
    )
    assert retried
    assert scalar(pg, "SELECT count(*) FROM items") == 20


def test_two_schedulers_ticking_at_the_same_instant_queue_one_job(
    pg_url: str, tmp_path: Path, engine_of: Callable[[str], Engine]
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    run_ok(config, pg_url, "init")
    # Both only work the deliver queue, so the periodic jobs they queue wait, countable.
    schedulers = [monitor(config, pg_url, "worker", "--queues", "deliver") for _ in range(2)]
    pg = engine_of(pg_url)
    try:
        wait_for(lambda: scalar(pg, PERIODS + "'monitor.tick'") >= 1, 30, "a first tick")
        time.sleep(11)  # two more tick periods (every 5 s), each seen by both schedulers
        assert all(proc.poll() is None for proc in schedulers)
    finally:
        results = stop(schedulers)
    for code, err in results:
        assert code == 0, err
    ticks = rows(
        pg,
        "SELECT args->>'timestamp', count(*) FROM procrastinate_jobs "
        "WHERE task_name = 'monitor.tick' GROUP BY 1",
    )
    # Two workers each ran their periodic deferrer over two periods or more: one tick job
    # was queued (once per period, and a waiting tick refuses a second)
    assert ticks and sum(n for _ts, n in ticks) == 1


def test_daemon_lock_on_postgresql_refuses_a_second_and_passes_at_once_after_kill_9(
    pg_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    run_ok(config, pg_url, "init")

    def started(proc: Any) -> bool:
        assert proc.stderr is not None
        ends = time.monotonic() + 30
        while time.monotonic() < ends:
            line = proc.stderr.readline()
            if "daemon start" in line:
                return True
            if not line and proc.poll() is not None:
                return False
        return False

    first = monitor(config, pg_url, "run")
    try:
        assert started(first)
        second = monitor(config, pg_url, "run")
        _out, err = second.communicate(timeout=30)
        assert second.returncode == 1
        assert f"(pid {first.pid} on " in err and "already running" in err
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        # no heartbeat to wait out: the dead daemon's connection, hence its lock, is gone
        took_at = time.monotonic()
        third = monitor(config, pg_url, "run")
        try:
            assert started(third)
            assert time.monotonic() - took_at < 20
        finally:
            ((code, err),) = stop([third])
        assert code == 0, err
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()


def test_a_worker_takes_schedule_then_process_then_deliver_before_queued_polls(
    pg_url: str, tmp_path: Path
) -> None:
    """A first pass queues a poll per source before any process job: the process job (and
    the delivery it leads to) must not wait for the last poll to be fetched."""
    import asyncio

    app = empty_queue(pg_url, tmp_path)

    async def taken_in_order() -> list[str]:
        async with app.open_async():
            for n in range(5):
                await app.tasks["monitor.poll"].defer_async(name=f"feed-{n}")
            await app.tasks["monitor.deliver"].defer_async(channel="desk")
            await app.tasks["monitor.process"].defer_async()
            await app.tasks["monitor.tick"].defer_async(timestamp=0)
            await app.tasks["monitor.poll"].defer_async(name="feed-late")
            manager = app.job_manager
            worker_id = await manager.register_worker()
            order = []
            while (job := await manager.fetch_job(queues=None, worker_id=worker_id)) is not None:
                order.append(job.task_name)
            await manager.unregister_worker(worker_id)
            return order

    order = asyncio.run(taken_in_order())
    assert order == ["monitor.tick", "monitor.process", "monitor.deliver"] + ["monitor.poll"] * 6


def test_a_worker_runs_as_many_polls_at_once_as_its_concurrency(
    pg_url: str, tmp_path: Path
) -> None:
    """--concurrency 40 means 40 jobs in flight, not the 6 to 32 threads of asyncio's
    default executor (min(32, cores + 4)), which Procrastinate runs plain tasks on."""
    import threading

    delay = 6.0
    arrivals: list[float] = []
    lock = threading.Lock()
    empty = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

    def slow_feed(_request: Request) -> Reply:
        with lock:
            arrivals.append(time.monotonic())
        return Reply(body=empty, headers={"Content-Type": "application/rss+xml"}, delay=delay)

    servers = [LocalServer(host) for host in ("127.0.0.1", "127.0.0.2")]
    try:
        sources = []
        for s, server in enumerate(servers):
            for n in range(20):
                server.route(f"/feed-{n}.xml", slow_feed)
                sources.append((f"slow-{s}-{n}", server.url(f"/feed-{n}.xml")))
        config = tmp_path / "sources.yaml"
        extra = "defaults:\n  per_host: 20\n  concurrency: 64\n"
        config.write_text(sources_yaml(sources, extra), encoding="utf-8")
        run_ok(config, pg_url, "init")
        worker = monitor(config, pg_url, "worker", "--concurrency", "40")
        try:
            wait_for(lambda: len(arrivals) >= 40, 60, "every source requested")
            time.sleep(0.5)
        finally:
            ((code, err),) = stop([worker])
        assert code == 0, err
    finally:
        for server in servers:
            server.close()
    first = sorted(arrivals)[:40]
    # the most requests that arrived within one reply's delay of each other were in
    # flight together: more than any default executor's 32 threads
    at_once = max(sum(1 for t in first if start <= t < start + delay * 0.9) for start in first)
    assert at_once > 32, f"at most {at_once} polls in flight at once"


def test_a_tick_queues_each_due_source_once_in_one_statement(pg_url: str, tmp_path: Path) -> None:
    """Polls already waiting are left alone (no INSERT refused per source per tick); the
    others are queued together, each with its own lock; a race falls back to one by one."""
    from monitor.worker.queue import _defer_polls

    app = empty_queue(pg_url, tmp_path)
    with app.open():
        poll = app.tasks["monitor.poll"]
        assert _defer_polls(app, poll, ["a", "b", "c"]) == 3
        assert _defer_polls(app, poll, ["a", "b", "c", "d"]) == 1  # only d was not waiting
        # a race: another scheduler queued "e" between the read of the queue and the batch
        real_list_jobs = app.job_manager.list_jobs
        poll.configure(lock="poll:e", queueing_lock="poll:e").defer(name="e")
        app.job_manager.list_jobs = lambda **_kw: []  # type: ignore[method-assign]
        try:
            assert _defer_polls(app, poll, ["e", "f"]) == 1  # f queued, e already there
        finally:
            app.job_manager.list_jobs = real_list_jobs  # type: ignore[method-assign]
        jobs = app.job_manager.list_jobs(task="monitor.poll", status="todo")
    assert sorted((j.task_kwargs["name"], j.lock, j.queueing_lock) for j in jobs) == [
        (n, f"poll:{n}", f"poll:{n}") for n in "abcdef"
    ]


def _analyses(engine: Engine) -> int:
    return int(
        scalar(
            engine,
            "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'procrastinate_jobs'",
        )
        or 0
    )


def test_a_tick_that_queues_many_polls_refreshes_the_queue_statistics(
    pg_url: str, tmp_path: Path, engine_of: Callable[[str], Engine]
) -> None:
    """Stale statistics (an empty table's) make every fetch check every waiting job."""
    from monitor.worker.queue import ANALYZE_AFTER, _defer_polls

    app = empty_queue(pg_url, tmp_path)
    pg = engine_of(pg_url)
    with app.open():
        poll = app.tasks["monitor.poll"]
        assert _defer_polls(app, poll, ["few"]) == 1
        time.sleep(1.5)  # a backend reports its table statistics within a second
        assert _analyses(pg) == 0
        many = [f"s{n}" for n in range(ANALYZE_AFTER)]
        assert _defer_polls(app, poll, many) == ANALYZE_AFTER
    wait_for(lambda: _analyses(pg) == 1, 10, "ANALYZE procrastinate_jobs")


def test_finished_jobs_are_pruned_after_their_keep_time(
    pg_url: str, tmp_path: Path, engine_of: Callable[[str], Engine]
) -> None:
    import asyncio

    from monitor.worker.queue import prune_finished_jobs

    app = empty_queue(pg_url, tmp_path)
    pg = engine_of(pg_url)
    # (name, final status, finished this long ago, kept?)
    cases = [
        ("done-long-ago", "succeeded", "2 hours", False),
        ("done-just-now", "succeeded", "10 minutes", True),
        ("failed-yesterday", "failed", "1 day", True),
        ("failed-last-month", "failed", "30 days", False),
        ("waiting", "todo", None, True),
    ]
    with app.open():
        for name, *_ in cases:
            app.tasks["monitor.poll"].configure(lock=f"poll:{name}").defer(name=name)
    with pg.begin() as conn:
        for name, status, ago, _kept in cases:
            if ago is None:
                continue
            job_id = conn.execute(
                text("SELECT id FROM procrastinate_jobs WHERE args->>'name' = :n"), {"n": name}
            ).scalar()
            conn.execute(
                text(
                    "UPDATE procrastinate_jobs SET status = CAST(:s AS procrastinate_job_status) "
                    "WHERE id = :id"
                ),
                {"s": status, "id": job_id},
            )
            # its whole history (deferred, finished) that long ago
            conn.execute(
                text("INSERT INTO procrastinate_events (job_id, type) VALUES (:id, :s)"),
                {"id": job_id, "s": status},
            )
            conn.execute(
                text(
                    "UPDATE procrastinate_events SET at = now() - CAST(:ago AS interval) "
                    "WHERE job_id = :id"
                ),
                {"id": job_id, "ago": ago},
            )

    async def prune() -> None:
        async with app.open_async():
            await prune_finished_jobs(app)

    asyncio.run(prune())
    left = {r[0] for r in rows(pg, "SELECT args->>'name' FROM procrastinate_jobs")}
    assert left == {name for name, _s, _ago, kept in cases if kept}


def test_a_poll_that_stores_items_queues_one_process_job_a_moment_ahead(
    pg_url: str, tmp_path: Path, http_server: LocalServer, engine_of: Callable[[str], Engine]
) -> None:
    """The items of the polls that finish meanwhile are processed in one run: a process
    job queued at once, at its priority, would run after every poll on its 20 items."""
    from monitor.app import App
    from monitor.config import load_config
    from monitor.store.db import make_engine
    from monitor.worker.jobs import WorkerJobs
    from monitor.worker.queue import PROCESS_GATHER_S, make_queue

    sources = []
    for n in range(2):
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>'
            f"<item><title>Story {n}</title><link>https://example.org/{n}</link></item>"
            "</channel></rss>"
        ).encode()
        http_server.route(f"/f{n}.xml", Reply(body=body, headers={"Content-Type": "text/xml"}))
        sources.append((f"f{n}", http_server.url(f"/f{n}.xml")))
    config = tmp_path / "sources.yaml"
    config.write_text(sources_yaml(sources), encoding="utf-8")
    run_ok(config, pg_url, "init")
    engine = make_engine(pg_url)
    pg = engine_of(pg_url)
    try:
        with App(config=load_config(config), engine=engine) as app:
            queue = make_queue(pg_url, WorkerJobs(app))
            with queue.open():
                before = scalar(pg, "SELECT now()")
                queue.tasks["monitor.poll"](name="f0")
                queue.tasks["monitor.poll"](name="f1")
    finally:
        engine.dispose()
    assert scalar(pg, "SELECT count(*) FROM items") == 2
    waiting = rows(
        pg,
        "SELECT scheduled_at FROM procrastinate_jobs "
        "WHERE task_name = 'monitor.process' AND status = 'todo'",
    )
    assert len(waiting) == 1  # the second poll found it waiting
    assert (waiting[0][0] - before).total_seconds() >= PROCESS_GATHER_S - 0.5
