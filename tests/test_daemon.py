"""`monitor once / run / status / try`: the CLI and the daemon as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from monitor.cli import cli
from monitor.daemon import LogfmtFormatter
from monitor.daemonlock import DaemonAlreadyRunning, DaemonLock
from monitor.dbhealth import LOCK_KEY
from monitor.store.db import make_engine, session_factory
from monitor.store.models import ItemRow, SourceRow, StateRow
from tests.httpserver import LocalServer, Reply, Request

FIXTURES = Path(__file__).parent / "fixtures_fetch"
RSS = {"Content-Type": "application/rss+xml"}
ROOT = Path(__file__).resolve().parent.parent


def write_config(path: Path, server: LocalServer, extra: str = "") -> Path:
    path.write_text(
        f"""defaults:
  retries: 0
  read_timeout: 2
sources:
  - name: qwen-blog
    kind: feed
    url: {server.url("/rss")}
  - name: deepseek-releases
    kind: feed
    url: {server.url("/atom")}
  - name: dead
    kind: feed
    url: {server.url("/missing")}
{extra}""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def served(http_server: LocalServer) -> LocalServer:
    http_server.route("/rss", Reply(body=(FIXTURES / "rss2.xml").read_bytes(), headers=RSS))
    atom = (FIXTURES / "atom.xml").read_bytes()

    def atom_handler(req: Request) -> Reply:
        if req.headers.get("If-None-Match") == '"a1"':
            return Reply(status=304, headers={"ETag": '"a1"'})
        return Reply(body=atom, headers={"Content-Type": "application/atom+xml", "ETag": '"a1"'})

    http_server.route("/atom", atom_handler)
    return http_server


