"""Scoring extraction against labelled corpora, exactly as FACTS.md "Scoring" says.

Per item, the predicted and gold facts are compared as sets of (entity, kind,
key(value)) triples; true positives, false positives and misses are summed over the
corpus (micro averages). Status accuracy is the share of matched triples whose
predicted status equals the gold status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from monitor.types import Fact, Item


@dataclass(slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    status_right: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def status_accuracy(self) -> float:
        return self.status_right / self.tp if self.tp else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "status_accuracy": round(self.status_accuracy, 4),
        }


@dataclass(frozen=True, slots=True)
class ErrorCase:
    """A false positive (predicted, not in gold) or a miss (gold, not predicted)."""

    item_id: str
    error: str  # "false positive", "miss" or "wrong status"
    fact: Fact
    sentence: str  # the evidence sentence, or the item's title for a miss
    expected_status: str | None = None


@dataclass(slots=True)
class Report:
    overall: Counts = field(default_factory=Counts)
    by_lang: dict[str, Counts] = field(default_factory=dict)
    by_kind: dict[str, Counts] = field(default_factory=dict)
    items: int = 0
    errors: list[ErrorCase] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "overall": self.overall.as_dict(),
            "by_lang": {k: v.as_dict() for k, v in sorted(self.by_lang.items())},
            "by_kind": {k: v.as_dict() for k, v in sorted(self.by_kind.items())},
        }


def _bump(
    buckets: list[Counts], tp: int = 0, fp: int = 0, fn: int = 0, status_right: int = 0
) -> None:
    for bucket in buckets:
        bucket.tp += tp
        bucket.fp += fp
        bucket.fn += fn
        bucket.status_right += status_right


def score_item(report: Report, item: Item, gold: list[Fact], predicted: list[Fact]) -> None:
    """Add one item's comparison to ``report``."""
    report.items += 1
    lang = item.lang or "unknown"
    item_id = str(item.extra.get("id", ""))
    gold_by_key = {f.key: f for f in gold}
    pred_by_key = {f.key: f for f in predicted}

    def buckets(kind: str) -> list[Counts]:
        return [
            report.overall,
            report.by_lang.setdefault(lang, Counts()),
            report.by_kind.setdefault(kind, Counts()),
        ]

    for key, fact in pred_by_key.items():
        sentence = fact.evidence.sentence if fact.evidence else ""
        if key in gold_by_key:
            expected = gold_by_key[key].status
            right = fact.status == expected
            _bump(buckets(fact.kind), tp=1, status_right=int(right))
            if not right:
                report.errors.append(ErrorCase(item_id, "wrong status", fact, sentence, expected))
        else:
            _bump(buckets(fact.kind), fp=1)
            report.errors.append(ErrorCase(item_id, "false positive", fact, sentence))
    for key, fact in gold_by_key.items():
        if key not in pred_by_key:
            _bump(buckets(fact.kind), fn=1)
            report.errors.append(ErrorCase(item_id, "miss", fact, item.title))


def evaluate(
    labelled: Iterable[tuple[Item, list[Fact] | None]],
    extract: Callable[[Item], list[Fact]],
) -> Report:
    """Score ``extract`` over (item, gold) pairs; unlabelled items (gold None) are skipped."""
    report = Report()
    for item, gold in labelled:
        if gold is None:
            continue
        score_item(report, item, gold, extract(item))
    return report
