"""One daemon per database, for real (issue 9 item 6): the lock follows the database, not
the spelling of its path, and a daemon that lost its lock stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from monitor.daemonlock import DaemonAlreadyRunning, DaemonLock
from monitor.store.db import make_engine, session_factory
from tests.test_daemon import ROOT, wait_for

pytestmark = pytest.mark.sqlite_only("the lock file beside a SQLite file")


def lock_on(url: str) -> DaemonLock:
    engine = make_engine(url)
    return DaemonLock(engine, session_factory(engine))


def test_a_symlink_or_another_spelling_shares_the_lock(
    tmp_path: Path, db_url: str, fresh_db: Engine
) -> None:
    real = Path(str(make_url(db_url).database))
    link_dir = tmp_path / "elsewhere"
    link_dir.mkdir()
    (link_dir / "other-name.db").symlink_to(real)
    first = lock_on(db_url)
    first.acquire()
    try:
        spellings = [
            f"sqlite:///{link_dir / 'other-name.db'}",  # a symlink, another name and folder
            f"sqlite:///{real.parent}/./../{real.parent.name}/{real.name}",
            f"sqlite:///file:{real}?mode=rw&uri=true",
        ]
        for url in spellings:
            second = lock_on(url)
            with pytest.raises(DaemonAlreadyRunning, match=f"pid {os.getpid()}"):
                second.acquire()
            second.engine.dispose()
    finally:
        first.release()
        first.engine.dispose()


def test_a_daemon_whose_lock_file_was_replaced_stops(
    tmp_path: Path, db_url: str, fresh_db: Engine
) -> None:
    """Someone deletes the lock file and a second daemon starts on a new one: the first
    notices within seconds that the lock it holds no longer guards the database, and
    stops with one line instead of running beside the second."""
    config = tmp_path / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    env = dict(os.environ) | {"PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "monitor", "--config", str(config), "--db", db_url, "run"]
    first = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    lock_file = Path(str(make_url(db_url).database) + ".lock")
    second: subprocess.Popen[str] | None = None
    try:
        assert wait_for(lambda: lock_file.exists() and lock_file.read_text().strip(), 30)
        lock_file.unlink()
        second = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        _, err = first.communicate(timeout=60)
        assert first.returncode == 1, err
        assert "daemon lock" in err and "taken over" in err and "Traceback" not in err
        assert second.poll() is None  # the second one goes on alone
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=30)
