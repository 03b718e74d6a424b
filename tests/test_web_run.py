"""`monitor run --web`: the desk served from the daemon's process, stopped with it; a
public bind without a token refused before anything starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import url_string


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_WEB_TOKEN"}
    env.pop("MONITOR_NOTIFY_URLS", None)
    return env


@pytest.mark.sqlite_only
def test_run_web_serves_the_desk_and_stops_with_the_daemon(fresh_db, tmp_path: Path) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    port = _free_port()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db",
         url_string(fresh_db.url), "run", "--web", f"127.0.0.1:{port}"],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    try:
        health = None
        for _ in range(150):
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert daemon.poll() is None, daemon.communicate()
                time.sleep(0.1)
        assert health is not None and health.status_code == 200
        assert health.json()["database"] == "ok"
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200 and "Change log" in page.text
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, err
    assert f"monitor web desk on http://127.0.0.1:{port}/" in err
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_run_web_on_a_public_address_needs_a_token(tmp_path: Path) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text("sources: []\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db",
         f"sqlite:///{tmp_path / 'never.db'}", "run", "--web", "0.0.0.0:8350"],
        env=_env(), capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "MONITOR_WEB_TOKEN" in result.stderr
    assert not (tmp_path / "never.db").exists()
