"""Scoring extraction against labelled corpora, exactly as FACTS.md "Scoring" says.

Per item, the predicted and gold facts are compared as sets of (entity, kind,
key(value)) triples; true positives, false positives and misses are summed over the
corpus (micro averages). Status accuracy is the share of matched triples whose
predicted status equals the gold status.

First reports: the items are replayed in ``published`` order and, for each gold triple,
the first item that states it is its first report. Status on first reports is scored
apart, because a first report wrongly read as ``live`` hides the real launch later (no
"now live" alert). Errors are also grouped into classes (kind x language x cause) so
that the next person sees where recall and precision go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from monitor.types import Fact, Item

_UNDATED = datetime.max.replace(tzinfo=UTC)  # undated items sort after every dated one


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
    lang: str = "unknown"
    cause: str = ""  # see error_cause()


def error_cause(error: str, fact: Fact, expected_status: str | None, entity_found: bool) -> str:
    """The cause part of an error class: why this triple is wrong, in a few words."""
    if error == "wrong status":
        return f"read {fact.status} (gold {expected_status})"
    if error == "false positive":
        return "false positive"
    # a miss: did the extractor see the company at all in this item?
    return "missed value" if entity_found else "missed entity"


@dataclass(slots=True)
class Report:
    overall: Counts = field(default_factory=Counts)
    by_lang: dict[str, Counts] = field(default_factory=dict)
    by_kind: dict[str, Counts] = field(default_factory=dict)
    items: int = 0
    errors: list[ErrorCase] = field(default_factory=list)
    first_reports: int = 0  # gold triples matched on their first report
    first_status_right: int = 0
    first_report_of: dict[tuple[str, str, str], int] = field(default_factory=dict)  # -> index

    @property
    def first_report_status_accuracy(self) -> float:
        return self.first_status_right / self.first_reports if self.first_reports else 1.0

    def error_classes(self) -> list[tuple[tuple[str, str, str], int]]:
        """(kind, language, cause) with their error counts, the largest class first."""
        counts: dict[tuple[str, str, str], int] = {}
        for e in self.errors:
            key = (e.fact.kind, e.lang, e.cause)
            counts[key] = counts.get(key, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "overall": self.overall.as_dict(),
            "first_report_status": {
                "matched": self.first_reports,
                "status_right": self.first_status_right,
                "status_accuracy": round(self.first_report_status_accuracy, 4),
            },
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


def score_item(
    report: Report, item: Item, gold: list[Fact], predicted: list[Fact], index: int = -1
) -> None:
    """Add one item's comparison to ``report`` (``index``: its place, for first reports)."""
    report.items += 1
    lang = item.lang or "unknown"
    item_id = str(item.extra.get("id", ""))
    gold_by_key = {f.key: f for f in gold}
    pred_by_key = {f.key: f for f in predicted}
    entities_found = {f.entity for f in predicted}

    def error(kind: str, fact: Fact, sentence: str, expected: str | None = None) -> None:
        cause = error_cause(kind, fact, expected, fact.entity in entities_found)
        report.errors.append(ErrorCase(item_id, kind, fact, sentence, expected, lang, cause))

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
            if report.first_report_of.get(key, -2) == index:
                report.first_reports += 1
                report.first_status_right += int(right)
            if not right:
                error("wrong status", fact, sentence, expected)
        else:
            _bump(buckets(fact.kind), fp=1)
            error("false positive", fact, sentence)
    for key, fact in gold_by_key.items():
        if key not in pred_by_key:
            _bump(buckets(fact.kind), fn=1)
            error("miss", fact, item.title)


def first_reports(labelled: list[tuple[Item, list[Fact]]]) -> dict[tuple[str, str, str], int]:
    """For each gold triple, the index of the earliest item (by ``published``) stating it.

    Items without a date count as published after every dated one; ties keep file order.
    """
    order = sorted(
        range(len(labelled)),
        key=lambda i: (labelled[i][0].published or _UNDATED, i),
    )
    first: dict[tuple[str, str, str], int] = {}
    for index in order:
        for fact in labelled[index][1]:
            first.setdefault(fact.key, index)
    return first


def evaluate(
    labelled: Iterable[tuple[Item, list[Fact] | None]],
    extract: Callable[[Item], list[Fact]],
) -> Report:
    """Score ``extract`` over (item, gold) pairs; unlabelled items (gold None) are skipped."""
    scored = [(item, gold) for item, gold in labelled if gold is not None]
    report = Report(first_report_of=first_reports(scored))
    for index, (item, gold) in enumerate(scored):
        score_item(report, item, gold, extract(item), index)
    return report
