"""`monitor doctor` and the daemon's refusal of a damaged database (issue 9 item 7)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from monitor.cli import cli
from tests.test_daemon import ROOT


def doctor(config: Path, db_url: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", db_url, "doctor"])
    return result.exit_code, result.output


def write_config(tmp_path: Path, apprise: str = "") -> Path:
    channels = tmp_path / "apprise.yml"
    if apprise:
        channels.write_text(f"version: 1\nurls:\n  - {apprise}\n", encoding="utf-8")
    config = tmp_path / "sources.yaml"
    config.write_text(f"alerts:\n  apprise_config: {channels}\nsources: []\n", encoding="utf-8")
    return config


def damage(path: str) -> None:
    """Fill a table over many pages, fold the WAL into the file, then overwrite bytes in
    the middle of it: what a failing disk or a copy taken mid-write leaves."""
    conn = sqlite3.connect(path)
    rows = [(f"filler-{i}", "x" * 300, "2026-01-01 00:00:00") for i in range(3000)]
    conn.executemany("INSERT INTO state (key, value, updated_at) VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = Path(path).stat().st_size
    with open(path, "r+b") as handle:
        handle.seek((size // 4096 // 2) * 4096 + 100)
        handle.write(b"\xff" * 300)


def test_doctor_passes_a_sound_installation(tmp_path: Path, db_url: str, fresh_db: Engine) -> None:
    code, output = doctor(write_config(tmp_path, "json://127.0.0.1:9/hook"), db_url)
    assert code == 0, output
    lines = output.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "ok    database",
        "ok    schema",
        "ok    daemon",
        "ok    config",
        "ok    channels",
        "ok    extractor",
    ]
    assert "not running" in output and "json://127.0.0.1:9" in output
    assert "region linker (" in output  # the shipped weights are found


@pytest.mark.sqlite_only("PRAGMA quick_check on a damaged file")
def test_doctor_and_the_daemon_refuse_a_damaged_database(
    tmp_path: Path, db_url: str, fresh_db: Engine
) -> None:
    config = write_config(tmp_path)
    path = make_url(db_url).database
    assert path
    fresh_db.dispose()
    damage(path)
    code, output = doctor(config, db_url)
    assert code == 1
    assert output.startswith("FAIL  database: damaged: ")
    assert "page" in output and len(output.splitlines()) == 1
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", db_url, "run"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 3, run.stderr
    assert "the database is damaged" in run.stderr and "monitor doctor" in run.stderr
    assert "Traceback" not in run.stderr
    assert "ERROR" not in run.stderr  # refused before scheduling anything


def test_doctor_fails_on_an_old_schema_and_a_bad_channel(tmp_path: Path, empty_db_url: str) -> None:
    config = write_config(tmp_path, "notascheme://nothing")
    code, output = doctor(config, empty_db_url)
    assert code == 1
    assert "FAIL  schema: " in output and "monitor init" in output
    assert "FAIL  channels: " in output
