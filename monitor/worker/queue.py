"""The Procrastinate side of `monitor worker`: the jobs, their locks, the periodic ticks.

Every job is a thin wrapper over a plain function (monitor.worker.jobs) that `monitor run`
and `monitor once` call too; only the trigger differs. What must not run twice is named
by a Procrastinate lock (one job with that lock runs at a time, cluster-wide) and a
queueing lock (at most one such job waits in the queue):

    job                queue     lock / queueing lock    deferred by
    monitor.poll       fetch     poll:<source>           the tick, for each due source
    monitor.process    process   process                 a poll that stored new items; the tick
    monitor.deliver    deliver   deliver:<channel>       a process run; the tick (due rows)
    monitor.tick       schedule  tick                    periodic, every TICK seconds
    monitor.health     schedule  health                  periodic, every minute
    monitor.digests    schedule  digests                 periodic, every minute
    monitor.stalled    schedule  stalled                 periodic, every STALLED_EVERY
    monitor.prune      schedule  prune                   periodic, hourly

A worker takes the job of highest priority first (then the oldest): the schedule's
jobs, then processing, then delivery, then polls. Without that, a first pass of 10,000
sources queues 10,000 polls ahead of the one process job, and the stored items wait for
the last fetch before they become changes and alerts.

Periodic jobs are deferred once per period whatever the number of workers (Procrastinate
records each (task, timestamp) in a unique row). ``monitor.stalled`` puts back the jobs
of a worker that stopped sending heartbeats (killed with kill -9, machine lost): they
run again elsewhere, and since each job's writes commit together or not at all, and
the outbox claims each message before sending, nothing is lost or doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect, make_url

if TYPE_CHECKING:
    import procrastinate

    from monitor.worker.jobs import WorkerJobs

log = logging.getLogger("monitor.worker")

QUEUES = ("fetch", "process", "deliver", "schedule")
TICK_CRON = "* * * * * */5"  # the 6th field is seconds: every 5 s
MINUTE_CRON = "* * * * *"
STALLED_EVERY_CRON = "* * * * * */10"
PRUNE_CRON = "7 * * * *"  # hourly
# Finished jobs are kept this long (hours) for `procrastinate` inspection, then deleted:
# a poll job per source per period would otherwise grow the table by millions a week.
KEEP_SUCCEEDED_HOURS = 1
KEEP_FAILED_HOURS = 7 * 24
# A tick that queues this many polls or more refreshes the planner's statistics of the
# job table (ANALYZE): with the row count of an empty table, PostgreSQL plans
# Procrastinate's fetch as a check of every waiting job (0.15 ms each: 150 ms a fetch
# with 1,000 waiting, where the planned index walk takes 0.3 ms), and a worker fetches
# one job at a time. Autovacuum would refresh them a minute later, or never when off.
ANALYZE_AFTER = 100
# The queue's own connections per worker process (fetching, finishing and deferring
# jobs, heartbeats, LISTEN). psycopg_pool's default of 4, one of them held by LISTEN,
# queued every job's bookkeeping of 32 concurrent jobs behind 3 connections; 10 leaves
# room on a default PostgreSQL (100 connections) for several workers and their stores.
QUEUE_POOL_MIN = 4
QUEUE_POOL_MAX = 10
# A poll that stored items queues the process job this many seconds ahead, so that one
# run processes the items of the polls that finish meanwhile: at its priority, a process
# job queued at once runs before the next poll, on its one poll's 20 items. The queueing
# lock keeps one waiting.
PROCESS_GATHER_S = 2.0
# Higher runs first (Procrastinate fetches by priority, then id).
POLL_PRIORITY = 0
DELIVER_PRIORITY = 10
PROCESS_PRIORITY = 20
SCHEDULE_PRIORITY = 30


def queue_available() -> bool:
    """Whether Procrastinate is installed (the ``postgres`` extra)."""
    import importlib.util

    return importlib.util.find_spec("procrastinate") is not None


def conninfo(db_url: str) -> str:
    """A libpq connection string from an SQLAlchemy URL (postgresql+psycopg://...)."""
    url = make_url(db_url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def make_queue(db_url: str, jobs: WorkerJobs | None = None) -> procrastinate.App:
    """The Procrastinate app on ``db_url`` with monitor's tasks. ``jobs`` is what the tasks
    run; None gives an app that can only defer (and apply the schema)."""
    import procrastinate

    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(db_url), min_size=QUEUE_POOL_MIN, max_size=QUEUE_POOL_MAX
        ),
    )
    _register(app, jobs)
    return app


def _defer(task: Any, *, lock: str, after: float = 0.0, **kwargs: Any) -> bool:
    """Defer (to run ``after`` seconds from now) unless the same job already waits in the
    queue; True if deferred."""
    import procrastinate.exceptions

    when = {"schedule_in": {"seconds": after}} if after else {}
    try:
        task.configure(lock=lock, queueing_lock=lock, **when).defer(**kwargs)
    except procrastinate.exceptions.AlreadyEnqueued:
        return False
    return True


