"""Extraction throughput: the dev corpora repeated to 100,000 items, on one core.

Prints items/s (extraction only: building the extractor and reading the corpus are
timed separately) and the peak RSS. Targets (issue 10): >= 10,000 items/s of CPU time on
one core, peak RSS < 150 MB.

    .venv/bin/python bench/bench_extract.py [--items N] [--rules-only]

``--rules-only`` leaves the learned region linker out (its cost is the difference).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.extract import Extractor, default_watchlist  # noqa: E402
from monitor.extract.corpus import read_items_jsonl  # noqa: E402

CORPORA = Path(os.environ.get("MONITOR_SHARED", ROOT.parent / "shared")) / "corpora"


def peak_rss_mb() -> float:
    info = psutil.Process().memory_info()
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    except ImportError:  # pragma: no cover - not on Linux
        return float(info.rss) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rules-only", action="store_true", help="without the region linker")
    args = parser.parse_args()
    files = [CORPORA / "dev-en.jsonl", CORPORA / "dev-multi.jsonl"]
    if not all(f.exists() for f in files):
        sys.exit(f"corpora not found in {CORPORA}")
    started = time.perf_counter()
    extractor = Extractor(default_watchlist(), linker=not args.rules_only)
    build = time.perf_counter() - started
    items = [item for f in files for item, _gold, _story in read_items_jsonl(f)]
    workload = (items * (args.items // len(items) + 1))[: args.items]
    extractor.extract(items[0])  # warm caches outside the timed loop
    facts = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for item in workload:
        facts += len(extractor.extract(item))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(f"extractor build: {build:.2f} s")
    print(f"items: {len(workload)}  facts: {facts}  time: {elapsed:.2f} s")
    print(f"throughput: {len(workload) / elapsed:,.0f} items/s wall clock (single thread)")
    # On a shared machine wall time includes waiting for the CPU; CPU time does not.
    print(f"throughput: {len(workload) / cpu:,.0f} items/s of CPU time (one core)")
    print(f"load average while running: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