def invoke(config: Path, db_url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def count_items(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(ItemRow)) or 0


def test_once_prints_a_line_per_source_and_exits_0_when_sources_fail(
    tmp_path: Path, served: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    config = write_config(tmp_path / "sources.yaml", served)
    code, out, err = invoke(config, db_url, "once")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:3] == [
        "qwen-blog: fetched, 2 new items",
        "deepseek-releases: fetched, 2 new items",
        f"dead: failed: HTTP 404 Not Found ({served.url('/missing')})",
    ]
    # the summary: sources ok/failed, new items, changes, alerts (no channel configured)
    assert lines[3] == "sources: 2 ok, 1 failed, 0 skipped; 4 new items"
    changes = re.fullmatch(
        r"changes: (\d+) \((\d+) new, (\d+) live\) from 4 items processed"
        r"(?:; (\d+) backfill \(no alerts\))?",
        lines[4],
    )
    assert changes and int(changes[1]) == int(changes[2]) + int(changes[3])
    assert int(changes[4] or 0) == int(changes[1])  # a first pass: every change is backfill
    assert lines[5] == "alerts: 0 queued, 0 sent, 0 to retry, 0 failed"
    assert len(lines) == 6
    assert "Traceback" not in err and "fetching" not in err  # no progress off a terminal
    code, out, _ = invoke(config, db_url, "once")
    assert out.splitlines()[0].startswith("qwen-blog: skipped: not due until")
    assert "sources: 0 ok, 0 failed, 3 skipped; 0 new items" in out.splitlines()
    code, out, _ = invoke(config, db_url, "once", "--source", "deepseek-releases")
    assert out.splitlines()[:2] == [
        "deepseek-releases: not modified",
        "sources: 1 ok, 0 failed, 0 skipped; 0 new items",
    ]
    assert served.requests[-1].headers["If-None-Match"] == '"a1"'
    assert count_items(fresh_db) == 4


def test_once_with_a_bad_config_exits_2_with_file_line_messages(
    tmp_path: Path, db_url: str, fresh_db: Engine
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(
        "sources:\n"
        "  - name: a\n    kind: rss2\n    url: http://127.0.0.1:1/x\n"
        "  - name: b\n    kind: feed\n    url: ftp://nope\n    every: 5x\n",
        encoding="utf-8",
    )
    # As a real process: exit code, stderr lines, no traceback.
    proc = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", db_url, "once"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) >= 3
    assert all(re.match(rf"{re.escape(str(config))}:\d+: ", line) for line in lines), lines
    assert any(line.startswith(f"{config}:3: ") and "rss2" in line for line in lines)
    assert any("5x" in line for line in lines)


def test_once_on_an_uninitialised_database_exits_3(
    tmp_path: Path, served: LocalServer, empty_db_url: str
) -> None:
    config = write_config(tmp_path / "sources.yaml", served)
    code, _, err = invoke(config, empty_db_url, "once")
    assert code == 3 and "monitor init" in err


def test_once_unknown_source_exits_2(
    tmp_path: Path, served: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    config = write_config(tmp_path / "sources.yaml", served)
    code, _, err = invoke(config, db_url, "once", "--source", "nope")
    assert code == 2 and "nope" in err


def test_status_plain_and_json(
    tmp_path: Path, served: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    config = write_config(tmp_path / "sources.yaml", served)
    code, out, _ = invoke(config, db_url, "status")
    assert code == 0 and "qwen-blog" in out and "never" in out
    invoke(config, db_url, "once")
    code, out, _ = invoke(config, db_url, "status", "--json")
    data = {s["name"]: s for s in json.loads(out)["sources"]}
    assert data["qwen-blog"]["items"] == 2 and data["qwen-blog"]["consecutive_failures"] == 0
    assert data["qwen-blog"]["last_success_at"] and data["qwen-blog"]["next_due_at"]
    assert data["dead"]["consecutive_failures"] == 1 and "404" in data["dead"]["last_error"]
    assert data["dead"]["failing_since"] and data["dead"]["last_success_at"] is None
    code, out, _ = invoke(config, db_url, "status")
    dead_line = next(line for line in out.splitlines() if line.startswith("dead"))
    assert "HTTP 404" in dead_line and "never" in dead_line


def test_try_a_name_and_a_url_stores_nothing(
    tmp_path: Path, served: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    config = write_config(tmp_path / "sources.yaml", served)
    code, out, _ = invoke(config, db_url, "try", "qwen-blog")
    assert code == 0
    assert out.splitlines()[0].startswith("qwen-blog: HTTP 200")
    assert "- Qwen3-Max released" in out and "Mexico" in out
    code, out, _ = invoke(config, db_url, "try", served.url("/atom"))
    assert code == 0 and "- DeepSeek-V3.2" in out and "published: 2025-11-02" in out
    code, _, err = invoke(config, db_url, "try", served.url("/missing"))
    assert code == 1 and "404" in err and "Traceback" not in err
    code, _, err = invoke(config, db_url, "try", served.url("/rss"), "--kind", "html")
    assert code == 1 and "item" in err
    assert count_items(fresh_db) == 0


def test_logfmt_lines() -> None:
    import logging

    record = logging.LogRecord(
        "monitor.daemon", logging.INFO, "", 0, "fetch source=%s", ("x",), None
    )
    record.created = 1795881600.0  # 2026-11-28T16:00:00Z
    assert LogfmtFormatter().format(record) == "2026-11-28T16:00:00Z INFO fetch source=x"


def test_logfmt_error_line_says_why_on_one_line() -> None:
    """A failed job logs the exception's type and its message's first line, not just the
    type (``exc=NotifyError`` alone does not say which file is wrong)."""
    import logging
    import sys

    from monitor.errors import NotifyError

    try:
        raise NotifyError("alerts/apprise.yml: not a valid Apprise YAML config\n[detail]")
    except NotifyError:
        info = sys.exc_info()
    record = logging.LogRecord(
        "monitor.daemon", logging.ERROR, "", 0, "deliver_due failed", (), info
    )
    record.created = 1795881600.0
    assert LogfmtFormatter().format(record) == (
        "2026-11-28T16:00:00Z ERROR deliver_due failed exc=NotifyError "
        'error="alerts/apprise.yml: not a valid Apprise YAML config"'
    )


def test_database_row_lock_refuses_a_second_holder(fresh_db: Engine) -> None:
    """The lock used for non-SQLite URLs: a fresh heartbeat from another pid refuses."""
    sessions = session_factory(fresh_db)
    first = DaemonLock(fresh_db, sessions)
    first.lock_path = None
    first.acquire()
    second = DaemonLock(fresh_db, sessions)
    second.lock_path = None
    second._identity = lambda: {"pid": 1, "host": "elsewhere"}  # type: ignore[method-assign]
    with pytest.raises(DaemonAlreadyRunning, match="already running"):
        second.acquire()
    first.release()
    second.acquire()  # released: the next one may start
    second.release()


# --- the daemon as a real process ------------------------------------------------------------


@pytest.fixture
def daemon_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    env.pop("MONITOR_NOTIFY_URLS", None)
    env["PYTHONPATH"] = str(ROOT)
    yield env


def start_daemon(
    config: Path, db_url: str, env: dict[str, str], cwd: Path
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", db_url, "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def lock_holder(engine: Engine) -> str | None:
    """The pid the daemon lock names: the lock file next to a SQLite file, else the state row."""
    if engine.url.get_backend_name() == "sqlite":
        assert engine.url.database
        lock_file = Path(engine.url.database + ".lock")
        return lock_file.read_text().strip() if lock_file.exists() else None
    with session_factory(engine)() as session:
        row = session.get(StateRow, LOCK_KEY)
        return str(json.loads(row.value)["pid"]) if row is not None else None


def wait_for(predicate: object, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_run_stores_items_refuses_a_second_daemon_and_exits_0_on_sigterm(
    tmp_path: Path, served: LocalServer, fresh_db: Engine, db_url: str, daemon_env: dict[str, str]
) -> None:
    config = write_config(tmp_path / "sources.yaml", served)
    daemon = start_daemon(config, db_url, daemon_env, tmp_path)
    try:
        assert wait_for(lambda: count_items(fresh_db) >= 4, 30), "daemon stored nothing"
        assert wait_for(lambda: served.counts.get("/missing"), 10)
        # A second daemon on the same database refuses, with one clear line and exit 1.
        second = start_daemon(config, db_url, daemon_env, tmp_path)
        _, err = second.communicate(timeout=30)
        assert second.returncode == 1
        assert "already running" in err and str(daemon.pid) in err
        assert "Traceback" not in err
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=20)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert daemon.returncode == 0, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert any(" INFO fetch source=qwen-blog status=fetched new=2 " in line for line in lines)
    assert any("source=dead status=failed" in line for line in lines)
    assert any("daemon stopped" in line for line in lines)
    with session_factory(fresh_db)() as session:
        dead = session.scalars(select(SourceRow).where(SourceRow.name == "dead")).one()
        assert dead.consecutive_failures == 1 and dead.next_due_at is not None
    # The lock went with the process: a new daemon starts (and stops) fine.
    again = start_daemon(config, db_url, daemon_env, tmp_path)
    try:
        assert wait_for(lambda: lock_holder(fresh_db) == str(again.pid), 30)
        again.send_signal(signal.SIGINT)
        _, err = again.communicate(timeout=20)
    finally:
        if again.poll() is None:
            again.kill()
            again.communicate()
    assert again.returncode == 0, err
    assert "already running" not in err


def test_sigterm_cuts_a_hung_fetch_within_the_grace(
    tmp_path: Path,
    http_server: LocalServer,
    fresh_db: Engine,
    db_url: str,
    daemon_env: dict[str, str],
) -> None:
    http_server.route("/hang", Reply(body=b"never", delay=60))
    config = tmp_path / "sources.yaml"
    config.write_text(
        f"defaults:\n  read_timeout: 120\nsources:\n"
        f"  - name: hung\n    kind: feed\n    url: {http_server.url('/hang')}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", db_url, "run",
         "--grace", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=daemon_env,
        cwd=tmp_path,
    )  # fmt: skip
    try:
        assert wait_for(lambda: http_server.counts.get("/hang"), 30)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)  # far below the 120 s read timeout
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "cutting in-flight requests" in err
    with session_factory(fresh_db)() as session:
        hung = session.scalars(select(SourceRow).where(SourceRow.name == "hung")).one()
        # Cut by the shutdown, not by the source: no failure recorded against it.
        assert hung.consecutive_failures == 0 and hung.last_error is None


@pytest.mark.sqlite_only("the daemon lock file next to the database file")
def test_make_engine_lock_path_is_next_to_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x' / 'monitor.db'}")
    lock = DaemonLock(engine, session_factory(engine))
    assert lock.lock_path == (tmp_path / "x" / "monitor.db.lock").resolve()


@pytest.mark.sqlite_only("the daemon lock file next to the database file")
def test_run_with_an_unusable_lock_file_is_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    (tmp_path / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["--db", db, "init"]).exit_code == 0
    (tmp_path / "monitor.db.lock").mkdir()  # stands for a folder the daemon cannot write to
    result = CliRunner().invoke(
        cli, ["--config", str(tmp_path / "sources.yaml"), "--db", db, "run"]
    )
    assert result.exit_code == 3, result.output
    assert result.output.strip() == (
        f"error: cannot open the daemon lock file {tmp_path / 'monitor.db.lock'}: Is a directory"
    )


@pytest.mark.parametrize(
    "args",
    [["try", "x", "--limit", "-1"], ["try", "x", "--text-chars", "-5"], ["run", "--grace", "-1"]],
)
def test_negative_counts_and_grace_are_usage_errors(args: list[str]) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "is not in the range x>=0" in result.output


def test_once_shows_progress_on_a_terminal_only(
    tmp_path: Path, served: LocalServer, fresh_db: Engine, db_url: str
) -> None:
    """stderr a pseudo-terminal: a progress display there; stdout (a pipe) stays plain."""
    import pty
    import threading

    config = write_config(tmp_path / "sources.yaml", served)
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.update({"TERM": "xterm", "COLUMNS": "100"})
    shown: list[bytes] = []

    def drain() -> None:  # read as it comes, or a full pty buffer would block the child
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the writing side is closed and drained
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--db", db_url, "once"],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        os.close(follower)
        stdout, _ = proc.communicate(timeout=60)
        reader.join(timeout=10)
    finally:
        os.close(leader)
    assert proc.returncode == 0
    text = b"".join(shown).decode("utf-8", "replace")
    assert "fetching sources" in text or "fetched " in text, text
    assert "\x1b" not in stdout
    assert "sources: 2 ok, 1 failed, 0 skipped; 4 new items" in stdout.splitlines()


def test_skipped_polls_are_one_line_a_minute_not_one_apscheduler_warning_each(
    fresh_db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """A poll still running at its next due time is skipped by APScheduler, which warns
    once a skip in its own format; the soak's overloaded daemon wrote 950 such lines. The
    daemon counts them and says them on one logfmt line (from its minutely job)."""
    import io
    import logging
    import threading

    from monitor.logs import setup_logging

    stream = io.StringIO()
    loggers = [logging.getLogger("monitor"), logging.getLogger("apscheduler")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    setup_logging(stream=stream)
    release = threading.Event()
    try:
        said = _run_skipping_scheduler(fresh_db, stream, release)
    finally:
        for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
            lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate
    lines = said.splitlines()
    assert len([line for line in lines if "polls skipped=" in line]) == 1, said
    assert re.search(r" WARNING polls skipped=([3-9]|\d\d+) ", said), said
    assert "maximum number of running instances" not in said
    assert not [r for r in caplog.records if r.name.startswith("apscheduler")]


def _run_skipping_scheduler(engine: Engine, stream: Any, release: Any) -> str:
    from apscheduler.events import EVENT_JOB_MAX_INSTANCES
    from apscheduler.schedulers.background import BackgroundScheduler

    from monitor.app import App
    from monitor.config import Config
    from monitor.daemon import Daemon

    with App(config=Config(), engine=engine) as app:
        daemon = Daemon(app)
        scheduler = BackgroundScheduler(job_defaults={"max_instances": 1, "coalesce": True})
        scheduler.add_listener(daemon.poll_skipped, EVENT_JOB_MAX_INSTANCES)
        scheduler.add_job(release.wait, "interval", seconds=0.2, args=[5])
        scheduler.start()
        try:
            assert wait_for(lambda: daemon.skipped_polls >= 3, 10)
        finally:
            release.set()
            scheduler.shutdown(wait=True)
        daemon.report_skipped_polls()
        said = stream.getvalue()
        daemon.report_skipped_polls()  # nothing new: nothing more said
        assert stream.getvalue() == said
    return str(said)


def test_the_daemons_polls_share_one_writer_and_start_no_threads(
    fresh_db: Engine, http_server: LocalServer
) -> None:
    """Each poll job stores through the daemon's one BatchWriter: a one-source pass per job
    started a writer thread and a pool thread for every poll (4,000 threads a minute for
    2,000 sources polled every minute)."""
    import threading

    from monitor.app import App
    from monitor.config import parse_config
    from monitor.daemon import Daemon

    lines = ["defaults:", "  retries: 0", "sources:"]
    for n in range(12):
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>f</title>'
            f"<item><title>Story {n}</title><link>https://example.org/{n}</link></item>"
            "</channel></rss>"
        ).encode()
        http_server.route(f"/feed-{n}", Reply(body=feed, headers=RSS, delay=0.3))
        lines += [
            f"  - name: feed-{n}",
            "    kind: feed",
            f"    url: {http_server.url(f'/feed-{n}')}",
        ]
    config = parse_config("\n".join(lines) + "\n")
    writers: set[int] = set()
    pass_threads: set[int] = set()
    with App(config=config, engine=fresh_db) as app:
        daemon = Daemon(app, grace=2.0)
        daemon.start()
        try:
            ends = time.monotonic() + 10  # the 12 first polls start at once
            while time.monotonic() < ends and count_items(fresh_db) < 12:
                for thread in threading.enumerate():
                    if thread.name == "db-writer":
                        writers.add(thread.ident or 0)
                    elif thread.name.startswith("poll_"):
                        pass_threads.add(thread.ident or 0)
                time.sleep(0.02)
        finally:
            daemon.stop()
        stored = count_items(fresh_db)
    assert len(http_server.requests) == 12
    assert stored == 12
    assert len(writers) == 1 and not pass_threads, (writers, pass_threads)
