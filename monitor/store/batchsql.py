"""The SQL of recording a batch (``monitor.store.recorder``): the lookups that load the
state its diff starts from, and the bulk statements that write what the diff produced.

Apart from the recorder because the two halves are different work: the diff is plain
Python over this state, item by item; this is the database side, batch by batch. Per batch
it reads the facts the items report (locked, in key order), their changes (with their
first items' content hashes) and the observations the items already have, one query per
few hundred of each; it writes one INSERT ... RETURNING per table for the new facts and
changes, one executemany per kind of update, one INSERT for the observations and one
UPDATE marking the items processed.

The recorder's batch subclasses :class:`BatchSQL`, so the diff reads and updates this
state as its own attributes: no indirection per item on that hot path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from monitor.changes import Key, LogEntry
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

if TYPE_CHECKING:
    from monitor.store.recorder import BatchItem

MAX_SENTENCE_CHARS = 2000  # evidence is scraped text: cap what one observation stores

FACTS = cast(Table, FactRow.__table__)
CHANGES = cast(Table, ChangeRow.__table__)
OBSERVATIONS = cast(Table, ObservationRow.__table__)
ITEMS = cast(Table, ItemRow.__table__)
DELIVERIES = cast(Table, DeliveryRow.__table__)


@dataclass(eq=False, slots=True)
class BatchFact:
    """A fact as this batch sees it (``id`` set once written)."""

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
    fact: BatchFact
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


class BatchSQL:
    """A batch's state, read from and written to the database (the diff is a subclass's)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now
        self.facts: dict[Key, BatchFact] = {}
        self.observed: set[tuple[int, int]] = set()  # (fact id, item id) stored already
        # pending writes
        self.new_facts: list[BatchFact] = []
        self.new_changes: list[LoggedChange] = []
        self.folds: list[tuple[LoggedChange, LoggedChange | None]] = []
        self.folded_keys: set[tuple[int, str]] = set()  # (fact id, change) deleted at write
        self.observations: list[tuple[BatchFact, int, LoggedChange | None, Fact]] = []
        self.item_ids: list[int] = []

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
                self.facts[(row.entity, row.kind, row.value_key)] = BatchFact(
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

    def _load_changes(self, by_id: dict[int, BatchFact]) -> None:
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
