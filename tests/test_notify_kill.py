"""kill -9 of `monitor run` with alerts pending and one in flight: after a restart every
alert arrives, and only the one in flight may arrive twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, select

from monitor import tasks
from monitor.store.db import session_factory, utcnow
from monitor.store.models import DeliveryRow
from tests.httpserver import LocalServer, Reply, Request
from tests.test_pipeline_support import (
    DEFAULT_RULES,
    RuleExtractor,
    apprise_file,
    item,
    json_channel,
    make_app,
    make_config,
    store,
)

ROOT = Path(__file__).resolve().parent.parent


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _daemon(tmp_path: Path, db_url: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_NOTIFY_URLS"}
    with open(tmp_path / "daemon.log", "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(tmp_path / "sources.yaml"),
                "--db",
                db_url,
                "run",
            ],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def test_sigkill_mid_delivery_loses_nothing_and_doubles_at_most_the_one_in_flight(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    def hook(req: Request) -> Reply:
        # the very first post hangs: the daemon is killed while it is in flight
        return Reply(status=200, delay=30.0 if req.count == 0 else 0.0)

    http_server.route("/hook", hook)
    # rto: Apprise's read timeout, longer than the hang, so the post is still in flight
    apprise_yml = apprise_file(json_channel(http_server.url("/hook?rto=60")))
    config = make_config(tmp_path, apprise_yml)
    (tmp_path / "sources.yaml").write_text(
        "sources: []\nalerts:\n  apprise_config: apprise.yml\n  max_age: none\n"
        "  retry: {in_flight_timeout: 1s, backoff: 1s}\n",
        encoding="utf-8",
    )
    sessions = session_factory(fresh_db)
    store(
        sessions,
        [
            item(
                "Alibaba plans Mexico region",
                url="https://a.test/1",
                published="2025-03-01T00:00:00",
            ),
            item(
                "Alibaba plans Riyadh region",
                url="https://a.test/2",
                published="2025-03-02T00:00:00",
            ),
            item(
                "Huawei Ascend 910C planned",
                url="https://a.test/3",
                published="2025-03-03T00:00:00",
            ),
        ],
    )
    # changes recorded, deliveries committed, nothing sent yet
    tasks.process_pending(make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES)), now=utcnow())
    db_url = fresh_db.url.render_as_string(hide_password=False)

    def states() -> list[str]:
        with sessions() as s:
            return sorted(r.state for r in s.scalars(select(DeliveryRow)))

    assert states() == ["pending"] * 3

    first = _daemon(tmp_path, db_url)
    try:
        _wait(lambda: len(http_server.hits("/hook")) >= 1, 60, "the first delivery to start")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert states() == ["pending", "pending", "sending"]

    second = _daemon(tmp_path, db_url)
    try:
        _wait(lambda: states() == ["sent"] * 3, 60, "every delivery to be sent after restart")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    assert second.returncode == 0, (tmp_path / "daemon.log").read_text()

    titles = [json.loads(h.body)["title"] for h in http_server.hits("/hook")]
    expected = {
        "Alibaba Cloud: new region Mexico (MX)",
        "Alibaba Cloud: new region Saudi Arabia (SA)",
        "Huawei Cloud: new chip Ascend 910C",
    }
    assert set(titles) == expected
    in_flight = titles[0]
    assert titles.count(in_flight) == 2  # re-sent once: it was in flight at the kill
    assert all(titles.count(t) == 1 for t in expected - {in_flight})
