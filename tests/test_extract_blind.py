"""Extraction on our own held-out corpora, tests/corpus/blind*.jsonl (blind to blind6).

Each corpus was written blind (before running the extractor on it) in the format of
FACTS.md, to estimate how the rules generalise beyond the shared dev corpora; blind2 to
blind6 are weighted to the error classes of issue 10 and to real-news noise, blind3 to
blind6 with longer, harder reports. Their first-run scores are in docs/performance.md.
The floors below are honest: under the scores reached, so that a regression shows, not a
tuning target.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.extract import Extractor, default_watchlist
from monitor.extract.corpus import read_items_jsonl
from monitor.extract.evaluate import evaluate

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class BlindSet:
    """A blind corpus: what makes it balanced, and the floors its scores must keep."""

    name: str
    min_items: int
    min_per_lang: int
    precision: float
    recall: float
    status: float
    lang_f1: float
    region_recall: float | None = None
    first_reports: float | None = None
    region_share: float | None = None  # regions are where recall goes
    syndicated_stories: int | None = None  # stories told twice, for the alert replay
    negatives: float = 0.2  # share of items with no fact


SETS = [
    BlindSet("blind", 90, 15, precision=0.90, recall=0.85, status=0.85, lang_f1=0.80),
    # first run (before issue 10's fixes): P 0.956, R 0.841, status 0.914
    BlindSet(
        "blind2",
        120,
        25,
        precision=0.97,
        recall=0.95,
        status=0.93,
        lang_f1=0.95,
        region_recall=0.93,
        first_reports=0.93,
        region_share=0.4,
    ),
    # first run (before issue 10's second round): P 0.979, R 0.870, F1 0.921, status 0.909,
    # region recall 0.727, first reports 0.902
    BlindSet(
        "blind3",
        120,
        25,
        precision=0.98,
        recall=0.95,
        status=0.95,
        lang_f1=0.95,
        region_recall=0.92,
        first_reports=0.94,
        syndicated_stories=10,
    ),
    # first runs: blind4 (on 68b5b62) P 0.932 R 0.896 status 0.858; blind5 (on 2c6afa0)
    # P 0.946 R 0.902 status 0.933; blind6 (on 3e4bbc9) P 0.948 R 0.849 status 0.921
    BlindSet("blind4", 80, 18, precision=0.95, recall=0.89, status=0.88, lang_f1=0.91),
    BlindSet("blind5", 80, 18, precision=0.95, recall=0.88, status=0.94, lang_f1=0.85),
    BlindSet("blind6", 80, 18, precision=0.93, recall=0.83, status=0.90, lang_f1=0.82),
    # wave 2, third round. first runs: blind7 (67f8436) P 0.959, R 0.941, status 0.941;
    # blind8 (c6c88c2, after blind 7's fixes) P 0.964, R 0.913, status 0.949
    BlindSet("blind7", 120, 25, precision=0.97, recall=0.96, status=0.96, lang_f1=0.93),
    BlindSet("blind8", 120, 25, precision=0.96, recall=0.90, status=0.94, lang_f1=0.91),
    # first run (d6f66df, after blind 8's fixes): P 0.969, R 0.943, status 0.882
    BlindSet("blind9", 120, 25, precision=0.96, recall=0.93, status=0.91, lang_f1=0.92),
    # first run (77a6a1f, after blind 9's fixes): P 0.979, R 0.873, status 0.935
    BlindSet("blind10", 120, 25, precision=0.97, recall=0.92, status=0.91, lang_f1=0.92),
    # first run (8cb9a27, after blind 10's fixes): P 0.973, R 0.915, status 0.938
    BlindSet("blind11", 120, 25, precision=0.96, recall=0.89, status=0.93, lang_f1=0.89),
    # first run (bc7cf2b, after blind 11's fixes): P 0.974, R 0.926, status 0.940
    BlindSet("blind12", 120, 25, precision=0.96, recall=0.91, status=0.93, lang_f1=0.93),
    # first run (10cb353, the landed rules): P 0.981, R 0.941, status 0.921
    BlindSet("blind13", 120, 25, precision=0.97, recall=0.95, status=0.93, lang_f1=0.94),
    # blind 14: first run (4725080) P 0.965, R 0.915, F1 0.939, status 0.903
    BlindSet("blind14", 120, 25, precision=0.98, recall=0.95, status=0.95, lang_f1=0.94),
    # blind 15: first run (4502cdf) P 0.958, R 0.936, F1 0.947, status 0.844
    BlindSet("blind15", 120, 25, precision=0.96, recall=0.93, status=0.91, lang_f1=0.87),
    # blind 16: first run (3087e81) P 0.967, R 0.919, F1 0.943, status 0.936
    BlindSet("blind16", 120, 24, precision=0.98, recall=0.95, status=0.93, lang_f1=0.94),
    # blind 17: first run (ba7cdcf) P 0.966, R 0.874, F1 0.918, status 0.884
    BlindSet("blind17", 120, 24, precision=0.97, recall=0.92, status=0.87, lang_f1=0.93),
    # blind 18: first run (a510e7f) P 0.952, R 0.959, F1 0.956, status 0.925
    BlindSet("blind18", 120, 24, precision=0.96, recall=0.95, status=0.92, lang_f1=0.94),
    # blind 19: first run (b6f223d) P 0.942, R 0.895, F1 0.918, status 0.920
    BlindSet("blind19", 120, 24, precision=0.95, recall=0.89, status=0.91, lang_f1=0.90),
    # blind 20: first run of the rules alone (6c79325) P 0.941, R 0.935, F1 0.938, status
    # 0.928; of the rules and the region linker (trained without it) P 0.940, R 0.957, F1
    # 0.948, status 0.926. Floors after the linker was trained with it.
    BlindSet("blind20", 120, 24, precision=0.93, recall=0.97, status=0.91, lang_f1=0.94),
    # blind 21: first run of the rules alone (5a18b8d) P 0.947, R 0.972, F1 0.959, status
    # 0.930; with the linker (trained without it) P 0.932, R 0.980, F1 0.956, status 0.927
    BlindSet("blind21", 120, 24, precision=0.93, recall=0.97, status=0.91, lang_f1=0.94),
    # blind 22 (weighted to status and noise; its writers' 33 Baidu and ByteDance facts
    # dropped: the default watchlist does not track them): first run of the landed code
    # before it (7e2f372), rules alone P 0.925, R 0.920, F1 0.922, status 0.886; with the
    # linker P 0.918, R 0.953, F1 0.935, status 0.890; with stop 21's status rules (chips in
    # use, sites chosen; linker retrained without it) P 0.916, R 0.948, F1 0.931, status
    # 0.892. Floors after the linker was trained with it.
    BlindSet("blind22", 120, 24, precision=0.92, recall=0.96, status=0.88, lang_f1=0.92),
    # blind 23 (five new writers, realistic reporting, 45% regions; 20 of 129 items with no
    # fact): first run (f5d338f), rules alone P 0.931, R 0.938, F1 0.935, status 0.937; with
    # the linker (trained without it) P 0.913, R 0.943, F1 0.928, status 0.937, region P/R
    # 0.810/0.870. Floors after the rules and the linker were trained with it.
    BlindSet(
        "blind23",
        125,
        25,
        precision=0.94,
        recall=0.95,
        status=0.93,
        lang_f1=0.90,
        negatives=0.15,
        syndicated_stories=8,
    ),
    # blind 24 (five new writers, a harder brief: long features, pronouns paragraphs from
    # their company, site tables, market reports, tracked companies as customers): first
    # run (72831ed), rules alone P 0.922, R 0.879, F1 0.900, status 0.955; with the linker
    # (trained without it) P 0.915, R 0.884, F1 0.899, status 0.955, region P/R
    # 0.799/0.739. Floors after site lists were read and the linker trained with it.
    BlindSet(
        "blind24",
        125,
        25,
        precision=0.91,
        recall=0.96,
        status=0.93,
        lang_f1=0.91,
        syndicated_stories=10,
    ),
]
IDS = [s.name for s in SETS]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor(default_watchlist())


@pytest.mark.parametrize("blind", SETS, ids=IDS)
def test_blind_corpus_is_balanced(blind: BlindSet) -> None:
    items = list(read_items_jsonl(CORPUS / f"{blind.name}.jsonl"))
    langs = Counter(item.lang for item, _gold, _story in items)
    assert len(items) >= blind.min_items
    assert set(langs) == {"en", "fr", "zh", "zh-Hant"}
    assert min(langs.values()) >= blind.min_per_lang
    negatives = sum(1 for _item, gold, _story in items if not gold)
    # hard negatives: offices, denials, look-alikes
    assert negatives >= blind.negatives * len(items)
    if blind.region_share is not None:
        kinds = Counter(fact.kind for _item, gold, _story in items for fact in gold or [])
        assert kinds["region"] >= blind.region_share * sum(kinds.values())
    if blind.syndicated_stories is not None:
        stories = Counter(story for _item, _gold, story in items)
        assert sum(1 for n in stories.values() if n > 1) >= blind.syndicated_stories


@pytest.mark.parametrize("blind", SETS, ids=IDS)
def test_blind_corpus_meets_floors(blind: BlindSet, extractor: Extractor) -> None:
    items = [
        (item, gold) for item, gold, _story in read_items_jsonl(CORPUS / f"{blind.name}.jsonl")
    ]
    report = evaluate(items, extractor.extract)
    assert report.overall.precision >= blind.precision
    assert report.overall.recall >= blind.recall
    assert report.overall.status_accuracy >= blind.status
    if blind.region_recall is not None:
        assert report.by_kind["region"].recall >= blind.region_recall
    if blind.first_reports is not None:
        assert report.first_report_status_accuracy >= blind.first_reports
    for lang, counts in report.by_lang.items():
        assert counts.f1 >= blind.lang_f1, lang