def _defer_polls(app: procrastinate.App, poll: Any, names: list[str]) -> int:
    """Queue a poll of each source named, unless one already waits; the number queued.

    The waiting polls are read in one query and the others queued in one statement: one
    INSERT per due source, most of them refused by the queueing lock (a first pass of
    10,000 sources waits in the queue for many ticks), cost the tick seconds every 5 s."""
    import procrastinate.exceptions

    waiting = {
        job.queueing_lock for job in app.job_manager.list_jobs(task=poll.name, status="todo")
    }
    jobs = [
        poll.configure(lock=lock, queueing_lock=lock, task_kwargs={"name": name}).job
        for name in names
        if (lock := f"poll:{name}") not in waiting
    ]
    if not jobs:
        return 0
    try:
        app.job_manager.batch_defer_jobs(jobs)
        queued = len(jobs)
    except procrastinate.exceptions.AlreadyEnqueued:
        # queued meanwhile by a retry of a stalled job: one at a time, skipping those
        queued = sum(
            _defer(poll, lock=f"poll:{n}", name=n) for n in (j.task_kwargs["name"] for j in jobs)
        )
    if queued >= ANALYZE_AFTER:
        app.connector.get_sync_connector().execute_query("ANALYZE procrastinate_jobs")
    return queued


def _register(app: procrastinate.App, jobs: WorkerJobs | None) -> None:
    def need() -> WorkerJobs:
        if jobs is None:  # pragma: no cover - a deferring-only app never runs a job
            raise RuntimeError("this queue app cannot run jobs")
        return jobs

    def periodic(name: str, cron: str) -> Callable[[Any], Any]:
        """A schedule job: queued once per period, one at a time, cluster-wide."""
        task = app.task(
            name=f"monitor.{name}",
            queue="schedule",
            queueing_lock=name,
            lock=name,
            priority=SCHEDULE_PRIORITY,
        )
        return lambda func: app.periodic(cron=cron)(task(func))

    @app.task(name="monitor.poll", queue="fetch", priority=POLL_PRIORITY)
    def poll(name: str) -> None:
        if need().poll(name):
            _defer(process, lock="process", after=PROCESS_GATHER_S)

    @app.task(name="monitor.process", queue="process", priority=PROCESS_PRIORITY)
    def process() -> None:
        for channel in need().process():
            _defer(deliver, lock=f"deliver:{channel}", channel=channel)

    @app.task(name="monitor.deliver", queue="deliver", priority=DELIVER_PRIORITY)
    def deliver(channel: str) -> None:
        need().deliver(channel)

    @periodic("tick", TICK_CRON)
    def tick(timestamp: int) -> None:
        plan = need().plan()
        if plan.due_sources:
            _defer_polls(app, poll, plan.due_sources)
        if plan.pending_items:
            _defer(process, lock="process")
        for channel in plan.due_channels:
            _defer(deliver, lock=f"deliver:{channel}", channel=channel)

    @periodic("health", MINUTE_CRON)
    def health(timestamp: int) -> None:
        need().health()

    @periodic("digests", MINUTE_CRON)
    def digests(timestamp: int) -> None:
        need().digests()

    @periodic("stalled", STALLED_EVERY_CRON)
    async def stalled(timestamp: int) -> None:
        import procrastinate.exceptions

        manager = app.job_manager
        after = need().stalled_after
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=after):
            # A twin queued meanwhile (the tick queued the source again) waits for this
            # job's lock and holds its queueing lock, so this one could not go back to the
            # queue: cancel the twin, the retried job does the same work.
            if job.queueing_lock:
                for twin in await manager.list_jobs_async(
                    queueing_lock=job.queueing_lock, status="todo"
                ):
                    if twin.id != job.id and twin.id is not None:
                        await manager.cancel_job_by_id_async(twin.id)
            try:
                await manager.retry_job(job)
            except procrastinate.exceptions.ConnectorException as exc:
                log.info("job retry id=%s deferred why=%s", job.id, type(exc).__name__)
                continue  # another twin came in between: the next round retries it
            log.info("job retry id=%s task=%s why=stalled", job.id, job.task_name)

    @periodic("prune", PRUNE_CRON)
    async def prune(timestamp: int) -> None:
        await prune_finished_jobs(app)


async def prune_finished_jobs(app: procrastinate.App) -> None:
    """Delete succeeded jobs finished over KEEP_SUCCEEDED_HOURS ago, and failed, cancelled
    or aborted ones over KEEP_FAILED_HOURS ago (the queue's history, not monitor's)."""
    manager = app.job_manager
    await manager.delete_old_jobs(nb_hours=KEEP_SUCCEEDED_HOURS)
    await manager.delete_old_jobs(
        nb_hours=KEEP_FAILED_HOURS,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


def schema_applied(engine: Engine) -> bool:
    """Whether Procrastinate's tables exist on this database."""
    return inspect(engine).has_table("procrastinate_jobs")


def apply_schema(engine: Engine) -> bool:
    """Create Procrastinate's tables unless present (`monitor init`); True if created."""
    if schema_applied(engine):
        return False
    app = make_queue(engine.url.render_as_string(hide_password=False))
    with app.open():
        app.schema_manager.apply_schema()
    return True
