"""One writer for a pass: many sources' results per transaction.

A pass fetches on many threads, but the database takes one writer at a time. When each
thread wrote its own source in its own transaction, the threads queued for the database
one commit each (a first pass over 500 sources spent most of its time there, not on the
network). ``BatchWriter`` runs the writes of a pass on one thread instead: it takes every
write waiting when it is free, runs each in a savepoint of one transaction and commits
once, so a slow commit is paid per batch, not per source.

Each write still commits or fails as a unit with its own source's items and fetch state:
a write that raises rolls back only its savepoint, and its caller gets the exception (an
``IntegrityError`` from another process's race is retried by the caller as before). If the
commit itself fails (the database is locked, read-only or gone), every write of that
batch gets the error, and none of them is stored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from monitor.store.db import begin_write, transaction

T = TypeVar("T")

MAX_BATCH = 100  # writes per transaction
# One writer at a time within this process (passes can run side by side in the daemon):
# two sources carrying the same wire story would otherwise both find it new and race on the
# unique keys (SQLite serialises the writes anyway). Across processes, the callers' retry
# settles the same race.
WRITE_LOCK = threading.Lock()


@dataclass
class _Write(Generic[T]):
    work: Callable[[Session], T]
    done: Future[T] = field(default_factory=Future)


class BatchWriter:
    """``with BatchWriter(sessions) as writer: writer.write(fn)`` from any thread."""

    def __init__(self, sessions: sessionmaker[Session], max_batch: int = MAX_BATCH):
        self.sessions = sessions
        self.max_batch = max_batch
        self._queue: queue.Queue[_Write[Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
        self._thread.start()

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in the writer's next transaction and return its result once
        committed (or raise what it, or the commit, raised)."""
        job: _Write[T] = _Write(work)
        self._queue.put(job)
        return job.done.result()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            batch = [job]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            self._write(batch)

    def _write(self, batch: list[_Write[Any]]) -> None:
        outcomes: list[tuple[_Write[Any], Any, BaseException | None]] = []
        try:
            with WRITE_LOCK, transaction(self.sessions) as session:
                begin_write(session)  # one transaction for the batch, savepoints inside
                for job in batch:
                    try:
                        with session.begin_nested():
                            outcomes.append((job, job.work(session), None))
                    except Exception as exc:  # this write's failure is its caller's
                        outcomes.append((job, None, exc))
        except BaseException as exc:  # the commit failed: nothing of the batch is stored
            for job in batch:
                if not job.done.done():
                    job.done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for job, result, error in outcomes:
            if error is not None:
                job.done.set_exception(error)
            else:
                job.done.set_result(result)
