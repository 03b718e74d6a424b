"""The daemon outlives its database (issue 9 item 1): locked, read-only or full, it keeps
polling, says so once a minute, shows it in `status`, resumes by itself and loses nothing.

The real daemon runs as a subprocess on a real SQLite file: locked by a second connection
(``BEGIN EXCLUSIVE``), or refusing writes by injection at the SQL layer
(``tests/faultydb.py``: ``chattr +i`` needs root)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import make_url

from monitor.cli import cli
from monitor.dbhealth import DatabaseWatch
from monitor.store.db import session_factory, utcnow
from monitor.store.models import DeliveryRow, ItemRow, SourceRow
from tests.faultydb import install
from tests.httpserver import LocalServer, Reply, Request
from tests.test_daemon import ROOT, wait_for
from tests.web_support import serving

pytestmark = pytest.mark.sqlite_only("a SQLite file locked or refusing writes")

FEEDS = ("alpha", "beta", "gamma")


class Feeds:
    """Three RSS feeds on the test server; ``publish()`` adds one item to each."""

    def __init__(self, server: LocalServer) -> None:
        self.server = server
        self.items: dict[str, list[int]] = {name: [1, 2] for name in FEEDS}
        for name in FEEDS:
            server.route(f"/{name}", self._handler(name))

    def _handler(self, name: str) -> object:
        def handle(_req: Request) -> Reply:
            entries = "".join(
                f"<item><title>{name} story {n}</title><link>http://news.test/{name}/{n}</link>"
                f"<guid>{name}-{n}</guid><description>Story {n} of {name}.</description></item>"
                for n in self.items[name]
            )
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>{name}</title>'
            body += f"{entries}</channel></rss>"
            return Reply(body=body.encode(), headers={"Content-Type": "application/rss+xml"})

        return handle

    def publish(self) -> None:
        for numbers in self.items.values():
            numbers.append(max(numbers) + 1)

    @property
    def total(self) -> int:
        return sum(len(n) for n in self.items.values())


def write_config(tmp_path: Path, server: LocalServer, hook: str) -> Path:
    apprise = tmp_path / "apprise.yml"
    apprise.write_text(f"version: 1\nurls:\n  - {hook.replace('http://', 'json://')}\n")
    sources = "".join(
        f"  - name: {name}\n    kind: feed\n    url: {server.url('/' + name)}\n" for name in FEEDS
    )
    config = tmp_path / "sources.yaml"
    config.write_text(
        "defaults:\n  retries: 0\n  every: 1m\n"
        f"alerts:\n  apprise_config: {apprise}\n  database_down_after: 2s\n"
        f"sources:\n{sources}",
        encoding="utf-8",
    )
    return config


class Daemon:
    """The daemon as a subprocess, its stderr collected as it comes."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env, cwd=cwd
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def having(self, *parts: str) -> list[str]:
        return [line for line in list(self.lines) if all(p in line for p in parts)]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return self.proc.returncode


@pytest.fixture
def setup(
    tmp_path: Path, http_server: LocalServer, db_url: str, fresh_db: Engine
) -> Iterator[tuple[Feeds, Path, str]]:
    feeds = Feeds(http_server)
    http_server.route("/hook", Reply(status=200))
    config = write_config(tmp_path, http_server, http_server.url("/hook"))
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, "once", "--all"])
    assert result.exit_code == 0, result.output
    assert count_items(fresh_db) == feeds.total == 6
    with session_factory(fresh_db).begin() as session:  # due now, not in a minute
        session.execute(update(SourceRow).values(next_due_at=None))
    yield feeds, config, db_url


def count_items(engine: Engine) -> int:
    with session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(ItemRow)) or 0


def guids(engine: Engine) -> list[str]:
    with session_factory(engine)() as session:
        # GUIDs are stored resolved against the feed's URL: compare their last part
        return sorted(
            (g or "").rsplit("/", 1)[-1] for g in session.scalars(select(ItemRow.guid_key))
        )


def database_alerts(engine: Engine) -> list[DeliveryRow]:
    with session_factory(engine)() as session:
        return list(session.scalars(select(DeliveryRow).where(DeliveryRow.kind == "database")))


def daemon_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("MONITOR_NOTIFY_URLS", None)
    env["PYTHONPATH"] = str(ROOT)
    return env


