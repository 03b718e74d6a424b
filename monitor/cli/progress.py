"""What `monitor once` shows while it works (on a terminal only) and the summary it ends with.

Progress goes to stderr and only when stderr is a terminal, so a cron job's mail or a
pipe sees the per-source lines and the summary, never a redrawn bar.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.notify.sender import SendReport
    from monitor.poll import SourceOutcome
    from monitor.tasks import ProcessReport


class PassProgress:
    """A transient bar of sources fetched (rich, on stderr), then a spinner for the steps
    after it. Does nothing when stderr is not a terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> PassProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, sources: int) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task("fetching sources", total=sources)

    def fetched(self, outcome: SourceOutcome) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, description=f"fetched {outcome.name}")

    @contextmanager
    def step(self, description: str) -> Iterator[None]:
        """A spinner with ``description`` while the block runs (no count known)."""
        if self._progress is None:
            yield
            return
        task = self._progress.add_task(description, total=None)
        try:
            yield
        finally:
            self._progress.remove_task(task)


@dataclass
class PassSummary:
    """The last lines of `monitor once`: sources, items, changes, alerts."""

    outcomes: list[SourceOutcome]
    processed: ProcessReport
    sent: SendReport

    def lines(self) -> list[str]:
        by_status: dict[str, int] = {}
        for outcome in self.outcomes:
            by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
        ok = by_status.get("fetched", 0) + by_status.get("not-modified", 0)
        failed = by_status.get("failed", 0)
        skipped = by_status.get("skipped", 0)
        new_items = sum(outcome.new_items for outcome in self.outcomes)
        p, s = self.processed, self.sent
        lines = [
            f"sources: {ok} ok, {failed} failed, {skipped} skipped; "
            f"{new_items} new item{'' if new_items == 1 else 's'}",
            f"changes: {p.new + p.live} ({p.new} new, {p.live} live) "
            f"from {p.items} item{'' if p.items == 1 else 's'} processed"
            + (f"; {p.backfill} backfill (no alerts)" if p.backfill else ""),
            f"alerts: {p.deliveries} queued, {s.sent} sent, {s.retrying} to retry, "
            f"{s.failed} failed",
        ]
        lines += [f"  {refusal}" for refusal in s.refusals]
        return lines
