"""`monitor changes --format json` at scale: wall time and peak RSS of the real command.

A fresh SQLite file is filled with ``--changes`` changes of ``--evidence`` items each
(bench_queries.fill), then ``monitor changes --all --format json`` runs as a subprocess
(output to a file) ``--repeat`` times; printed: the median wall and CPU times, the peak
resident memory of the command (the largest over the runs), and the output's size::

    python bench/bench_changes_json.py [--changes 20000] [--evidence 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_queries import fill

from monitor.store.db import make_engine, upgrade


def run_once(db_url: str, config: Path) -> tuple[float, float, int, int]:
    """(wall seconds, CPU seconds, peak RSS in MB, bytes written) of one `monitor changes
    --format json` (CPU time: what the command costs on a machine that others share)."""
    out = config.parent / "out.json"
    command = [sys.executable, "-m", "monitor", "--config", str(config), "--db", db_url]
    started = time.perf_counter()
    with out.open("wb") as sink:
        child = subprocess.Popen([*command, "changes", "--all", "--format", "json"], stdout=sink)
        _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"monitor changes failed (status {status})")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss // 1024, out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--evidence", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(db_url)
        try:
            upgrade(engine)
            fill(engine, args.changes, args.evidence)
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        finally:
            engine.dispose()
        config = Path(folder) / "sources.yaml"
        config.write_text("sources: []\n", encoding="utf-8")
        runs = [run_once(db_url, config) for _ in range(args.repeat)]
    result = {
        "changes": args.changes,
        "evidence_rows": args.changes * args.evidence,
        "seconds": round(statistics.median(r[0] for r in runs), 2),
        "cpu_seconds": round(statistics.median(r[1] for r in runs), 2),
        "peak_rss_mb": max(r[2] for r in runs),
        "output_mb": round(runs[0][3] / 1e6, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"monitor changes --all --format json, {result['changes']} changes, "
        f"{result['evidence_rows']} evidence rows: {result['seconds']} s wall, "
        f"{result['cpu_seconds']} s CPU (medians of {args.repeat}), "
        f"peak RSS {result['peak_rss_mb']} MB, {result['output_mb']} MB out"
    )


if __name__ == "__main__":
    main()
