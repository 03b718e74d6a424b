"""Train the region linker (monitor/extract/linker.py) and score it leave-one-set-out.

The training data are the labelled corpora: the dev corpora in ``../shared/corpora``, the
blind sets in ``tests/corpus``, and the extraction cases in ``tests/cases`` (short items
written for the rules: many say what is *not* a site). One example per (entity, country)
pair of an item that shares a sentence (the pairs ``Extractor.region_pairs`` gives); its
label is whether the item's gold facts hold that region. The model is an L2-regularised
logistic regression fit by AdaGrad in plain Python (deterministic: a fixed seed), so the
project needs no machine learning library; its 6,000 pairs train in a few seconds.

    .venv/bin/python bench/train_linker.py                  # write monitor/data/linker.json
    .venv/bin/python bench/train_linker.py --loso           # score each blind set held out
    .venv/bin/python bench/train_linker.py --exclude blind21 --loso

A new blind set stays out of training (``--exclude``) until its first run is recorded:
that run is the honest prediction of the held-out score, for the linker as for the rules.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.extract import Extractor  # noqa: E402
from monitor.extract.corpus import case_item, read_items_jsonl  # noqa: E402
from monitor.extract.linker_model import LinkerModel  # noqa: E402
from monitor.types import Fact, Item  # noqa: E402

CORPORA = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "corpora"
OUT = ROOT / "monitor" / "data" / "linker.json"
# The threshold, chosen leave-one-set-out: 0.5, 0.6 and 0.7 scored within 0.001 F1 over
# all blind sets; 0.7 was best on blinds 16-19 (the sets the rules were least fitted to).
# Over blinds 16-21, 0.6 to 0.8 give the same F1 (0.926); higher trades recall for
# precision. Dropping a rule's region below a threshold (0.1-0.3) gained nothing.
ADD = 0.7

Key = tuple[str, str]
# per item: gold regions and their status, the rules' regions, each pair's features, and
# the status features of each pair's site sentence
Pairs = tuple[dict[Key, str], set[Key], dict[Key, set[str]], dict[Key, set[str]]]


def _cases() -> Iterator[tuple[Item, list[Fact]]]:
    """The extraction cases (tests/cases/extract_cases.yaml) as items and gold facts."""
    text = (ROOT / "tests" / "cases" / "extract_cases.yaml").read_text("utf-8")
    for case in yaml.safe_load(text)["cases"]:
        item = case_item(case)
        gold = []
        for spec in case["expect"]:
            entity, kind, value, status = spec.split("/")
            gold.append(Fact(entity, kind, value, status))
        yield item, gold


def _labelled(path: Path) -> Iterator[tuple[Item, list[Fact]]]:
    for item, gold, _story in read_items_jsonl(path):
        if gold is not None:
            yield item, gold


def load_sets(exclude: set[str]) -> dict[str, list[Pairs]]:
    """Per corpus: for each labelled item, (gold regions, rule regions, pair features)."""
    extractor = Extractor(linker=False)
    files = [CORPORA / "dev-en.jsonl", CORPORA / "dev-multi.jsonl"]
    files += sorted((ROOT / "tests" / "corpus").glob("*.jsonl"))
    files += sorted((ROOT / "tests" / "cases").glob("*.jsonl"))
    sources: dict[str, Iterable[tuple[Item, list[Fact]]]] = {"cases": _cases()}
    for path in files:
        if not path.exists():
            sys.exit(f"train_linker: {path} is missing (set MONITOR_SHARED to ../shared)")
        sources[path.stem] = _labelled(path)
    sets: dict[str, list[Pairs]] = {}
    for name, labelled in sources.items():
        if name in exclude:
            continue
        rows: list[Pairs] = []
        for item, gold in labelled:
            facts, pairs = extractor.region_pairs(item)
            rows.append(
                (
                    {(f.entity, f.value): f.status for f in gold if f.kind == "region"},
                    {(f.entity, f.value) for f in facts if f.kind == "region"},
                    {key: features for key, (features, _status) in pairs.items()},
                    {key: status for key, (_features, status) in pairs.items()},
                )
            )
        sets[name] = rows
    return sets


def site_examples(rows: list[Pairs]) -> list[tuple[set[str], float]]:
    """Each pair, labelled 1 where the item's gold holds the region."""
    return [
        (features, 1.0 if key in gold else 0.0)
        for gold, _rules, pairs, _status in rows
        for key, features in pairs.items()
    ]


