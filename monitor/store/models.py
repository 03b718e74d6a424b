"""SQLAlchemy models: the database schema.

Any change here needs an Alembic migration in ``monitor/migrations/versions`` (a test
checks that the migrations produce exactly these tables).

Timestamps are stored as naive UTC (SQLite has no time zones); ``monitor.store.db.utcnow``
gives the matching value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Lengths that input from outside (baseline.yaml, ingested JSON lines) must be checked against:
# SQLite stores a longer string anyway, PostgreSQL refuses it.
LANG_LENGTH = 16
ENTITY_LENGTH = 100
VALUE_LENGTH = 200


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    """A source from sources.yaml and its fetch state and health."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(Text)
    # Conditional GET: the server's own validators, echoed back verbatim.
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_fetch_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str | None] = mapped_column(String(40))  # fetched / not-modified / failed
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime)
    down_alerted: Mapped[bool] = mapped_column(Boolean, default=False)  # "source down" alert sent
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    retry_after_until: Mapped[datetime | None] = mapped_column(DateTime)
    items_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    items: Mapped[list[ItemRow]] = relationship(back_populates="source")


class ItemRow(Base):
    """A stored item. Deduplicated by GUID (per source), canonical URL and content hash."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("source_id", "guid_key", name="uq_items_source_guid"),
        Index("ix_items_processed", "processed_at"),
        Index("ix_items_published", "published_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    guid_key: Mapped[str | None] = mapped_column(Text)  # normalised GUID
    url_key: Mapped[str | None] = mapped_column(Text, unique=True)  # canonical URL
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str | None] = mapped_column(String(LANG_LENGTH))
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    # Set once extract -> diff -> changes -> outbox ran for this item (in that transaction).
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # corpus id, story, author...
    # Stored by its source's first successful pass (alerts.quiet_first_pass).
    first_pass: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    source: Mapped[SourceRow] = relationship(back_populates="items")


class FactRow(Base):
    """A known fact: from the baseline or observed since. One row per (entity, kind, key)."""

    __tablename__ = "facts"
    __table_args__ = (UniqueConstraint("entity", "kind", "value_key", name="uq_facts_triple"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(ENTITY_LENGTH))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))  # canonical form, as first written
    value_key: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    status: Mapped[str] = mapped_column(String(20))  # live / planned (the furthest seen)
    origin: Mapped[str] = mapped_column(String(20))  # baseline / observed
    first_seen_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)


class ChangeRow(Base):
    """An entry of the change log: a fact that became known (`new`) or went `live`."""

    __tablename__ = "changes"
    __table_args__ = (
        UniqueConstraint("fact_id", "change", name="uq_changes_fact_change"),
        Index("ix_changes_at", "at"),
        Index("ix_changes_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("facts.id"))
    change: Mapped[str] = mapped_column(String(10))  # new / live
    entity: Mapped[str] = mapped_column(String(ENTITY_LENGTH))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime)  # when monitor recorded it
    published_at: Mapped[datetime | None] = mapped_column(DateTime)  # first item's date
    first_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    # The analyst's review: unread / seen / confirmed / dismissed (monitor.store.review).
    state: Mapped[str] = mapped_column(String(10), default="unread", server_default="unread")
    state_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Recorded without an alert: its item came in its source's first pass, or was older
    # than alerts.max_age when fetched.
    backfill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ObservationRow(Base):
    """One item reporting one fact: the evidence. Attached to the change it supports."""

    __tablename__ = "observations"
    __table_args__ = (UniqueConstraint("fact_id", "item_id", name="uq_observations_fact_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fact_id: Mapped[int] = mapped_column(ForeignKey("facts.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    sentence: Mapped[str] = mapped_column(Text, default="")
    field: Mapped[str] = mapped_column(String(10), default="text")
    start: Mapped[int] = mapped_column(Integer, default=0)
    end: Mapped[int] = mapped_column(Integer, default=0)
    observed_at: Mapped[datetime] = mapped_column(DateTime)


class DeliveryRow(Base):
    """The alert outbox: one row per message to send on one channel.

    ``kind`` is change / digest / source-down / source-up / test. ``payload`` holds what the
    renderer needs; the message is rendered at send time from the templates.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), index=True)
    route: Mapped[str] = mapped_column(String(100))  # routing rule name
    channel: Mapped[str] = mapped_column(String(200))  # channel id (tag or index), never a URL
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # pending -> sending -> sent | failed ; digest rows wait as "queued" until their digest
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class StateRow(Base):
    """Small key/value state: daemon lock holder, last digest times, schema notes."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class HostSlotRow(Base):
    """One of a host's ``per_host`` request slots, shared by every `monitor worker` on the
    database: held by ``holder`` until ``until`` (a lease, so a killed worker's slot frees
    itself). ``monitor.store.hostslots`` claims and frees them."""

    __tablename__ = "host_slots"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(100))
    until: Mapped[datetime | None] = mapped_column(DateTime)


class SeenKeyRow(Base):
    """The dedupe keys of an item that retention deleted (``monitor prune``): a later
    fetch of the same item is still a duplicate, not news."""

    __tablename__ = "seen_keys"
    __table_args__ = (
        Index("ix_seen_keys_guid", "source_id", "guid_key"),
        Index("ix_seen_keys_url", "url_key"),
        Index("ix_seen_keys_hash", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(Integer)
    guid_key: Mapped[str | None] = mapped_column(Text)
    url_key: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # When the item was deleted, or since then last seen in its source's listing:
    # retention drops keys not seen for forget_keys_after.
    deleted_at: Mapped[datetime] = mapped_column(DateTime)
