"""Every fact the extractor gives on the labelled corpora and the case files, as JSON.

A guard for changes that must not change a single extracted fact (speed work): write the
snapshot before the change, compare after it.

    .venv/bin/python bench/extract_snapshot.py > /tmp/before.json
    ... change ...
    .venv/bin/python bench/extract_snapshot.py --check /tmp/before.json

Reads ``../shared/corpora`` (dev-en, dev-multi), ``tests/corpus/*.jsonl`` (blind sets)
and ``tests/cases/`` (the extraction cases and the small eval corpus).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.extract import Extractor, default_watchlist  # noqa: E402
from monitor.extract.corpus import case_item, read_items_jsonl  # noqa: E402
from monitor.types import Fact, Item  # noqa: E402

CORPORA = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "corpora"


def _items() -> list[tuple[str, Item]]:
    items: list[tuple[str, Item]] = []
    files = [
        CORPORA / "dev-en.jsonl",
        CORPORA / "dev-multi.jsonl",
        *sorted((ROOT / "tests" / "corpus").glob("*.jsonl")),
        *sorted((ROOT / "tests" / "cases").glob("*.jsonl")),
    ]
    for path in files:
        if not path.exists():
            sys.exit(f"corpus not found: {path}")
        for index, (item, _gold, _story) in enumerate(read_items_jsonl(path)):
            items.append((f"{path.name}:{index}", item))
    cases = yaml.safe_load((ROOT / "tests" / "cases" / "extract_cases.yaml").read_text("utf-8"))
    for case in cases["cases"]:
        items.append((f"case:{case['id']}", case_item(case)))
    return items


def _fact(fact: Fact) -> list[Any]:
    ev = fact.evidence
    evidence = [ev.field, ev.start, ev.end, ev.sentence] if ev is not None else None
    return [fact.entity, fact.kind, fact.value, fact.status, evidence]


def snapshot() -> dict[str, list[list[Any]]]:
    extractor = Extractor(default_watchlist())
    return {key: [_fact(f) for f in extractor.extract(item)] for key, item in _items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", type=Path, help="compare with this earlier snapshot")
    args = parser.parse_args()
    now = snapshot()
    if args.check is None:
        json.dump(now, sys.stdout, ensure_ascii=False, indent=0)
        return
    before = json.loads(args.check.read_text("utf-8"))
    differ = [key for key in sorted(set(before) | set(now)) if before.get(key) != now.get(key)]
    facts = sum(len(v) for v in now.values())
    for key in differ[:20]:
        print(f"{key}: before {before.get(key)}\n{' ' * len(key)}  now    {now.get(key)}")
    print(f"{len(now)} items, {facts} facts; {len(differ)} items differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
