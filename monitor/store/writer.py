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

Savepoints cost a statement each way and a flush per write, so a batch first runs without
them; only when one of its writes raises is the batch rolled back and run again, each write
in its own savepoint (writes must therefore be safe to run twice: they only touch the
database). ``prepare`` loads what the batch's writes will look up, in one query, from the
keys they were given (the polling pass: the rows of the batch's sources).
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
    key: Any = None  # handed to ``prepare`` with the other keys of its batch
    done: Future[T] = field(default_factory=Future)


class _WriteFailed(Exception):
    """Internal: a write of a batch run without savepoints raised."""


class BatchWriter:
    """``with BatchWriter(sessions) as writer: writer.write(fn)`` from any thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        max_batch: int = MAX_BATCH,
        prepare: Callable[[Session, list[Any]], object] | None = None,
    ):
        self.sessions = sessions
        self.max_batch = max_batch
        self.prepare = prepare
        self._queue: queue.Queue[_Write[Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
        self._thread.start()

    def write(self, work: Callable[[Session], T], key: Any = None) -> T:
        """Run ``work(session)`` in the writer's next transaction and return its result once
        committed (or raise what it, or the commit, raised). ``key`` goes to ``prepare``."""
        job: _Write[T] = _Write(work, key)
        self._queue.put(job)
        return job.done.result()

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop; wait at most ``timeout`` seconds (a commit
        hung on a dead database must not hold a stopping daemon)."""
        self._queue.put(None)
        self._thread.join(timeout)

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
            try:
                self._write(batch, savepoints=False)
            except _WriteFailed:  # rolled back: again, each write in a savepoint of its own
                self._write(batch, savepoints=True)

    def _write(self, batch: list[_Write[Any]], *, savepoints: bool) -> None:
        outcomes: list[tuple[_Write[Any], Any, BaseException | None]] = []
        try:
            with WRITE_LOCK, transaction(self.sessions) as session:
                begin_write(session)  # one transaction for the batch (savepoints inside)
                keys = [job.key for job in batch if job.key is not None]
                # held for the batch: the session's identity map keeps only what is referenced
                prepared = self.prepare(session, keys) if self.prepare and keys else None
                for job in batch:
                    if savepoints:
                        try:
                            with session.begin_nested():
                                result = job.work(session)
                        except Exception as exc:  # this write's failure is its caller's
                            # (also when the savepoint's own flush refused what it left)
                            outcomes.append((job, None, exc))
                        else:
                            outcomes.append((job, result, None))
                        continue
                    try:
                        outcomes.append((job, job.work(session), None))
                    except Exception as exc:
                        raise _WriteFailed from exc
                if not savepoints:
                    try:
                        session.flush()  # a write's own error, not the commit's
                    except Exception as exc:
                        raise _WriteFailed from exc
                del prepared
        except _WriteFailed:
            raise
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
