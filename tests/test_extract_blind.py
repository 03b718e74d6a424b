"""Extraction on our own held-out corpora, tests/corpus/blind*.jsonl (blind to blind5).

Each corpus was written blind (before running the extractor on it) in the format of
FACTS.md, to estimate how the rules generalise beyond the shared dev corpora; blind2 and
blind3 are weighted to the error classes of issue 10 and to real-news noise, blind3 with
longer, harder reports. Their first-run scores
are in docs/performance.md. The floors below are honest: under the scores reached, so
that a regression shows, not a tuning target.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monitor.extract import Extractor, default_watchlist
from monitor.extract.corpus import read_items_jsonl
from monitor.extract.evaluate import evaluate

BLIND = Path(__file__).parent / "corpus" / "blind.jsonl"
BLIND2 = Path(__file__).parent / "corpus" / "blind2.jsonl"
BLIND3 = Path(__file__).parent / "corpus" / "blind3.jsonl"
BLIND4 = Path(__file__).parent / "corpus" / "blind4.jsonl"
BLIND5 = Path(__file__).parent / "corpus" / "blind5.jsonl"
BLIND6 = Path(__file__).parent / "corpus" / "blind6.jsonl"


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(default_watchlist())


def test_blind_corpus_is_balanced() -> None:
    items = list(read_items_jsonl(BLIND))
    langs = Counter(item.lang for item, _gold, _story in items)
    assert len(items) >= 90
    assert set(langs) == {"en", "fr", "zh", "zh-Hant"}
    assert min(langs.values()) >= 15
    negatives = sum(1 for _item, gold, _story in items if not gold)
    assert negatives >= 0.2 * len(items)  # hard negatives: offices, denials, look-alikes


def test_blind_corpus_meets_targets(extractor: Extractor) -> None:
    items = [(item, gold) for item, gold, _story in read_items_jsonl(BLIND)]
    report = evaluate(items, extractor.extract)
    assert report.overall.precision >= 0.90
    assert report.overall.recall >= 0.85
    assert report.overall.status_accuracy >= 0.85
    for lang, counts in report.by_lang.items():
        assert counts.f1 >= 0.80, lang


def test_blind2_corpus_is_balanced() -> None:
    items = list(read_items_jsonl(BLIND2))
    langs = Counter(item.lang for item, _gold, _story in items)
    assert len(items) >= 120
    assert set(langs) == {"en", "fr", "zh", "zh-Hant"}
    assert min(langs.values()) >= 25
    negatives = sum(1 for _item, gold, _story in items if not gold)
    assert negatives >= 0.2 * len(items)
    kinds = Counter(fact.kind for _item, gold, _story in items for fact in gold or [])
    assert kinds["region"] >= 0.4 * sum(kinds.values())  # regions are where recall goes


def test_blind2_corpus_meets_floors(extractor: Extractor) -> None:
    items = [(item, gold) for item, gold, _story in read_items_jsonl(BLIND2)]
    report = evaluate(items, extractor.extract)
    # first run (before the issue-10 fixes): P 0.956, R 0.841, status 0.914
    assert report.overall.precision >= 0.97
    assert report.overall.recall >= 0.95
    assert report.overall.status_accuracy >= 0.93
    assert report.by_kind["region"].recall >= 0.93
    assert report.first_report_status_accuracy >= 0.93
    for lang, counts in report.by_lang.items():
        assert counts.f1 >= 0.95, lang


def test_blind3_corpus_is_balanced() -> None:
    items = list(read_items_jsonl(BLIND3))
    langs = Counter(item.lang for item, _gold, _story in items)
    assert len(items) >= 120
    assert set(langs) == {"en", "fr", "zh", "zh-Hant"}
    assert min(langs.values()) >= 25
    negatives = sum(1 for _item, gold, _story in items if not gold)
    assert negatives >= 0.2 * len(items)
    stories = Counter(story for _item, _gold, story in items)
    assert sum(1 for n in stories.values() if n > 1) >= 10  # syndication for the alert replay


def test_blind3_corpus_meets_floors(extractor: Extractor) -> None:
    items = [(item, gold) for item, gold, _story in read_items_jsonl(BLIND3)]
    report = evaluate(items, extractor.extract)
    # first run (before the fixes of issue 10's second round): P 0.979, R 0.870, F1 0.921,
    # status 0.909, region recall 0.727, first reports 0.902
    assert report.overall.precision >= 0.98
    assert report.overall.recall >= 0.95
    assert report.overall.status_accuracy >= 0.95
    assert report.by_kind["region"].recall >= 0.92
    assert report.first_report_status_accuracy >= 0.94
    for lang, counts in report.by_lang.items():
        assert counts.f1 >= 0.95, lang


@pytest.mark.parametrize("path", [BLIND4, BLIND5, BLIND6], ids=["blind4", "blind5", "blind6"])
def test_blind4_to_blind6_are_balanced(path: Path) -> None:
    items = list(read_items_jsonl(path))
    langs = Counter(item.lang for item, _gold, _story in items)
    assert len(items) >= 80
    assert set(langs) == {"en", "fr", "zh", "zh-Hant"}
    assert min(langs.values()) >= 18
    negatives = sum(1 for _item, gold, _story in items if not gold)
    assert negatives >= 0.2 * len(items)


# First runs: blind4 (on 68b5b62) P 0.932 R 0.896 status 0.858; blind5 (on 2c6afa0) P 0.946
# R 0.902 status 0.933; blind6 (on 3e4bbc9) P 0.948 R 0.849 status 0.921, not fixed from.
# Floors under what each reached, so a regression shows.
FLOORS = {
    "blind4": {"precision": 0.95, "recall": 0.89, "status": 0.88, "lang_f1": 0.91},
    "blind5": {"precision": 0.95, "recall": 0.88, "status": 0.94, "lang_f1": 0.85},
    "blind6": {"precision": 0.93, "recall": 0.83, "status": 0.90, "lang_f1": 0.82},
}


@pytest.mark.parametrize("path", [BLIND4, BLIND5, BLIND6], ids=["blind4", "blind5", "blind6"])
def test_blind4_to_blind6_meet_floors(path: Path, extractor: Extractor) -> None:
    floors = FLOORS[path.stem]
    items = [(item, gold) for item, gold, _story in read_items_jsonl(path)]
    report = evaluate(items, extractor.extract)
    assert report.overall.precision >= floors["precision"]
    assert report.overall.recall >= floors["recall"]
    assert report.overall.status_accuracy >= floors["status"]
    for lang, counts in report.by_lang.items():
        assert counts.f1 >= floors["lang_f1"], lang