def status_examples(rows: list[Pairs]) -> list[tuple[set[str], float]]:
    """Each gold region among the pairs, labelled 1 where it is live."""
    return [
        (status[key], 1.0 if gold[key] == "live" else 0.0)
        for gold, _rules, _pairs, status in rows
        for key in status
        if key in gold
    ]


def model_of(rows: list[Pairs], add: float) -> LinkerModel:
    return LinkerModel(train(site_examples(rows)), add, train(status_examples(rows)))


def train(
    labelled: list[tuple[set[str], float]],
    epochs: int = 15,
    l2: float = 1e-4,
    rate: float = 0.3,
    min_count: int = 2,
) -> dict[str, float]:
    """Logistic regression weights over the features seen in at least ``min_count`` pairs."""
    seen: Counter[str] = Counter()
    for features, _label in labelled:
        seen.update(features)
    examples = [
        ([f for f in sorted(features) if seen[f] >= min_count], label)
        for features, label in labelled
    ]
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    shuffle = random.Random(0).shuffle
    for _ in range(epochs):
        shuffle(examples)
        for kept, label in examples:
            z = sum(weights.get(f, 0.0) for f in kept)
            error = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))) - label
            for f in kept:
                w = weights.get(f, 0.0)
                g = error + l2 * w
                squares[f] = squares.get(f, 1e-8) + g * g
                weights[f] = w - rate * g / math.sqrt(squares[f])
    return {f: round(w, 4) for f, w in sorted(weights.items()) if abs(w) >= 1e-4}


def decide(model: LinkerModel, row: Pairs) -> set[tuple[str, str]]:
    """The regions the extractor gives with the linker: as Extractor._linked does."""
    _gold, rules, pairs, _status = row
    added = {k for k, f in pairs.items() if k not in rules and model.probability(f) >= model.add}
    return rules | added


def prf(counts: list[int]) -> str:
    tp, fp, fn = counts
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"P {p:.3f} R {r:.3f} F1 {f:.3f}"


def add_counts(counts: list[int], gold: set[Key], got: set[Key]) -> None:
    counts[0] += len(gold & got)
    counts[1] += len(got - gold)
    counts[2] += len(gold - got)


def leave_one_set_out(sets: dict[str, list[Pairs]], add: float) -> None:
    """Region (entity, country) scores per blind set, trained on every other set."""
    total_rules, total_linked = [0, 0, 0], [0, 0, 0]
    status = [0, 0]  # right, wrong
    print("held out   rules                     rules + linker")
    for held in sorted(s for s in sets if s.startswith("blind")):
        rows = [row for name, set_rows in sets.items() if name != held for row in set_rows]
        model = model_of(rows, add)
        rules, linked = [0, 0, 0], [0, 0, 0]
        for row in sets[held]:
            gold = set(row[0])
            linked_pairs = decide(model, row)
            for counts, got in ((rules, row[1]), (linked, linked_pairs)):
                add_counts(counts, gold, got)
            for key in linked_pairs - row[1]:  # the status model on the pairs it adds
                if key in row[0]:
                    right = model.live(row[3][key]) == (row[0][key] == "live")
                    status[0 if right else 1] += 1
        for total, counts in ((total_rules, rules), (total_linked, linked)):
            total[:] = [a + b for a, b in zip(total, counts, strict=True)]
        print(f"{held:<10} {prf(rules)}   {prf(linked)}", flush=True)
    print(f"{'all':<10} {prf(total_rules)}   {prf(total_linked)}")
    print(f"status of the regions the linker added: {status[0]} right, {status[1]} wrong")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loso", action="store_true", help="score leave-one-set-out only")
    parser.add_argument("--exclude", action="append", default=[], help="a corpus to leave out")
    parser.add_argument("--add", type=float, default=ADD)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    sets = load_sets(set(args.exclude))
    if args.loso:
        leave_one_set_out(sets, args.add)
        return
    rows = [row for set_rows in sets.values() for row in set_rows]
    model = model_of(rows, args.add)
    payload = {
        "trained_on": sorted(sets),
        "pairs": sum(len(row[2]) for row in rows),
        "add": model.add,
        "weights": model.weights,
        "status_weights": model.status_weights,
    }
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=0) + "\n", "utf-8")
    print(
        f"{args.out}: {len(model.weights)} + {len(model.status_weights)} weights from "
        f"{payload['pairs']} pairs in {len(sets)} sets"
    )


if __name__ == "__main__":
    main()
