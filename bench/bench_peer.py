"""Side by side with urlwatch, from the command line, as a user runs each tool.

    .venv/bin/python bench/bench_peer.py                       # 500 sources, 50 hosts
    .venv/bin/python bench/bench_peer.py --sources 2000 --hosts 100

The feeds of bench_fetch.py (RSS 2.0, 20 items each, ETag and Last-Modified, 304 on a
matching conditional GET, every response delayed 100 ms) are served by a separate process
on 127.0.0.1 .. 127.0.0.N. Each tool runs as a new process per pass, twice: a first pass
where everything is new, then a pass where nothing changed.

- urlwatch (the Python peer, installed into this bench's own venv under bench/out/, not
  into monitor's): one `url` job per feed; stores each page and diffs it, no parsing.
- monitor: `monitor once --all` after `monitor init` (timed apart): fetch, parse, store,
  extract, diff, change log (alerts: none configured).

Reported: wall time of each pass, requests/s, and the peak RSS of each tool's process
(os.wait4). Nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fetch import source_url, write_sources

ROOT = Path(__file__).resolve().parent.parent
PEER_VENV = ROOT / "bench" / "out" / "peer-venv"
URLWATCH_VERSION = "2.29"


def ensure_urlwatch() -> Path:
    exe = PEER_VENV / "bin" / "urlwatch"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(PEER_VENV / "bin" / "pip"), "install", "-q", f"urlwatch=={URLWATCH_VERSION}"],
            check=True,
        )
    return exe


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one process; its output is discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0,):
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        raise SystemExit(f"{cmd[0]} failed ({status}):\n{err[-2000:]}")
    if proc.stderr:
        proc.stderr.close()
    return wall, usage.ru_maxrss / 1024


def run_urlwatch(urls: list[str], work: Path) -> list[tuple[float, float]]:
    exe = ensure_urlwatch()
    jobs = work / "urls.yaml"
    jobs.write_text("".join(f"---\nname: s{i}\nurl: {u}\n" for i, u in enumerate(urls)))
    config = work / "urlwatch.yaml"
    config.write_text(
        "display: {new: true, error: true, unchanged: false, empty-diff: false}\n"
        "report:\n  stdout: {enabled: true, color: false}\n"
        "  text: {details: true, footer: false, line_length: 75, minimal: false}\n"
    )
    cmd = [
        str(exe), "--urls", str(jobs), "--config", str(config),
        "--cache", str(work / "urlwatch-cache.db"),
    ]  # fmt: skip
    return [timed(cmd, work) for _ in range(2)]


def run_monitor(urls: list[str], work: Path, concurrency: int, per_host: int) -> dict[str, object]:
    config = work / "sources.yaml"
    write_sources(config, urls, concurrency, per_host)
    monitor = str(Path(sys.executable).with_name("monitor"))
    base = [monitor, "--config", str(config), "--db", f"sqlite:///{work / 'monitor.db'}"]
    env = {**os.environ, "MONITOR_NOTIFY_URLS": ""}
    init = timed([*base, "init", "--baseline", str(ROOT / "storage" / "baseline.yaml")], work, env)
    passes = [timed([*base, "once", "--all"], work, env) for _ in range(2)]
    return {"init": init, "passes": passes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument("--concurrency", type=int, default=100, help="monitor's fetch workers")
    parser.add_argument("--per-host", type=int, default=2)
    args = parser.parse_args()

    server = subprocess.Popen(
        [
            sys.executable, str(ROOT / "bench" / "bench_fetch.py"), "--serve",
            "--hosts", str(args.hosts), "--sources", str(args.sources),
            "--items", str(args.items), "--delay", str(args.delay),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        urls = [source_url(port, i, args.hosts) for i in range(args.sources)]
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "uw").mkdir()
            (Path(tmp) / "mo").mkdir()
            peer = run_urlwatch(urls, Path(tmp) / "uw")
            ours = run_monitor(urls, Path(tmp) / "mo", args.concurrency, args.per_host)
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)

    n = args.sources
    print(
        f"{n} RSS sources x {args.items} items on 127.0.0.1..127.0.0.{args.hosts}, "
        f"{args.delay * 1000:.0f} ms latency, {os.cpu_count()} CPUs; monitor concurrency "
        f"{args.concurrency}, per_host {args.per_host}; a new process per pass"
    )
    print()
    print("| tool | first pass (all new) | no-change pass (all 304) | peak RSS |")
    print("|---|---:|---:|---:|")
    (uw1, uwm1), (uw2, uwm2) = peer
    print(
        f"| urlwatch {URLWATCH_VERSION} (stores each page, no parsing) | {uw1:.2f} s "
        f"({n / uw1:.0f} req/s) | {uw2:.2f} s ({n / uw2:.0f} req/s) | {max(uwm1, uwm2):.0f} MB |"
    )
    (mo1, mom1), (mo2, mom2) = ours["passes"]  # type: ignore[misc]
    print(
        f"| monitor `once --all` (parse, store, extract, diff) | {mo1:.2f} s "
        f"({n / mo1:.0f} req/s) | {mo2:.2f} s ({n / mo2:.0f} req/s) | {max(mom1, mom2):.0f} MB |"
    )
    init_wall, _ = ours["init"]  # type: ignore[misc]
    print()
    print(
        f"monitor init (once, not in the passes): {init_wall:.2f} s. "
        f"Floor: {n} requests x {args.delay * 1000:.0f} ms at "
        f"{min(args.concurrency, args.hosts * args.per_host)} in flight = "
        f"{n * args.delay / min(args.concurrency, args.hosts * args.per_host):.2f} s."
    )


if __name__ == "__main__":
    main()
