"""Command: worker (distributed mode on Procrastinate, PostgreSQL only)."""

from __future__ import annotations

import logging
import os

import click

from monitor.app import App
from monitor.cli.main import EXIT_CONFIG, EXIT_STORE, cli, fail

QUEUE_NAMES = ("fetch", "process", "deliver", "schedule")


def _queues(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if value is None:
        return QUEUE_NAMES
    names = tuple(dict.fromkeys(q.strip() for q in value.split(",") if q.strip()))
    unknown = [q for q in names if q not in QUEUE_NAMES]
    if unknown or not names:
        raise click.BadParameter(
            f"unknown queue {', '.join(map(repr, unknown)) or '(none)'}; "
            f"choose from {','.join(QUEUE_NAMES)}"
        )
    return names


@cli.command()
@click.option(
    "--queues",
    callback=_queues,
    metavar="LIST",
    help="Comma-separated queues to work: fetch, process, deliver, schedule [default: all].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Jobs run at once by this process [default: defaults.concurrency].",
)
@click.option(
    "--stalled-after",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="A worker silent this long is dead: its jobs run again elsewhere.",
)
@click.option("-v", "--verbose", count=True, help="Also log skipped polls and queue chatter.")
@click.pass_obj
def worker(
    app: App,
    queues: tuple[str, ...],
    concurrency: int | None,
    stalled_after: float,
    verbose: int,
) -> None:
    """Work the job queue on PostgreSQL beside any number of other workers.

    Reads the same sources.yaml, --db and $MONITOR_NOTIFY_URLS as `monitor run`. Each
    source is polled by one worker at a time, items are diffed by one runner, each channel
    is sent to by one worker in order; the periodic jobs (the due-source tick, source
    health, digests) are queued once per period whatever the number of workers. SIGTERM
    or Ctrl-C finishes the jobs in hand and exits 0. Needs PostgreSQL (`monitor init`
    there first).

    \b
    Example:
      monitor --db postgresql+psycopg://monitor@db/monitor worker
      monitor --db postgresql+psycopg://monitor@db/monitor worker --queues fetch --concurrency 64
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from monitor.daemon import setup_logging
    from monitor.store.locks import is_server
    from monitor.worker.jobs import WorkerJobs
    from monitor.worker.queue import make_queue, queue_available, schema_applied
    from monitor.worker.slots import ClusterHostSlots

    if not queue_available():
        fail(
            "error: monitor worker needs Procrastinate: pip install 'monitor[postgres]'",
            EXIT_CONFIG,
        )
    engine = app.engine
    if not is_server(engine):
        fail(
            "error: monitor worker needs PostgreSQL (--db postgresql+psycopg://...); "
            "on SQLite use `monitor run`",
            EXIT_CONFIG,
        )
    if not schema_applied(engine):
        fail("error: the job queue's tables are missing: run `monitor init` first", EXIT_STORE)
    defaults = app.config.defaults
    setup_logging(logging.DEBUG if verbose else logging.INFO)
    # Procrastinate's own lines (job started/finished) only with -v.
    logging.getLogger("procrastinate").setLevel(logging.INFO if verbose else logging.WARNING)
    jobs_at_once = concurrency or defaults.concurrency
    fetcher = app.fetcher
    # per_host across every worker on this database, not per process
    fetcher.host_slots = ClusterHostSlots(app.sessions, defaults.per_host, fetcher.deadline + 30)
    jobs = WorkerJobs(app, stalled_after=stalled_after)
    queue = make_queue(engine.url.render_as_string(hide_password=False), jobs)

    async def work() -> None:
        # Procrastinate runs a plain (sync) task in the loop's default executor, which
        # asyncio sizes min(32, cores + 4): 6 threads on 2 cores, whatever --concurrency
        # says. Jobs spend most of their time waiting on a host, so give each its thread.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=jobs_at_once, thread_name_prefix="monitor-job")
        )
        async with queue.open_async():
            await queue.run_worker_async(
                queues=list(queues),
                concurrency=jobs_at_once,
                install_signal_handlers=True,  # SIGTERM: finish the jobs in hand, return
                update_heartbeat_interval=max(0.5, stalled_after / 4),
                stalled_worker_timeout=stalled_after,
            )

    log = logging.getLogger("monitor.worker")
    queue_list = ",".join(queues)
    log.info("worker start pid=%d queues=%s concurrency=%d", os.getpid(), queue_list, jobs_at_once)
    try:
        asyncio.run(work())
    finally:
        jobs.close()
    log.info("worker stopped pid=%d", os.getpid())
