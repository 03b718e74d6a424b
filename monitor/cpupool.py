"""Extraction on the machine's other cores, for passes with many new items.

Reading an item for facts is pure Python: it holds the GIL, so threads cannot spread it.
A first pass over hundreds of sources (or a news day in the daemon) stores thousands of
items at once; reading them in the process that also fetches and writes the database
would stall both. ``ExtractionPool`` runs the extractor in worker processes instead:

- each worker builds its own extractor once, from the watchlist it is handed (a built
  extractor pickles to ~13 MB and loads no faster than it builds);
- :meth:`warm` starts the workers and their builds early (when a pass first stores new
  items), so the build overlaps the rest of the fetching;
- :meth:`extract` reads a batch of items, spread over the workers in order-keeping chunks;
  :meth:`submit` starts the same without waiting, so the main process writes one batch
  while the workers read the next;
- :meth:`close_if_idle` stops the workers once no batch came for a while (the daemon asks
  every minute): a worker holds a built extractor, ~100 MB, that a daemon whose first pass
  is long done would otherwise keep for good. The next large batch starts them again.

Workers are started with ``forkserver`` (never ``fork``: the daemon's threads may hold
locks at fork time) and sized to the cores left beside the main process, which keeps
fetching and writing. The database is still written by one writer, the main process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.app import FactExtractor
    from monitor.extract.watchlist import Watchlist
    from monitor.types import Fact, Item

log = logging.getLogger(__name__)

MIN_ITEMS = 400  # below this, starting workers costs more than it saves
CHUNK = 100  # items per task sent to a worker

_extractor: FactExtractor | None = None  # one per worker process, built by _init


def _init(watchlist: Watchlist) -> None:
    global _extractor
    from monitor.extract import Extractor

    _extractor = Extractor(watchlist)


def _ready() -> bool:
    return _extractor is not None


FactsOrError = list["Fact"] | str  # an item's facts, or why the extractor could not read it


def read_items(extractor: FactExtractor, items: Sequence[Item]) -> list[FactsOrError]:
    """Facts per item, or the error's text for an item the extractor could not read: one
    unreadable item must not stall the others (in a worker or in process)."""
    out: list[FactsOrError] = []
    for item in items:
        try:
            out.append(extractor.extract(item))
        except Exception as exc:
            out.append(f"{type(exc).__name__}: {exc}")
    return out


def _extract_chunk(items: Sequence[Item]) -> list[FactsOrError]:
    assert _extractor is not None
    return read_items(_extractor, items)


def worker_count() -> int:
    """Cores beside the main process (0 on a single core: extract in process)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(0, (cores or 1) - 1)


class ExtractionPool:
    """Worker processes that read items for facts; started on first use, closed by
    :meth:`close` (the App does both)."""

    def __init__(self, watchlist: Watchlist, workers: int | None = None):
        self.watchlist = watchlist
        self.workers = worker_count() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        self._warmed = False
        self._lock = threading.Lock()
        # Held while work is handed to the pool, and while close_if_idle decides: the pool
        # is never shut down between an _executor() and its submit().
        self._use = threading.Lock()
        self._futures: list[Future[list[FactsOrError]]] = []  # the latest batch's chunks
        self._used = time.monotonic()  # when a batch was last handed in or collected

    @property
    def available(self) -> bool:
        return self.workers > 0

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                method = (
                    "forkserver"
                    if "forkserver" in multiprocessing.get_all_start_methods()
                    else "spawn"
                )
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context(method),
                    initializer=_init,
                    initargs=(self.watchlist,),
                )
                log.debug("extraction pool started workers=%d method=%s", self.workers, method)
            return self._pool

    def warm(self) -> None:
        """Start the workers (and their extractors' builds) now, without waiting."""
        with self._use:
            if self.available and not self._warmed:
                self._warmed = True
                self._used = time.monotonic()
                pool = self._executor()
                for _ in range(self.workers):
                    pool.submit(_ready)

    def extract(self, items: Sequence[Item]) -> list[FactsOrError]:
        """Facts per item in the order given (an error's text where extraction failed)."""
        return self.submit(items)()

    def submit(self, items: Sequence[Item]) -> Callable[[], list[FactsOrError]]:
        """Start reading ``items`` now and return at once: the call returned waits for
        the facts (as :meth:`extract` gives them). The caller writes one batch while the
        workers read the next."""
        with self._use:
            pool = self._executor()
            futures: list[Future[list[FactsOrError]]] = [
                pool.submit(_extract_chunk, list(items[start : start + CHUNK]))
                for start in range(0, len(items), CHUNK)
            ]
            self._futures = [f for f in self._futures if not f.done()] + futures
            self._used = time.monotonic()

        def collect() -> list[FactsOrError]:
            try:
                return [result for future in futures for result in future.result()]
            finally:
                self._used = time.monotonic()

        return collect

    @property
    def running(self) -> bool:
        """Whether the worker processes are up."""
        return self._pool is not None

    def close_if_idle(self, idle_for: float) -> bool:
        """Stop the workers when no batch has used them for ``idle_for`` seconds (and none
        is being read); True when they were stopped. The next :meth:`warm`, :meth:`submit`
        or :meth:`extract` starts them again."""
        with self._use:
            busy = any(not future.done() for future in self._futures)
            if self._pool is None or busy or time.monotonic() - self._used < idle_for:
                return False
            with self._lock:
                pool, self._pool, self._warmed, self._futures = self._pool, None, False, []
        pool.shutdown(wait=True, cancel_futures=True)
        log.debug("extraction pool stopped after idle=%.0fs", idle_for)
        return True

    def close(self) -> None:
        with self._lock:
            pool, self._pool, self._warmed = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
