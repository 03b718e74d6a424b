"""The diff: an item's facts against what is known -> new / live / evidence-only.

Pure functions, no database (FACTS.md, "Scoring"): a triple not known is a change ``new``;
a known ``planned`` fact now reported ``live`` is a change ``live``; anything else (known
facts, dismissed facts, a ``planned`` report of a ``live`` fact) only adds evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from monitor.types import Fact

Action = Literal["new", "live", "evidence"]
Key = tuple[str, str, str]
STATUS_RANK = {"planned": 0, "live": 1}
MAX_VALUE_CHARS = 200  # the facts table's column; a longer "value" is not a name


@dataclass(frozen=True, slots=True)
class KnownFact:
    """What the database knows of a triple."""

    fact_id: int
    status: str  # furthest status seen: planned or live
    origin: str  # baseline or observed
    dismissed: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    fact: Fact
    action: Action
    known: KnownFact | None


def merge_item_facts(facts: Iterable[Fact]) -> list[Fact]:
    """One fact per triple, in first-seen order, with the furthest status any sentence gave
    (with that sentence as evidence): an item saying "planned ... now opened" is live."""
    merged: dict[Key, Fact] = {}
    for fact in facts:
        if fact.status not in STATUS_RANK or not fact.key[2] or len(fact.value) > MAX_VALUE_CHARS:
            continue  # not a usable fact (unknown status, empty or runaway value)
        old = merged.get(fact.key)
        if old is None or STATUS_RANK[fact.status] > STATUS_RANK[old.status]:
            merged[fact.key] = fact
    return list(merged.values())


def decide(facts: Iterable[Fact], known: Mapping[Key, KnownFact]) -> list[Decision]:
    """The decision for each distinct triple an item reports."""
    decisions = []
    for fact in merge_item_facts(facts):
        k = known.get(fact.key)
        action: Action
        if k is None:
            action = "new"
        elif k.dismissed:
            action = "evidence"  # a dismissed fact never alerts again
        elif k.status == "planned" and fact.status == "live":
            action = "live"
        else:
            action = "evidence"
        decisions.append(Decision(fact, action, k))
    return decisions


def is_backfill(
    *,
    first_pass: bool,
    published: datetime | None,
    fetched: datetime,
    quiet_first_pass: bool,
    max_age: timedelta | None,
) -> bool:
    """Whether an item's changes are recorded without an alert (``alerts.quiet_first_pass``,
    ``alerts.max_age``): it came in its source's first successful pass, or it was published
    longer than ``max_age`` before it was fetched. An item with no date is not old."""
    if quiet_first_pass and first_pass:
        return True
    return max_age is not None and published is not None and fetched - published > max_age


# --- the change log in published order, whatever the processing order --------------------------

# (published, content hash): the order items are processed in when alone. The hash, not
# the id, breaks ties between items published at the same moment, so the order does not
# depend on which was fetched first.
Point = tuple[datetime, str]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A change of one triple as the log holds it: its first report (where it falls in
    published order, and which item it is) and that report's status."""

    at: Point
    status: str
    item_id: int = 0


def ordered_log(
    baseline: str | None, new: LogEntry | None, live: LogEntry | None, report: LogEntry
) -> tuple[LogEntry | None, LogEntry | None]:
    """The (``new``, ``live``) changes of one triple once ``report`` is added, equal to what
    processing every report in published order gives, so that workers processing items as
    they arrive write the same change log as one sequential pass:

    - not in the baseline: ``new`` is the earliest report, with its status; ``live`` is the
      earliest live report, only when the earliest report was planned;
    - a planned baseline fact: no ``new``; ``live`` is the earliest live report;
    - a live baseline fact: no change at all.

    ``baseline`` is the baseline status (None for an observed fact); ``new`` and ``live``
    the changes logged so far."""
    if baseline == "live":
        return None, None
    incoming_live = report if report.status == "live" else None
    if baseline is not None:
        lives = [e for e in (live, incoming_live) if e is not None]
        return None, min(lives, key=_at) if lives else None
    first = min((e for e in (new, report) if e is not None), key=_at)
    earlier_live = new if new is not None and new.status == "live" else live
    lives = [e for e in (earlier_live, incoming_live) if e is not None]
    earliest_live = min(lives, key=_at) if lives else None
    if first.status == "live" or earliest_live is None:
        return first, None
    return first, LogEntry(earliest_live.at, "live", earliest_live.item_id)


def _at(entry: LogEntry) -> Point:
    return entry.at
