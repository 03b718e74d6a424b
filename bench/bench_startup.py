"""What a command costs from the command line: modules imported, CPU seconds, wall seconds.

    .venv/bin/python bench/bench_startup.py                      # 500 sources, 50 hosts
    .venv/bin/python bench/bench_startup.py --code /tmp/old      # another checkout's code

Runs `monitor --help`, `monitor status` and a no-change `monitor once --all` (every feed
answers 304 to its conditional GET) each as a new process, as a user runs them, several
times, and prints the median of each figure. The feeds are bench_fetch.py's, served by a
separate process on 127.0.0.1 .. 127.0.0.N. CPU time (user + system, from os.wait4) is the
figure to compare on a shared machine: wall time there depends on the other processes.
The module count is ``len(sys.modules)`` at exit. ``--code DIR`` puts DIR first on
PYTHONPATH, so an older checkout (``git worktree add /tmp/old <commit>``) is measured with
the same interpreter and libraries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fetch import source_url

ROOT = Path(__file__).resolve().parent.parent

# `monitor ARGS...`, then the number of imported modules into $MODULES_OUT.
WRAPPER = """
import atexit, os, sys
def dump():
    with open(os.environ["MODULES_OUT"], "w") as out:
        out.write(str(len(sys.modules)))
atexit.register(dump)
sys.argv[0] = "monitor"
from monitor.cli import main
main()
"""


def measure(args: list[str], work: Path, env: dict[str, str]) -> tuple[int, float, float]:
    """(modules imported, CPU seconds, wall seconds) of one `monitor ARGS` process."""
    out = work / "modules.txt"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, *args],
        cwd=work,
        env={**env, "MODULES_OUT": str(out)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"monitor {' '.join(args)} failed:\n{err[-2000:]}")
    return int(out.read_text()), usage.ru_utime + usage.ru_stime, wall


def write_config(work: Path, urls: list[str]) -> Path:
    lines = ["defaults:", "  concurrency: 100", "  per_host: 2", "  retries: 0", "sources:"]
    for i, url in enumerate(urls):
        lines += [f"  - name: s{i}", "    kind: feed", f"    url: {url}"]
    config = work / "sources.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.1, help="server latency, seconds")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--code", type=Path, help="measure this checkout's monitor package")
    args = parser.parse_args()

    env = {**os.environ, "MONITOR_NOTIFY_URLS": ""}
    if args.code:
        env["PYTHONPATH"] = os.pathsep.join([str(args.code.resolve()), env.get("PYTHONPATH", "")])
    server = subprocess.Popen(
        [
            sys.executable, str(ROOT / "bench" / "bench_fetch.py"), "--serve",
            "--hosts", str(args.hosts), "--sources", str(args.sources),
            "--items", "20", "--delay", str(args.delay),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    rows = []
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        urls = [source_url(port, i, args.hosts) for i in range(args.sources)]
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            config = write_config(work, urls)
            base = ["--config", str(config), "--db", f"sqlite:///{work / 'monitor.db'}"]
            baseline = str(ROOT / "storage" / "baseline.yaml")
            measure([*base, "init", "--baseline", baseline], work, env)
            measure([*base, "once", "--all"], work, env)  # the first pass: everything new
            commands = {
                "monitor --help": ["--help"],
                "monitor status": [*base, "status"],
                f"monitor once --all, no change ({args.sources} sources, all 304)": [
                    *base, "once", "--all",
                ],
            }  # fmt: skip
            for label, command in commands.items():
                runs = [measure(command, work, env) for _ in range(args.repeat)]
                modules = statistics.median(r[0] for r in runs)
                cpu = statistics.median(r[1] for r in runs)
                wall = statistics.median(r[2] for r in runs)
                rows.append((label, modules, cpu, wall))
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)

    code = args.code or ROOT
    print(
        f"code: {code}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"median of {args.repeat} runs, a new process each"
    )
    print()
    print("| command | modules imported | CPU (user+sys) | wall |")
    print("|---|---:|---:|---:|")
    for label, modules, cpu, wall in rows:
        print(f"| `{label}` | {modules:.0f} | {cpu:.2f} s | {wall:.2f} s |")


if __name__ == "__main__":
    main()
