"""A batch of items' diff, looked up once, worked out in memory, written in a few statements.

:func:`record_batch` gives the change log that recording the items one at a time, in the
order given, gives (``monitor.store.facts.record_item`` is this with one item), without
the per-fact queries that cost: per batch it reads the facts the items report, their
changes and the observations the items already have (``monitor.store.batchsql``). Each
item is then diffed against that state, which it updates for the items after it (a fact
reported twice is new once; planned then live is a ``live`` change). The writes go out in
a few bulk statements per batch (``monitor.store.batchsql`` too).

Callers own the transaction and the savepoints: a batch written in one savepoint either
commits whole or leaves nothing (``monitor.processing`` then records its items one at a time,
each in a savepoint of its own, so one bad item costs only itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session

from monitor.changes import LogEntry, merge_item_facts, ordered_log
from monitor.store.batchsql import BatchFact, BatchSQL, LoggedChange
from monitor.types import Fact

__all__ = ["BatchItem", "LoggedChange", "Recorded", "record_batch"]


@dataclass(frozen=True, slots=True)
class BatchItem:
    """An item to record: what the diff needs of its row, its facts, and whether its
    changes are a back-fill (recorded to alert nobody, ``monitor.changes.is_backfill``)."""

    item_id: int
    published: datetime  # published_at, or fetched_at for an undated item
    content_hash: str
    facts: Sequence[Fact]
    backfill: bool = False


@dataclass(frozen=True, slots=True)
class Recorded:
    """One item's outcome: the changes it created (in creation order)."""

    item_id: int
    created: list[LoggedChange]


def record_batch(session: Session, items: Sequence[BatchItem], now: datetime) -> list[Recorded]:
    """Record ``items`` in the order given (facts, changes, observations, ``processed_at``),
    as if one at a time; one :class:`Recorded` per item, in that order."""
    batch = _Batch(session, now)
    batch.load(items)
    done = [batch.record(item) for item in items]
    batch.write()
    return done


_NEW_ORDER = 1 << 62  # changes created here come after every stored one in id order


class _Batch(BatchSQL):
    """A batch's diff, item by item, in memory; its SQL is :class:`BatchSQL`'s."""

    def __init__(self, session: Session, now: datetime) -> None:
        super().__init__(session, now)
        self.made = 0

    # --- the diff, in memory ------------------------------------------------------------

    def record(self, item: BatchItem) -> Recorded:
        created: list[LoggedChange] = []
        self.item_ids.append(item.item_id)
        for fact in merge_item_facts(item.facts):
            report = LogEntry((item.published, item.content_hash), fact.status, item.item_id)
            known = self.facts.get(fact.key)
            change: LoggedChange | None = None
            if known is None:
                known = self._add_fact(fact)
                change = self._create(known, "new", report, item.backfill, created)
            else:
                known.seen = True
                if not known.dismissed:  # a dismissed fact never changes again
                    change = self._log_report(known, report, item.backfill, created)
            if change is None:
                change = self._latest(known)
            self._observe(known, item.item_id, change, fact)
        return Recorded(item.item_id, created)

    def _add_fact(self, fact: Fact) -> BatchFact:
        known = BatchFact(
            None, fact.entity, fact.kind, fact.value, fact.key[2], fact.status, "observed", False
        )
        known.status_was = fact.status
        self.facts[fact.key] = known
        self.new_facts.append(known)
        return known

    def _log_report(
        self, fact: BatchFact, report: LogEntry, backfill: bool, created: list[LoggedChange]
    ) -> LoggedChange | None:
        """Bring a known fact's changes to what published order gives with this report
        added; the change this report is the first report of, if any."""
        new, live = fact.changes.get("new"), fact.changes.get("live")
        baseline = None
        if fact.origin == "baseline":
            baseline = "planned" if live is not None or fact.status == "planned" else "live"
        want_new, want_live = ordered_log(
            baseline,
            new.entry() if new else None,
            live.entry() if live else None,
            report,
        )
        if report.status == "live":
            fact.status = "live"  # the furthest status seen
        elif want_new is not None and want_new.status == "planned" and want_live is None:
            fact.status = "planned"  # only planned reports so far
        mine: LoggedChange | None = None
        for kind, current, wanted in (("new", new, want_new), ("live", live, want_live)):
            if wanted is None:
                if current is not None:
                    self._fold(current, into=new)
                continue
            if current is None:
                current = self._create(fact, kind, wanted, backfill, created)
            else:
                self._move(current, wanted)
            if wanted.item_id == report.item_id:
                mine = current
        return mine

    def _create(
        self,
        fact: BatchFact,
        kind: str,
        entry: LogEntry,
        backfill: bool,
        created: list[LoggedChange],
    ) -> LoggedChange:
        if fact.id is not None and (fact.id, kind) in self.folded_keys:
            # The stored change this one replaces is deleted only at write time: write
            # what is pending first, so the delete goes before this insert.
            self.write()
        self.made += 1
        change = LoggedChange(
            None,
            fact,
            kind,
            entry.status,
            entry.at[0],
            self.now,
            entry.item_id,
            entry.at[1],
            backfill,
            order=_NEW_ORDER + self.made,
        )
        fact.changes[kind] = change
        self.new_changes.append(change)
        created.append(change)
        return change

    def _move(self, change: LoggedChange, entry: LogEntry) -> None:
        if (change.status, change.published_at, change.first_item_id) == (
            entry.status,
            entry.at[0],
            entry.item_id,
        ):
            return
        change.status = entry.status
        change.published_at = entry.at[0]
        change.first_item_id = entry.item_id
        change.first_hash = entry.at[1]
        change.moved = True

    def _fold(self, change: LoggedChange, into: LoggedChange | None) -> None:
        """Remove a change that published order does not give (a ``live`` change whose
        fact turns out to have been reported live first): its evidence moves to ``into``,
        its unsent alerts go."""
        if into is change:
            into = None
        change.folded = True
        del change.fact.changes[change.change]
        for n, (fact, item_id, to, reported) in enumerate(self.observations):
            if to is change:
                self.observations[n] = (fact, item_id, into, reported)
        if change.id is not None:
            self.folds.append((change, into))
            self.folded_keys.add((cast(int, change.fact.id), change.change))

    def _latest(self, fact: BatchFact) -> LoggedChange | None:
        changes = list(fact.changes.values())
        return max(changes, key=lambda c: c.order) if changes else None

    def _observe(
        self, fact: BatchFact, item_id: int, change: LoggedChange | None, reported: Fact
    ) -> None:
        if fact.id is not None and (fact.id, item_id) in self.observed:
            return
        self.observations.append((fact, item_id, change, reported))
