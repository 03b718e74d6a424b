"""A batch of items' diff, looked up once, worked out in memory, written in a few statements.

:func:`record_batch` gives the change log that recording the items one at a time, in the
order given, gives (``monitor.store.facts.record_item`` is this with one item), without
the per-fact queries that cost: per batch it reads the facts the items report (locked, in
key order), their changes (with their first items' content hashes) and the observations
the items already have, one query per few hundred of each. Each item is then diffed
against that state, which it updates for the items after it (a fact reported twice is new
once; planned then live is a ``live`` change). The writes go out as one INSERT ... RETURNING
per table for the new facts and changes, one executemany per kind of update, one INSERT
for the observations and one UPDATE marking the items processed.

Callers own the transaction and the savepoints: a batch written in one savepoint either
commits whole or leaves nothing (``monitor.processing`` then records its items one at a time,
each in a savepoint of its own, so one bad item costs only itself).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from monitor.changes import Key, LogEntry, merge_item_facts, ordered_log
from monitor.store.db import IN_CHUNK, in_chunks
from monitor.store.models import (
    ChangeRow,
    DeliveryRow,
    FactRow,
    ItemRow,
    ObservationRow,
)
from monitor.store.pending import id_in
from monitor.types import Fact

MAX_SENTENCE_CHARS = 2000  # evidence is scraped text: cap what one observation stores

FACTS = cast(Table, FactRow.__table__)
CHANGES = cast(Table, ChangeRow.__table__)
OBSERVATIONS = cast(Table, ObservationRow.__table__)
ITEMS = cast(Table, ItemRow.__table__)
DELIVERIES = cast(Table, DeliveryRow.__table__)


@dataclass(frozen=True, slots=True)
class BatchItem:
    """An item to record: what the diff needs of its row, its facts, and whether its
    changes are a back-fill (recorded to alert nobody, ``monitor.changes.is_backfill``)."""

    item_id: int
    published: datetime  # published_at, or fetched_at for an undated item
    content_hash: str
    facts: Sequence[Fact]
    backfill: bool = False


@dataclass(eq=False, slots=True)
class _Fact:
    id: int | None  # None until this batch inserts it
    entity: str
    kind: str
    value: str
    value_key: str
    status: str
    origin: str
    dismissed: bool
    changes: dict[str, LoggedChange] = field(default_factory=dict)  # "new" / "live"
    seen: bool = False  # reported by this batch: last_seen_at moves
    status_was: str = ""  # the status stored before this batch


@dataclass(eq=False, slots=True)
class LoggedChange:
    """A change of the log as this batch sees it (``id`` set once written)."""

    id: int | None
    fact: _Fact
    change: str  # new / live
    status: str
    published_at: datetime | None
    at: datetime
    first_item_id: int | None
    first_hash: str
    backfill: bool = False
    order: int = 0  # the change's place in id order (a new one's ids come after all)
    moved: bool = False  # a stored change whose first report this batch moved
    folded: bool = False  # removed: published order does not give it

    @property
    def entity(self) -> str:
        return self.fact.entity

    @property
    def kind(self) -> str:
        return self.fact.kind

    @property
    def value(self) -> str:
        return self.fact.value

    def entry(self) -> LogEntry:
        return LogEntry(
            (self.published_at or self.at, self.first_hash), self.status, self.first_item_id or 0
        )


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


class _Batch:
    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.facts: dict[Key, _Fact] = {}
        self.observed: set[tuple[int, int]] = set()  # (fact id, item id) stored already
        # pending writes
        self.new_facts: list[_Fact] = []
        self.new_changes: list[LoggedChange] = []
        self.folds: list[tuple[LoggedChange, LoggedChange | None]] = []
        self.folded_keys: set[tuple[int, str]] = set()  # (fact id, change) deleted at write
        self.observations: list[tuple[_Fact, int, LoggedChange | None, Fact]] = []
        self.item_ids: list[int] = []
        self.made = 0

    # --- reading ------------------------------------------------------------------------

    def load(self, items: Sequence[BatchItem]) -> None:
        keys = {fact.key for item in items for fact in item.facts}
        self._load_facts(sorted(keys))
        by_id = {f.id: f for f in self.facts.values() if f.id is not None}
        self._load_changes(by_id)
        self._load_observations([item.item_id for item in items])

    def _load_facts(self, keys: list[Key]) -> None:
        """The known facts among ``keys``, locked in key order (FOR UPDATE on a server
        database: a writer beside this one waits instead of deadlocking)."""
        for chunk in in_chunks(keys, IN_CHUNK // 3):  # at most 3 values a triple
            groups: dict[tuple[str, str], list[str]] = defaultdict(list)
            for entity, kind, value_key in chunk:
                groups[(entity, kind)].append(value_key)
            query = (
                select(
                    FACTS.c.id,
                    FACTS.c.entity,
                    FACTS.c.kind,
                    FACTS.c.value,
                    FACTS.c.value_key,
                    FACTS.c.status,
                    FACTS.c.origin,
                    FACTS.c.dismissed_at,
                )
                # (entity = ? AND kind = ? AND value_key IN (...)) OR ...: an index
                # lookup on both databases (see monitor.store.facts.fact_rows)
                .where(
                    or_(
                        *(
                            and_(
                                FACTS.c.entity == entity,
                                FACTS.c.kind == kind,
                                FACTS.c.value_key.in_(values),
                            )
                            for (entity, kind), values in groups.items()
                        )
                    )
                )
                .order_by(FACTS.c.entity, FACTS.c.kind, FACTS.c.value_key)
                .with_for_update()
            )
            for row in self.session.execute(query):
                self.facts[(row.entity, row.kind, row.value_key)] = _Fact(
                    row.id,
                    row.entity,
                    row.kind,
                    row.value,
                    row.value_key,
                    row.status,
                    row.origin,
                    row.dismissed_at is not None,
                    status_was=row.status,
                )

    def _load_changes(self, by_id: dict[int, _Fact]) -> None:
        """The facts' changes, each with its first item's content hash (its place in
        published order)."""
        for chunk in in_chunks(sorted(by_id)):
            query = (
                select(
                    CHANGES.c.id,
                    CHANGES.c.fact_id,
                    CHANGES.c.change,
                    CHANGES.c.status,
                    CHANGES.c.published_at,
                    CHANGES.c.at,
                    CHANGES.c.first_item_id,
                    CHANGES.c.backfill,
                    ITEMS.c.content_hash,
                )
                .outerjoin(ITEMS, ITEMS.c.id == CHANGES.c.first_item_id)
                .where(id_in(self.session, CHANGES.c.fact_id, chunk))
            )
            for row in self.session.execute(query):
                fact = by_id[row.fact_id]
                fact.changes[row.change] = LoggedChange(
                    row.id,
                    fact,
                    row.change,
                    row.status,
                    row.published_at,
                    row.at,
                    row.first_item_id,
                    row.content_hash or "",
                    row.backfill,
                    order=row.id,
                )

    def _load_observations(self, item_ids: list[int]) -> None:
        """The items' observations already stored (a repeated run reuses, never doubles)."""
        for chunk in in_chunks(sorted(set(item_ids))):
            query = select(OBSERVATIONS.c.fact_id, OBSERVATIONS.c.item_id).where(
                id_in(self.session, OBSERVATIONS.c.item_id, chunk)
            )
            self.observed.update((f, i) for f, i in self.session.execute(query))

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

    def _add_fact(self, fact: Fact) -> _Fact:
        known = _Fact(
            None, fact.entity, fact.kind, fact.value, fact.key[2], fact.status, "observed", False
        )
        known.status_was = fact.status
        self.facts[fact.key] = known
        self.new_facts.append(known)
        return known

    def _log_report(
        self, fact: _Fact, report: LogEntry, backfill: bool, created: list[LoggedChange]
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
        fact: _Fact,
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

    def _latest(self, fact: _Fact) -> LoggedChange | None:
        changes = list(fact.changes.values())
        return max(changes, key=lambda c: c.order) if changes else None

    def _observe(
        self, fact: _Fact, item_id: int, change: LoggedChange | None, reported: Fact
    ) -> None:
        if fact.id is not None and (fact.id, item_id) in self.observed:
            return
        self.observations.append((fact, item_id, change, reported))

    # --- writing ------------------------------------------------------------------------

    def write(self) -> None:
        """Write what is pending: new facts, facts seen, new and moved changes, removed
        changes, observations, items processed. Safe to call more than once."""
        self._write_facts()
        self._write_changes()
        self._write_observations()
        self._mark_processed()

    def _execute(self, statement: Any, params: list[dict[str, Any]]) -> None:
        if params:
            self.session.execute(statement, params)

    def _write_facts(self) -> None:
        if self.new_facts:
            rows = self.session.execute(
                insert(FACTS).returning(FACTS.c.id, sort_by_parameter_order=True),
                [
                    {
                        "entity": f.entity,
                        "kind": f.kind,
                        "value": f.value,
                        "value_key": f.value_key,
                        "status": f.status,
                        "origin": f.origin,
                        "first_seen_at": self.now,
                        "last_seen_at": self.now,
                    }
                    for f in self.new_facts
                ],
            )
            for fact, (fact_id,) in zip(self.new_facts, rows.all(), strict=True):
                fact.id = fact_id
                fact.status_was = fact.status
                fact.seen = False
            self.new_facts = []
        seen = [f for f in self.facts.values() if f.seen]
        for chunk in in_chunks(sorted(cast(int, f.id) for f in seen)):
            self.session.execute(
                update(FACTS)
                .where(id_in(self.session, FACTS.c.id, chunk))
                .values(last_seen_at=self.now)
            )
        moved = [f for f in seen if f.status != f.status_was]
        self._execute(
            update(FACTS).where(FACTS.c.id == bindparam("b_id")).values(status=bindparam("b_st")),
            [{"b_id": f.id, "b_st": f.status} for f in moved],
        )
        for fact in seen:
            fact.seen = False
            fact.status_was = fact.status

    def _write_changes(self) -> None:
        # Removed changes first: a change created after one was removed may take its
        # (fact, change) key. Their observations move to the change they fold into.
        for change, into in self.folds:
            if into is not None and into.id is None:
                self._insert_changes([into])
            self.session.execute(
                update(OBSERVATIONS)
                .where(OBSERVATIONS.c.change_id == change.id)
                .values(change_id=into.id if into is not None else None)
            )
            self.session.execute(delete(DELIVERIES).where(DELIVERIES.c.change_id == change.id))
            self.session.execute(delete(CHANGES).where(CHANGES.c.id == change.id))
        self.folds = []
        self.folded_keys = set()
        self._insert_changes([c for c in self.new_changes if c.id is None and not c.folded])
        self.new_changes = []
        moved = [
            c
            for fact in self.facts.values()
            for c in fact.changes.values()
            if c.moved and c.id is not None
        ]
        self._execute(
            update(CHANGES)
            .where(CHANGES.c.id == bindparam("b_id"))
            .values(
                status=bindparam("b_st"),
                published_at=bindparam("b_pub"),
                first_item_id=bindparam("b_item"),
            ),
            [
                {"b_id": c.id, "b_st": c.status, "b_pub": c.published_at, "b_item": c.first_item_id}
                for c in moved
            ],
        )
        for change in moved:
            change.moved = False

    def _insert_changes(self, changes: list[LoggedChange]) -> None:
        if not changes:
            return
        rows = self.session.execute(
            insert(CHANGES).returning(CHANGES.c.id, sort_by_parameter_order=True),
            [
                {
                    "fact_id": c.fact.id,
                    "change": c.change,
                    "entity": c.fact.entity,
                    "kind": c.fact.kind,
                    "value": c.fact.value,
                    "status": c.status,
                    "at": c.at,
                    "published_at": c.published_at,
                    "first_item_id": c.first_item_id,
                    "backfill": c.backfill,
                }
                for c in changes
            ],
        )
        for change, (change_id,) in zip(changes, rows.all(), strict=True):
            change.id = change_id
            change.moved = False  # written as it stands

    def _write_observations(self) -> None:
        params = []
        for fact, item_id, change, reported in self.observations:
            ev = reported.evidence
            params.append(
                {
                    "fact_id": fact.id,
                    "item_id": item_id,
                    "change_id": change.id if change is not None else None,
                    "status": reported.status,
                    "sentence": (ev.sentence if ev else "")[:MAX_SENTENCE_CHARS],
                    "field": ev.field if ev else "text",
                    "start": ev.start if ev else 0,
                    "end": ev.end if ev else 0,
                    "observed_at": self.now,
                }
            )
            self.observed.add((cast(int, fact.id), item_id))
        if params:
            # RETURNING makes it SQLAlchemy's "insertmanyvalues": a few multi-row INSERTs,
            # where psycopg's executemany ran one INSERT per observation
            self.session.execute(insert(OBSERVATIONS).returning(OBSERVATIONS.c.id), params).all()
        self.observations = []

    def _mark_processed(self) -> None:
        for chunk in in_chunks(self.item_ids):
            self.session.execute(
                update(ITEMS)
                .where(id_in(self.session, ITEMS.c.id, chunk), ITEMS.c.processed_at.is_(None))
                .values(processed_at=self.now)
            )
        self.item_ids = []
