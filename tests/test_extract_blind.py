"""Extraction on our own held-out corpus, tests/corpus/blind.jsonl.

The corpus was written blind (before reading the extractor's rules) in the format of
FACTS.md, to estimate how the rules generalise beyond the shared dev corpora. The floors
below are honest: under the scores reached, so that a regression shows, not a tuning target.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from monitor.extract import Extractor, default_watchlist
from monitor.extract.corpus import read_items_jsonl
from monitor.extract.evaluate import evaluate

BLIND = Path(__file__).parent / "corpus" / "blind.jsonl"


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
