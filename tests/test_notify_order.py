"""Issue 9 item 10: when a channel comes back after an outage, its pending alerts go out
in change order (a real json:// channel on a loopback server that refuses, then accepts)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from monitor import tasks
from monitor.store.db import session_factory
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

T0 = datetime(2025, 3, 10, 12, 0)
STORIES = [  # (item title, what its alert's title names)
    ("Alibaba plans Mexico region", "Mexico"),
    ("Alibaba plans Riyadh region", "Saudi Arabia"),
    ("Alibaba releases Qwen3", "Qwen3"),
]


def test_a_channel_back_from_an_outage_gets_its_alerts_in_change_order(
    fresh_db: Engine, tmp_path: Path, http_server: LocalServer
) -> None:
    up = {"now": False}
    received: list[str] = []

    def channel(req: Request) -> Reply:
        if not up["now"]:
            return Reply(status=503)
        received.append(json.loads(req.body)["title"])
        return Reply(status=200)

    http_server.route("/hook", channel)
    config = make_config(
        tmp_path,
        apprise_file(json_channel(http_server.url("/hook"))),
        retry={"max_attempts": 8, "backoff": "1m", "max_backoff": "10m"},
    )
    sessions = session_factory(fresh_db)
    for day, (title, _) in enumerate(STORIES, start=1):
        store(sessions, [item(title, url=f"https://a.test/{day}", published=f"2025-03-0{day}")])
    app = make_app(fresh_db, config, RuleExtractor(DEFAULT_RULES))
    tasks.process_pending(app, now=T0)

    # Down: the first alert is refused and backs off; the others are not even tried.
    assert tasks.deliver_due(app, now=T0).sent == 0
    assert tasks.deliver_due(app, now=T0 + timedelta(minutes=1)).sent == 0
    # Back, while the first alert still waits out its backoff (2 minutes now): the later
    # ones must not overtake it.
    up["now"] = True
    tasks.deliver_due(app, now=T0 + timedelta(minutes=2))
    tasks.deliver_due(app, now=T0 + timedelta(minutes=10))
    assert len(received) == 3, received
    assert [next(c for t, c in STORIES if c in r) for r in received] == [c for _, c in STORIES]