def status_text(config: Path, db_url: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, "status"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_locked_database_fails_each_pass_once_then_polling_resumes_and_nothing_is_lost(
    setup: tuple[Feeds, Path, str], fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    feeds, config, db_url = setup
    feeds.publish()  # three items the daemon fetches while it cannot store them
    path = make_url(db_url).database
    assert path
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the write lock
    locked_at = time.monotonic()
    url = db_url + "?timeout=1"  # a write waits 1 s, not 30 s, for the lock
    argv = [sys.executable, "-m", "monitor", "--config", str(config), "--db", url, "run"]
    daemon = Daemon(argv, daemon_env(), tmp_path)
    try:
        # Each source's pass fails with one clear line...
        assert wait_for(lambda: len(daemon.having("status=failed", "database")) >= 3, 60), (
            daemon.lines
        )
        for name in FEEDS:
            (line,) = daemon.having(f"source={name} status=failed")
            assert "database unavailable: database is locked" in line
        # ... and the outage is one ERROR line, not one a source.
        assert wait_for(lambda: daemon.having(" ERROR database unavailable"), 20)
        status = status_text(config, db_url)
        assert "database unavailable since" in status and "database is locked" in status
        assert f"pid {daemon.proc.pid}" in status
        with serving(fresh_db) as desk:  # the web desk's health check says it too
            health = requests.get(f"{desk}/healthz", timeout=10)
        assert health.status_code == 503 and "database is locked" in health.json()["database"]
        time.sleep(max(0.0, 3 - (time.monotonic() - locked_at)))  # past database_down_after
        holder.execute("COMMIT")
        holder.close()
        # Polling resumes without waiting for the next interval (1 minute away).
        assert wait_for(lambda: count_items(fresh_db) == feeds.total, 30), daemon.lines
        assert wait_for(lambda: daemon.having("database available again"), 10)
        # The outage lasted past alerts.database_down_after: one health alert, sent.
        assert wait_for(lambda: http_server.hits("/hook"), 40), daemon.lines
        assert "database was unavailable" in http_server.hits("/hook")[0].body.decode()
        assert "database unavailable" not in status_text(config, db_url)
    finally:
        code = daemon.stop()
    assert code == 0, daemon.lines
    assert len(daemon.having(" ERROR ")) == 1, daemon.lines
    assert not daemon.having("shutting down")
    assert not daemon.having("Traceback")
    # Nothing lost, nothing doubled.
    expected = sorted(f"{name}-{n}" for name, ns in feeds.items.items() for n in ns)
    assert guids(fresh_db) == expected
    assert len(database_alerts(fresh_db)) == 1


def test_a_read_only_database_keeps_the_daemon_polling_and_it_recovers(
    setup: tuple[Feeds, Path, str], fresh_db: Engine, tmp_path: Path
) -> None:
    feeds, config, db_url = setup
    flag = tmp_path / "read-only"
    flag.write_text("attempt to write a readonly database")
    feeds.publish()
    env = daemon_env() | {"MONITOR_TEST_FAULT_FLAG": str(flag)}
    argv = [sys.executable, "-m", "tests.faultydb", "--config", str(config), "--db", db_url, "run"]
    daemon = Daemon(argv, env, tmp_path)
    try:
        assert wait_for(lambda: len(daemon.having("status=failed", "readonly")) >= 3, 60), (
            daemon.lines
        )
        assert wait_for(lambda: daemon.having(" ERROR database unavailable"), 20)
        assert count_items(fresh_db) == 6
        flag.unlink()  # writable again
        assert wait_for(lambda: count_items(fresh_db) == feeds.total, 30), daemon.lines
        feeds.publish()  # and it goes on: the next poll is scheduled as usual
    finally:
        code = daemon.stop()
    assert code == 0, daemon.lines
    assert not daemon.having("shutting down")
    assert len(set(guids(fresh_db))) == count_items(fresh_db) == 9


def test_once_on_a_full_disk_prints_a_line_per_source(
    setup: tuple[Feeds, Path, str], fresh_db: Engine, tmp_path: Path
) -> None:
    feeds, config, db_url = setup
    feeds.publish()
    flag = tmp_path / "full"
    flag.write_text("database or disk is full")
    from sqlalchemy import event
    from sqlalchemy.engine import Engine as EngineClass

    listener = install(flag)
    try:
        result = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, "once", "--all"])
    finally:
        event.remove(EngineClass, "before_cursor_execute", listener)
    assert "Traceback" not in result.output
    for name in FEEDS:
        assert f"{name}: failed: database unavailable: database or disk is full" in result.stdout
    assert count_items(fresh_db) == 6  # nothing half-stored
    again = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, "once", "--all"])
    assert again.exit_code == 0, again.output
    assert count_items(fresh_db) == feeds.total


def test_the_outage_is_logged_once_a_minute_and_ends_with_the_next_write() -> None:
    watch = DatabaseWatch()
    start = utcnow()
    assert watch.failed("database is locked", start)  # the first failure: log it
    assert not watch.failed("database is locked", start + timedelta(seconds=5))
    assert not watch.failed("database is locked", start + timedelta(seconds=59))
    assert watch.failed("disk full", start + timedelta(seconds=61))
    outage = watch.outage
    assert outage is not None and outage.since == start and outage.error == "disk full"
    ended = watch.succeeded(start + timedelta(seconds=90))
    assert ended is not None and ended.lasted(start) == timedelta(seconds=90)
    assert watch.outage is None and watch.succeeded(start) is None


def test_database_down_after_is_configurable_and_checked(tmp_path: Path) -> None:
    from monitor.config import load_config

    path = tmp_path / "sources.yaml"
    path.write_text("alerts:\n  database_down_after: 30m\nsources: []\n")
    assert load_config(path).alerts.database_down_after == timedelta(minutes=30)
    path.write_text("alerts:\n  database_down_after: soon\nsources: []\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2 and "database_down_after" in result.output
