"""The learned region linker (monitor/extract/linker.py): its words, its candidate pairs,
how the extractor uses a model, and that the shipped weights are what training gives."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from monitor.extract import Extractor
from monitor.extract.linker import last_words, words_in
from monitor.extract.linker_model import LinkerModel, default_model
from monitor.extract.watchlist import Watchlist
from monitor.types import Item

ROOT = Path(__file__).resolve().parent.parent

# Rules give no region here: the place is named, the company does something there, but in
# words no rule reads as a site ("crunches requests in").
UNREAD = Item(
    title="Tencent Cloud crunches game requests in Chile",
    text="Tencent Cloud said it crunches game requests in Chile for local studios.",
    lang="en",
)
# a weight that makes any pair of Tencent and Chile a site, whatever else is there
CHILE_SITE = {"bias": -10.0, "rule=False": 2.0, "pw-=in": 3.0, "lang=en": 6.0}


def _words(text: str) -> list[str]:
    """The plain definition: every Latin word, every bigram of each Chinese run."""
    out: list[str] = []
    for word in text.split():
        if "\u3400" <= word[0] <= "\u9fff" and len(word) > 1:
            out.extend(word[i : i + 2] for i in range(len(word) - 1))
        else:
            out.append(word)
    return out


@pytest.mark.parametrize(
    "text", ["alibaba cloud opens 数据中心 in mexico", "华为云 在 沙特阿拉伯", "a b c", "云"]
)
def test_window_words_are_the_first_and_last_words_and_bigrams(text: str) -> None:
    every = _words(text)
    for count in (1, 2, 3, 12):
        assert words_in(text, 0, len(text), count) == every[:count]
        assert last_words(text, 0, len(text), count) == every[-count:]


def test_the_rules_alone_give_no_region_for_the_probe() -> None:
    facts = Extractor(linker=False).extract(UNREAD)
    assert not [f for f in facts if f.kind == "region"]


def test_a_confident_model_adds_the_pair_with_its_sentence_and_status() -> None:
    model = LinkerModel(CHILE_SITE, add=0.7, status_weights={"bias": 5.0})
    facts = Extractor(linker=model).extract(UNREAD)
    regions = [f for f in facts if f.kind == "region"]
    assert [(f.entity, f.value, f.status) for f in regions] == [("tencent", "CL", "live")]
    evidence = regions[0].evidence
    assert evidence is not None and "Chile" in evidence.sentence


def test_the_status_model_decides_planned() -> None:
    model = LinkerModel(CHILE_SITE, add=0.7, status_weights={"bias": -5.0})
    facts = Extractor(linker=model).extract(UNREAD)
    assert [f.status for f in facts if f.kind == "region"] == ["planned"]


def test_below_the_threshold_nothing_is_added() -> None:
    model = LinkerModel(CHILE_SITE, add=0.9999, status_weights={})
    facts = Extractor(linker=model).extract(UNREAD)
    assert not [f for f in facts if f.kind == "region"]


def test_a_denied_or_negated_sentence_gets_no_region_from_the_linker() -> None:
    model = LinkerModel(CHILE_SITE, add=0.7, status_weights={})
    denied = Item(
        title="Tencent Cloud will not crunch game requests in Chile",
        text="Tencent Cloud does not plan to crunch game requests in Chile, it said.",
        lang="en",
    )
    facts = Extractor(linker=model).extract(denied)
    assert not [f for f in facts if f.kind == "region"]


def test_the_linker_never_removes_a_rule_region() -> None:
    item = Item(
        title="Alibaba Cloud opens a data centre in Mexico",
        text="The new data centre in Querétaro serves retailers.",
        lang="en",
    )
    never = LinkerModel({"bias": -30.0}, add=0.7, status_weights={})
    with_model = Extractor(linker=never).extract(item)
    assert {f.key for f in with_model} == {f.key for f in Extractor(linker=False).extract(item)}
    assert ("alibaba", "region", "mx") in {f.key for f in with_model}


def test_the_shipped_linker_adds_a_site_the_rules_miss_unless_switched_off() -> None:
    item = Item(
        title="Huawei Cloud expands in Africa",
        text="Huawei Cloud opened a region in Cairo. It adds to the company's existing African "
        "footprint in Johannesburg, which has served customers in southern Africa since 2019.",
        lang="en",
    )
    rules = {f.key for f in Extractor(linker=False).extract(item)}
    shipped = {f.key for f in Extractor().extract(item)}
    assert ("huawei", "region", "eg") in rules and ("huawei", "region", "za") not in rules
    assert shipped - rules == {("huawei", "region", "za")}
    switched_off = Extractor(Watchlist(region_linker=False)).extract(item)
    assert {f.key for f in switched_off} == rules


def _trainer() -> ModuleType:
    path = ROOT / "bench" / "train_linker.py"
    spec = importlib.util.spec_from_file_location("train_linker", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_linker"] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_weights_are_what_training_gives_today(corpora: Path) -> None:
    """Features depend on the rules (their regions are a feature) and on the lexicon: a
    change to either leaves the shipped weights stale until bench/train_linker.py is run."""
    trainer = _trainer()
    sets = trainer.load_sets(set())
    rows = [row for set_rows in sets.values() for row in set_rows]
    model = trainer.model_of(rows, trainer.ADD)
    shipped = json.loads((ROOT / "monitor" / "data" / "linker.json").read_text("utf-8"))
    assert shipped["trained_on"] == sorted(sets)
    assert shipped["add"] == model.add
    message = "stale: run .venv/bin/python bench/train_linker.py"
    assert shipped["weights"] == model.weights, message
    assert shipped["status_weights"] == model.status_weights, message
    loaded = default_model()
    assert loaded is not None and loaded.weights == model.weights
