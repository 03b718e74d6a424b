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
